"""The interactive API page at /schema works offline: every asset it loads is served by the app itself."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import httpx


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []
        self.inline_scripts = 0
        self.inline_styles = 0
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            if found.get("src"):
                self.urls.append((tag, found["src"] or ""))
            else:
                self._in_script = True
        elif tag == "link" and found.get("href"):
            self.urls.append((f"link:{found.get('rel')}", found["href"] or ""))
        elif tag == "style":
            self.inline_styles += 1
        if "style" in found or any(name.startswith("on") for name in found):
            self.inline_styles += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts += 1


async def test_api_page_loads_only_local_assets_with_no_inline_code(client: httpx.AsyncClient) -> None:
    response = await client.get("/schema")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "cdn" not in response.text.lower()
    assert "//" not in response.text.replace("<!DOCTYPE", "")
    page = _Assets()
    page.feed(response.text)
    kinds = {kind for kind, _ in page.urls}
    assert {"script", "link:stylesheet", "link:icon"} <= kinds
    # CSP script-src 'self' / style-src 'self' works only without inline code.
    assert page.inline_scripts == 0
    assert page.inline_styles == 0
    expected_type = {"script": "javascript", "link:stylesheet": "text/css", "link:icon": "image/png"}
    for kind, url in page.urls:
        parts = urlsplit(url)
        assert (parts.scheme, parts.netloc) == ("", ""), url
        assert url.startswith("/schema/"), url
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert expected_type[kind] in asset.headers["content-type"], (url, asset.headers["content-type"])
        assert len(asset.content) > 10


async def test_api_page_scripts_start_swagger_ui_on_the_served_document(client: httpx.AsyncClient) -> None:
    page = await client.get("/schema")
    assert 'data-spec-url="/schema/openapi.json"' in page.text
    bundle = await client.get("/schema/assets/swagger-ui-bundle.js")
    assert "SwaggerUIBundle" in bundle.text
    start = await client.get("/schema/assets/api-page.js")
    assert "SwaggerUIBundle(" in start.text
    assert "dataset.specUrl" in start.text
    document = await client.get("/schema/openapi.json")
    assert document.status_code == 200
    assert document.json()["openapi"].startswith("3.1")


async def test_api_page_assets_do_not_serve_paths_outside_their_directories(client: httpx.AsyncClient) -> None:
    for path in ("/schema/assets/../../backend/settings.py", "/schema/assets/%2e%2e/%2e%2e/pyproject.toml"):
        response = await client.get(path)
        assert response.status_code in (400, 404), path
