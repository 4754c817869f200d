"""Factories for CMS tests: editor headers, unique slugs, pages created (and published) through the API."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from litestar import Litestar

from tests.factories import bearer, editor_token


def editor(app: Litestar, sub: str = "editor-1") -> dict[str, str]:
    return bearer(editor_token(app, sub))


def new_slug(prefix: str = "side") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def create_page(
    client: httpx.AsyncClient, app: Litestar, *, slug: str | None = None, locale: str = "nb", **fields: Any
) -> dict[str, Any]:
    body = {
        "slug": slug or new_slug(),
        "locale": locale,
        "title": "Pasientens legemiddelliste",
        "markdown": "## Om tjenesten\n\nEn felles oversikt over legemiddel du bruker.",
        **fields,
    }
    response = await client.post("/content/v1/pages", json=body, headers=editor(app))
    assert response.status_code == 201, response.text
    page: dict[str, Any] = response.json()
    page["etag"] = response.headers["ETag"]
    return page


async def publish(client: httpx.AsyncClient, app: Litestar, slug: str, locale: str = "nb") -> dict[str, Any]:
    response = await client.post(f"/content/v1/pages/{slug}/publish?locale={locale}", headers=editor(app))
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def published_page(
    client: httpx.AsyncClient, app: Litestar, *, locale: str = "nb", **fields: Any
) -> dict[str, Any]:
    page = await create_page(client, app, locale=locale, **fields)
    await publish(client, app, page["slug"], locale)
    return page
