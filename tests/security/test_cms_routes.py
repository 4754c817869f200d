"""CMS routes carry no patient data: published reads are open; drafts, previews, revisions and writes are for editor tokens only."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar
from litestar.openapi import OpenAPIConfig

from backend.cms.routes import content_router
from tests.cms.pages import create_page, new_slug
from tests.factories import bearer, citizen_token, new_clinician, synthetic_fnr

EDITOR_ROUTES = [
    ("POST", "/content/v1/pages", {"slug": "x", "locale": "nb", "title": "x", "markdown": "x"}),
    ("PUT", "/content/v1/pages/{slug}/draft", {"title": "x", "markdown": "x"}),
    ("POST", "/content/v1/pages/{slug}/publish", None),
    ("POST", "/content/v1/pages/{slug}/unpublish", None),
    ("GET", "/content/v1/pages/{slug}/revisions", None),
    ("POST", "/content/v1/pages/{slug}/revisions/1/restore", None),
    ("GET", "/content/v1/pages/{slug}/preview", None),
]


@pytest.mark.parametrize(("method", "path", "body"), EDITOR_ROUTES, ids=[f"{m} {p}" for m, p, _ in EDITOR_ROUTES])
async def test_editor_route_refuses_other_tokens_and_no_token(
    client: httpx.AsyncClient, app: Litestar, method: str, path: str, body: object
) -> None:
    page = await create_page(client, app)
    url = path.format(slug=page["slug"])
    citizen = bearer(citizen_token(app, synthetic_fnr()))
    clinician = new_clinician(app).headers
    for who, headers, status in (("citizen", citizen, 403), ("clinician", clinician, 403), ("nobody", {}, 401)):
        response = await client.request(method, url, json=body, headers={**headers, "If-Match": page["etag"]})
        assert response.status_code == status, (who, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "markdown" not in response.text
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_public_reads_need_no_token(client: httpx.AsyncClient, app: Litestar) -> None:
    assert (await client.get("/content/v1/pages")).status_code == 200
    assert (await client.get(f"/content/v1/pages/{new_slug()}")).status_code == 404


def test_openapi_marks_public_reads_as_open_and_editor_routes_as_bearer() -> None:
    content_only = Litestar(
        route_handlers=[content_router()],
        openapi_config=OpenAPIConfig(title="t", version="1", security=[{"BearerToken": []}]),
    )
    paths = content_only.openapi_schema.to_schema()["paths"]
    assert paths["/content/v1/pages"]["get"]["security"] == [{}]
    assert paths["/content/v1/pages/{slug}"]["get"]["security"] == [{}]
    assert paths["/content/v1/pages"]["post"].get("security") != [{}]
    assert paths["/content/v1/pages/{slug}/preview"]["get"].get("security") != [{}]
