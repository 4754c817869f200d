"""The editorial workflow: a draft is invisible until published, edits need If-Match, unpublish takes it down."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
from litestar import Litestar

from tests.cms.pages import create_page, editor, new_slug, publish


async def test_a_new_page_is_a_draft_that_readers_cannot_see(client: httpx.AsyncClient, app: Litestar) -> None:
    page = await create_page(client, app)
    assert page["status"] == "draft"
    assert page["revision"] == 1
    assert page["html"].startswith("<h2>Om tjenesten</h2>")
    assert (await client.get(f"/content/v1/pages/{page['slug']}")).status_code == 404
    listed = (await client.get("/content/v1/pages", params={"q": "legemiddel"})).json()
    assert page["slug"] not in [item["slug"] for item in listed["items"]]


async def test_publishing_makes_the_page_readable_with_markdown_and_html(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    page = await create_page(client, app, summary="Kort", tags=["legemidler"], contextKeys={"atc": "B03A"})
    published = await publish(client, app, page["slug"])
    assert published["status"] == "published"
    assert published["publishedRevision"] == 1
    response = await client.get(f"/content/v1/pages/{page['slug']}")
    assert response.status_code == 200
    body = response.json()
    assert body["markdown"].startswith("## Om tjenesten")
    assert "<h2>Om tjenesten</h2>" in body["html"]
    assert body["locale"] == body["requestedLocale"] == "nb"
    assert body["tags"] == ["legemidler"]
    assert body["contextKeys"] == {"atc": "B03A"}
    assert body["summary"] == "Kort"
    assert response.headers["Cache-Control"].startswith("public, max-age=")


async def test_a_saved_draft_is_not_public_until_published_again(client: httpx.AsyncClient, app: Litestar) -> None:
    page = await create_page(client, app)
    await publish(client, app, page["slug"])
    saved = await client.put(
        f"/content/v1/pages/{page['slug']}/draft",
        json={"title": "Ny tittel", "markdown": "Ny tekst"},
        headers={**editor(app), "If-Match": page["etag"]},
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["revision"] == 2
    assert saved.json()["publishedRevision"] == 1
    assert (await client.get(f"/content/v1/pages/{page['slug']}")).json()["title"] == "Pasientens legemiddelliste"
    preview = await client.get(f"/content/v1/pages/{page['slug']}/preview", headers=editor(app))
    assert preview.json()["title"] == "Ny tittel"
    await publish(client, app, page["slug"])
    assert (await client.get(f"/content/v1/pages/{page['slug']}")).json()["title"] == "Ny tittel"


async def test_unpublish_takes_the_page_down_and_archives_it(client: httpx.AsyncClient, app: Litestar) -> None:
    page = await create_page(client, app)
    await publish(client, app, page["slug"])
    response = await client.post(f"/content/v1/pages/{page['slug']}/unpublish", headers=editor(app))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "archived"
    assert (await client.get(f"/content/v1/pages/{page['slug']}")).status_code == 404
    again = await client.post(f"/content/v1/pages/{page['slug']}/unpublish", headers=editor(app))
    assert again.status_code == 409


async def test_draft_save_needs_if_match_and_two_editors_cannot_overwrite_each_other(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    page = await create_page(client, app)
    url = f"/content/v1/pages/{page['slug']}/draft"
    missing = await client.put(url, json={"title": "A", "markdown": "a"}, headers=editor(app))
    assert missing.status_code == 428
    first, second = await asyncio.gather(
        client.put(
            url, json={"title": "Anne", "markdown": "a"}, headers={**editor(app, "anne"), "If-Match": page["etag"]}
        ),
        client.put(
            url, json={"title": "Bjørn", "markdown": "b"}, headers={**editor(app, "bjorn"), "If-Match": page["etag"]}
        ),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 412]
    winner = first if first.status_code == 200 else second
    preview = (await client.get(f"/content/v1/pages/{page['slug']}/preview", headers=editor(app))).json()
    assert preview["title"] == winner.json()["title"]
    assert preview["revision"] == 2


async def test_creating_the_same_slug_and_locale_twice_is_a_conflict(client: httpx.AsyncClient, app: Litestar) -> None:
    page = await create_page(client, app)
    again = await client.post(
        "/content/v1/pages",
        json={"slug": page["slug"], "locale": "nb", "title": "x", "markdown": "y"},
        headers=editor(app),
    )
    assert again.status_code == 409
    english = await create_page(client, app, slug=page["slug"], locale="en", title="Medication list")
    assert english["locale"] == "en"


async def test_bad_input_names_the_field_and_stores_nothing(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    slug = new_slug()
    cases = [
        ({"slug": slug, "locale": "de", "title": "x", "markdown": "y"}, "locale"),
        ({"slug": "Not A Slug", "locale": "nb", "title": "x", "markdown": "y"}, "slug"),
        ({"slug": slug, "locale": "nb", "markdown": "y"}, "title"),
        ({"slug": slug, "locale": "nb", "title": "x", "markdown": "y", "colour": "red"}, "colour"),
        (
            {"slug": slug, "locale": "nb", "title": "x", "markdown": "y", "contextKeys": {"gestational-week": 99}},
            "contextKeys.gestational-week",
        ),
        (
            {"slug": slug, "locale": "nb", "title": "x", "markdown": "y", "contextKeys": {"atc": "not atc"}},
            "contextKeys.atc",
        ),
        ({"slug": slug, "locale": "nb", "title": "x", "markdown": "y", "audience": "everyone"}, "audience"),
    ]
    for body, field in cases:
        response = await client.post("/content/v1/pages", json=body, headers=editor(app))
        assert response.status_code == 400, (body, response.text)
        assert field in response.text, (field, response.text)
    assert await db.fetchval("SELECT count(*) FROM cms_page WHERE slug = $1", slug) == 0


async def test_unknown_locale_on_reads_is_400(client: httpx.AsyncClient, app: Litestar) -> None:
    response = await client.get("/content/v1/pages/anything?locale=de")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "locale"
    assert (await client.get("/content/v1/pages?locale=sv")).status_code == 400


async def test_publishing_appends_a_topic_event_per_known_topic(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    page = await create_page(client, app, tags=["legemidler", "svangerskap", "not-a-topic"])
    await publish(client, app, page["slug"])
    rows = await db.fetch(
        "SELECT topic, type, resource_type FROM topic_event WHERE resource_id = $1 ORDER BY topic", page["slug"]
    )
    assert [(r["topic"], r["type"], r["resource_type"]) for r in rows] == [
        ("legemidler", "page.published", "page"),
        ("svangerskap", "page.published", "page"),
    ]


async def test_every_editor_action_is_audited(client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection) -> None:
    page = await create_page(client, app)
    await publish(client, app, page["slug"])
    await client.get(f"/content/v1/pages/{page['slug']}/preview", headers=editor(app))
    rows = await db.fetch(
        "SELECT action, actor_kind, actor, basis FROM audit_log_global WHERE resource_id = $1 ORDER BY id",
        f"{page['slug']}/nb",
    )
    assert [r["action"] for r in rows] == ["cms.create", "cms.publish", "cms.preview"]
    assert {(r["actor_kind"], r["actor"], r["basis"]) for r in rows} == {("editor", "editor:editor-1", "editor")}


async def test_editing_or_publishing_a_page_that_does_not_exist_is_404(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    slug = new_slug()
    draft = await client.put(
        f"/content/v1/pages/{slug}/draft",
        json={"title": "x", "markdown": "y"},
        headers={**editor(app), "If-Match": '"1"'},
    )
    assert draft.status_code == 404
    assert (await client.post(f"/content/v1/pages/{slug}/publish", headers=editor(app))).status_code == 404
    assert (await client.get(f"/content/v1/pages/{slug}/preview", headers=editor(app))).status_code == 404
    # A page that exists in nb only has no en draft to publish.
    page = await create_page(client, app, slug=slug)
    assert (
        await client.post(f"/content/v1/pages/{page['slug']}/publish?locale=en", headers=editor(app))
    ).status_code == 404


async def test_a_translation_is_published_on_its_own(client: httpx.AsyncClient, app: Litestar) -> None:
    page = await create_page(client, app)
    await create_page(client, app, slug=page["slug"], locale="en", title="Medication list")
    await publish(client, app, page["slug"], "en")
    english = await client.get(f"/content/v1/pages/{page['slug']}", params={"locale": "en"})
    assert english.json()["title"] == "Medication list"
    assert (await client.get(f"/content/v1/pages/{page['slug']}")).status_code == 404
