"""Conditional GETs answered from the page cache behave exactly like the handler's own 304."""

from __future__ import annotations

import httpx
from litestar import Litestar

from backend.cms import service
from tests.cms.pages import published_page


async def test_cached_304_carries_the_caching_headers_and_changes_end_it(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    slug = (await published_page(client, app))["slug"]
    first = await client.get(f"/content/v1/pages/{slug}")
    assert first.status_code == 200
    tag = first.headers["etag"]
    assert service.cached_published_page(slug, "nb") is not None
    cached = await client.get(f"/content/v1/pages/{slug}", headers={"If-None-Match": tag})
    assert cached.status_code == 304
    assert cached.content == b""
    assert cached.headers["etag"] == tag
    assert cached.headers["cache-control"] == first.headers["cache-control"]
    assert cached.headers["last-modified"] == first.headers["last-modified"]
    assert "x-request-id" in cached.headers
    # A stale tag gets the page; an unknown locale still gets its 400 from the handler.
    assert (await client.get(f"/content/v1/pages/{slug}", headers={"If-None-Match": '"old"'})).status_code == 200
    bad = await client.get(f"/content/v1/pages/{slug}?locale=xx", headers={"If-None-Match": tag})
    assert bad.status_code == 400
