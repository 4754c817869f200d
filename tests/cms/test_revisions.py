"""Every save is a revision; an old one can be restored as a new revision, and nothing is lost."""

from __future__ import annotations

import httpx
from litestar import Litestar

from tests.cms.pages import create_page, editor


async def save(client: httpx.AsyncClient, app: Litestar, slug: str, title: str) -> httpx.Response:
    current = await client.get(f"/content/v1/pages/{slug}/preview", headers=editor(app))
    response = await client.put(
        f"/content/v1/pages/{slug}/draft",
        json={"title": title, "markdown": f"Tekst for {title}"},
        headers={**editor(app, "kari"), "If-Match": current.headers["ETag"]},
    )
    assert response.status_code == 200, response.text
    return response


async def test_every_save_is_listed_newest_first(client: httpx.AsyncClient, app: Litestar) -> None:
    page = await create_page(client, app, title="Første")
    await save(client, app, page["slug"], "Andre")
    await save(client, app, page["slug"], "Tredje")
    response = await client.get(f"/content/v1/pages/{page['slug']}/revisions", headers=editor(app))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    items = response.json()["items"]
    assert [(r["n"], r["title"], r["author"], r["source"]) for r in items] == [
        (3, "Tredje", "kari", "api"),
        (2, "Andre", "kari", "api"),
        (1, "Første", "editor-1", "api"),
    ]
    assert [r["current"] for r in items] == [True, False, False]


async def test_restoring_an_old_revision_makes_it_the_draft_as_a_new_revision(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    page = await create_page(client, app, title="Første")
    saved = await save(client, app, page["slug"], "Andre")
    stale = page["etag"]
    refused = await client.post(
        f"/content/v1/pages/{page['slug']}/revisions/1/restore", headers={**editor(app), "If-Match": stale}
    )
    assert refused.status_code == 412
    restored = await client.post(
        f"/content/v1/pages/{page['slug']}/revisions/1/restore",
        headers={**editor(app), "If-Match": saved.headers["ETag"]},
    )
    assert restored.status_code == 200, restored.text
    body = restored.json()
    assert (body["title"], body["revision"]) == ("Første", 3)
    assert body["markdown"] == page["markdown"]
    history = (await client.get(f"/content/v1/pages/{page['slug']}/revisions", headers=editor(app))).json()
    assert [(r["n"], r["source"]) for r in history["items"]] == [(3, "restore"), (2, "api"), (1, "api")]
    missing = await client.post(f"/content/v1/pages/{page['slug']}/revisions/9/restore", headers=editor(app))
    assert missing.status_code == 404
