"""The interactive API page at /schema: Swagger UI served from the pinned swagger-ui-bundle-v2 package.

No CDN (the page works offline and under `script-src 'self'`), and no inline script or style: the page
loads its start-up script and stylesheet from this package, and the script reads the document's URL
from a data attribute.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from litestar.datastructures import CacheControlHeader
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.static_files import create_static_files_router
from litestar.types.composite_types import PathType
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

if TYPE_CHECKING:
    from litestar.connection import Request
    from litestar.router import Router

ASSETS_PATH = "/assets"
_OWN_STATIC = Path(__file__).parent / "static"
# Swagger UI's own files, then ours; the page names each one it loads.
_ASSET_DIRECTORIES: list[PathType] = [Path(str(swagger_ui_path)), _OWN_STATIC]


class LocalSwaggerPlugin(OpenAPIRenderPlugin):
    """Swagger UI (OpenAPI 3.1 capable) whose every script, stylesheet and icon is served by this app."""

    def __init__(self, *, path: str = "/") -> None:
        super().__init__(path=path, favicon="", style="")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        assets = request.app.route_reverse("api-page-assets", file_path="").rstrip("/")
        title = escape(str(openapi_schema["info"]["title"]))
        spec_url = escape(self.get_openapi_json_route(request))
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="stylesheet" href="{assets}/api-page.css">
<script src="{assets}/swagger-ui-bundle.js" defer></script>
<script src="{assets}/api-page.js" defer></script>
</head>
<body>
<div id="swagger-ui" data-spec-url="{spec_url}"></div>
</body>
</html>
""".encode()

    def receive_router(self, router: Router) -> None:
        router.register(
            create_static_files_router(
                path=ASSETS_PATH,
                directories=_ASSET_DIRECTORIES,
                name="api-page-assets",
                include_in_schema=False,
                # The files change only with the pinned package version; a day is a safe client cache.
                cache_control=CacheControlHeader(public=True, max_age=86_400),
            )
        )
