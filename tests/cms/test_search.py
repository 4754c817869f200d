"""Full-text search: PostgreSQL's Norwegian configuration (with -el inflection joined), English for en, snippets."""

from __future__ import annotations

import httpx
from litestar import Litestar

from backend.cms.service import expand_norwegian_query
from tests.cms.pages import new_slug, published_page


async def search(client: httpx.AsyncClient, **params: str) -> list[dict[str, object]]:
    response = await client.get("/content/v1/pages", params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


async def test_legemidler_finds_a_page_about_legemiddel_and_highlights_it(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    tag = new_slug("t")
    page = await published_page(
        client,
        app,
        tags=[tag],
        title="Oversikt",
        markdown="Her står det om hvert legemiddel du bruker, og om <b>annet</b>.",
    )
    await published_page(client, app, tags=[tag], title="Noe helt annet", markdown="Om blodtrykk og puls.")
    items = await search(client, q="legemidler", tag=tag)
    assert [item["slug"] for item in items] == [page["slug"]]
    snippet = str(items[0]["snippet"])
    assert "<mark>legemiddel</mark>" in snippet
    assert "<b>" not in snippet  # the page's text is escaped; only the marks are HTML
    assert float(str(items[0]["rank"])) > 0
    # and the other way round: the singular finds the plural
    plural = await published_page(client, app, tags=[tag], title="Flertall", markdown="Alle legemidlene dine.")
    found = {item["slug"] for item in await search(client, q="legemiddel", tag=tag)}
    assert plural["slug"] in found


async def test_results_are_ranked_title_first(client: httpx.AsyncClient, app: Litestar) -> None:
    tag = new_slug("t")
    in_body = await published_page(client, app, tags=[tag], title="Generelt", markdown="Litt om prøvesvar.")
    in_title = await published_page(client, app, tags=[tag], title="Prøvesvar", markdown="Svar fra laboratoriet.")
    items = await search(client, q="prøvesvar", tag=tag)
    assert [item["slug"] for item in items] == [in_title["slug"], in_body["slug"]]


async def test_english_pages_are_searched_with_english_stemming(client: httpx.AsyncClient, app: Litestar) -> None:
    tag = new_slug("t")
    page = await published_page(client, app, tags=[tag], title="Medicines", markdown="Your medications in one list.")
    await published_page(client, app, slug=page["slug"], locale="en", tags=[tag], title="Medicines",
                         markdown="Your medications in one list.")  # fmt: skip
    items = await search(client, q="medication", tag=tag, locale="en")
    assert [(item["slug"], item["locale"]) for item in items] == [(page["slug"], "en")]


async def test_unpublished_pages_are_not_found(client: httpx.AsyncClient, app: Litestar) -> None:
    tag = new_slug("t")
    page = await published_page(client, app, tags=[tag], markdown="Kjernejournal for alle.")
    await client.post(
        f"/content/v1/pages/{page['slug']}/unpublish",
        headers={"Authorization": f"Bearer {__import__('tests.factories').factories.editor_token(app)}"},
    )
    assert await search(client, q="kjernejournal", tag=tag) == []


async def test_a_query_of_only_stop_words_finds_nothing(client: httpx.AsyncClient, app: Litestar) -> None:
    assert await search(client, q="og i på") == []


def test_norwegian_el_nouns_are_joined_in_both_directions() -> None:
    assert expand_norwegian_query("'legemidl'") == "( 'legemidl' | 'legemidel' | 'legemiddel' )"
    assert expand_norwegian_query("'legemiddel' & 'list'") == "( 'legemiddel' | 'legemidl' ) & 'list'"
    assert expand_norwegian_query("'blodtrykk'") == "'blodtrykk'"


async def test_a_publish_or_unpublish_shows_in_the_same_search_at_once(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    """Results are cached for a moment; a write in this process drops them, so its reader never sees them stale."""
    from tests.cms.pages import create_page, editor, publish

    tag = new_slug("t")
    assert await search(client, q="blodtrykksmåler", tag=tag) == []
    page = await create_page(client, app, tags=[tag], title="Blodtrykksmåler hjemme", markdown="Mål blodtrykket.")
    assert await search(client, q="blodtrykksmåler", tag=tag) == []  # a draft is not found (and not cached as found)
    await publish(client, app, page["slug"])
    assert [item["slug"] for item in await search(client, q="blodtrykksmåler", tag=tag)] == [page["slug"]]
    response = await client.post(f"/content/v1/pages/{page['slug']}/unpublish?locale=nb", headers=editor(app))
    assert response.status_code == 200, response.text
    assert await search(client, q="blodtrykksmåler", tag=tag) == []
