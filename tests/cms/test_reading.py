"""Readers: locale fallback to nb, ETag / Last-Modified / 304, caching headers, lists filtered by tag and context."""

from __future__ import annotations

import httpx
from litestar import Litestar

from tests.cms.pages import create_page, editor, new_slug, publish, published_page


async def test_missing_translation_falls_back_to_nb_and_says_what_was_asked(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    page = await published_page(client, app)
    for asked in ("en", "nn", "se"):
        response = await client.get(f"/content/v1/pages/{page['slug']}", params={"locale": asked})
        assert response.status_code == 200
        assert response.json()["locale"] == "nb"
        assert response.json()["requestedLocale"] == asked
    await published_page(client, app, slug=page["slug"], locale="en", title="Medication list")
    english = (await client.get(f"/content/v1/pages/{page['slug']}", params={"locale": "en"})).json()
    assert (english["locale"], english["requestedLocale"], english["title"]) == ("en", "en", "Medication list")


async def test_a_draft_translation_does_not_hide_the_nb_fallback(client: httpx.AsyncClient, app: Litestar) -> None:
    page = await published_page(client, app)
    await create_page(client, app, slug=page["slug"], locale="en", title="Draft")
    body = (await client.get(f"/content/v1/pages/{page['slug']}", params={"locale": "en"})).json()
    assert body["locale"] == "nb"


async def test_if_none_match_answers_304_until_the_page_changes(client: httpx.AsyncClient, app: Litestar) -> None:
    page = await published_page(client, app)
    url = f"/content/v1/pages/{page['slug']}"
    first = await client.get(url)
    tag = first.headers["ETag"]
    assert first.headers["Last-Modified"].endswith("GMT")
    cached = await client.get(url, headers={"If-None-Match": tag})
    assert cached.status_code == 304
    assert cached.content == b""
    assert cached.headers["ETag"] == tag
    assert cached.headers["Cache-Control"].startswith("public")
    assert (await client.get(url, headers={"If-None-Match": '"something-else"'})).status_code == 200
    # Another locale asked for is another representation.
    assert (await client.get(url, params={"locale": "en"}, headers={"If-None-Match": tag})).status_code == 200

    draft = await client.get(f"{url}/preview", headers=editor(app))
    await client.put(
        f"{url}/draft",
        json={"title": "Endret", "markdown": "Ny"},
        headers={**editor(app), "If-Match": draft.headers["ETag"]},
    )
    await publish(client, app, page["slug"])
    changed = await client.get(url, headers={"If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != tag
    assert changed.json()["title"] == "Endret"


async def test_drafts_are_never_cached(client: httpx.AsyncClient, app: Litestar) -> None:
    page = await create_page(client, app)
    preview = await client.get(f"/content/v1/pages/{page['slug']}/preview", headers=editor(app))
    assert preview.status_code == 200
    assert preview.headers["Cache-Control"] == "no-store"
    assert preview.json()["status"] == "draft"


async def test_list_filters_by_tag_audience_and_falls_back_per_page(client: httpx.AsyncClient, app: Litestar) -> None:
    tag = new_slug("t")
    only_nb = await published_page(client, app, tags=[tag], title="Bare bokmål")
    both = await published_page(client, app, tags=[tag], title="Begge")
    await published_page(client, app, slug=both["slug"], locale="en", tags=[tag], title="Both")
    await published_page(client, app, tags=[tag], audience="clinician", title="For klinikere")
    await create_page(client, app, tags=[tag], title="Utkast")

    listed = (await client.get("/content/v1/pages", params={"tag": tag, "locale": "en", "audience": "citizen"})).json()
    found = {(item["slug"], item["locale"], item["title"]) for item in listed["items"]}
    assert found == {(only_nb["slug"], "nb", "Bare bokmål"), (both["slug"], "en", "Both")}
    assert all(item["requestedLocale"] == "en" for item in listed["items"])
    assert listed["next"] is None


async def test_list_pages_with_a_cursor(client: httpx.AsyncClient, app: Litestar) -> None:
    tag = new_slug("t")
    for index in range(5):
        await published_page(client, app, tags=[tag], title=f"Side {index}")
    seen: list[str] = []
    cursor = None
    while True:
        params = {"tag": tag, "limit": "2", **({"cursor": cursor} if cursor else {})}
        body = (await client.get("/content/v1/pages", params=params)).json()
        seen += [item["title"] for item in body["items"]]
        cursor = body["next"]
        if cursor is None:
            break
    assert seen == [f"Side {index}" for index in range(5)]
    assert (await client.get("/content/v1/pages", params={"cursor": "!!"})).status_code == 400


async def test_context_gestational_week_picks_the_latest_consultation_at_or_before_the_week(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    tag = new_slug("t")
    for week in (17, 24, 28):
        await published_page(client, app, tags=[tag], title=f"Uke {week}", contextKeys={"gestational-week": week})
    await published_page(client, app, tags=[tag], title="Uten uke")

    async def titles(context: str) -> list[str]:
        response = await client.get("/content/v1/pages", params={"tag": tag, "context": context})
        assert response.status_code == 200, response.text
        return [item["title"] for item in response.json()["items"]]

    assert await titles("gestational-week:26") == ["Uke 24"]
    assert await titles("gestational-week:24") == ["Uke 24"]
    assert await titles("gestational-week:41") == ["Uke 28"]
    assert await titles("gestational-week:10") == []
    bad = await client.get("/content/v1/pages", params={"context": "gestational-week:tjue"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "context"


async def test_context_atc_matches_the_page_for_the_group_above_the_medicine(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    tag = new_slug("t")
    await published_page(client, app, tags=[tag], title="Jern", contextKeys={"atc": "B03A"})
    await published_page(client, app, tags=[tag], title="Prøvesvar Hb", contextKeys={"loinc": "718-7"})

    async def titles(context: str) -> list[str]:
        response = await client.get("/content/v1/pages", params={"tag": tag, "context": context})
        return [item["title"] for item in response.json()["items"]]

    assert await titles("atc:B03AA07") == ["Jern"]
    assert await titles("atc:b03a") == ["Jern"]
    assert await titles("atc:C10AA01") == []
    assert await titles("loinc:718-7") == ["Prøvesvar Hb"]
