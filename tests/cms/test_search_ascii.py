"""Search finds Norwegian words typed without æøå: ø as o/oe, å as a/aa, æ as a/ae, in both directions.

Folding happens in SQL (helsekort_fold_nordic, for the pages) and in Python (fold_nordic, for the stop
words of a query); the two are checked against each other here.
"""

from __future__ import annotations

from pathlib import Path

import asyncpg
import httpx
import pytest
from litestar import Litestar

from backend.cms.service import MAX_RESPELLINGS, fold_nordic, norwegian_respellings, without_folded_stop_words
from backend.cms.sync import sync_content
from tests.cms.pages import new_slug, published_page

CONTENT = Path(__file__).resolve().parents[2] / "content"

# (query as typed on a keyboard without æøå, a page of content/ it must find, locale)
ASCII_QUERIES = [
    ("provesvar", "pasientens-provesvar", "nb"),
    ("proevesvar", "pasientens-provesvar", "nb"),
    ("provesvarene", "pasientens-provesvar", "nb"),
    ("provesvar", "pasientens-provesvar", "nn"),
    ("maaledata", "pasientens-maledata", "nb"),
    ("maledata", "pasientens-maledata", "nb"),
    ("malingene", "pasientens-maledata", "nb"),
    ("legemiddelliste", "pasientens-legemiddelliste", "nb"),
    ("legemiddellisten", "pasientens-legemiddelliste", "nb"),
    ("legemiddelhandtering", "sentral-forskrivningsmodul", "nb"),
    ("legemiddelhaandtering", "sentral-forskrivningsmodul", "nb"),
    ("vestvagoy", "sentral-forskrivningsmodul", "nb"),
    ("vestvaagoey", "sentral-forskrivningsmodul", "nb"),
    ("journalloft", "kommunal-samhandlingsplattform", "nb"),
    ("journalloeft", "kommunal-samhandlingsplattform", "nb"),
    ("baerum", "kommunal-samhandlingsplattform", "nb"),
    ("barum", "kommunal-samhandlingsplattform", "nb"),
    ("odem", "svangerskap-uke-24", "nb"),
    ("oedem", "svangerskap-uke-28", "nb"),
    ("blodproven", "svangerskap-uke-28", "nb"),
    ("forste svangerskapskontroll", "svangerskap-uke-6-12", "nb"),
    ("urinprove", "svangerskap-uke-6-12", "nb"),
    ("undersokelsen", "svangerskap-tidlig-ultralyd", "nb"),
    ("utprovingskommuner", "helsekort-for-gravide", "nb"),
    ("leverandoren", "helsekort-for-gravide", "nb"),
    ("oppfoelgingen", "helsekort-for-gravide", "nb"),
    ("spoersmaal legemiddelliste", "pasientens-legemiddelliste", "nb"),
    # ASCII spellings of stop words (på, når) are dropped like the words themselves.
    ("provesvar naar pa fastlegen", "pasientens-provesvar", "nb"),
    # English pages fall back to Norwegian ones only where no translation exists; nn has its own page.
    ("proevesvar", "pasientens-provesvar", "nn"),
]


@pytest.fixture(scope="module")
async def real_content(app: Litestar) -> None:
    report = await sync_content(CONTENT, force=False)
    assert report.ok, str(report)


async def slugs(client: httpx.AsyncClient, q: str, locale: str = "nb", **params: str) -> list[str]:
    response = await client.get("/content/v1/pages", params={"q": q, "locale": locale, "limit": "100", **params})
    assert response.status_code == 200, response.text
    return [item["slug"] for item in response.json()["items"] if item["locale"] == locale]


@pytest.mark.parametrize(("query", "slug", "locale"), ASCII_QUERIES)
async def test_ascii_spelling_finds_the_page(
    client: httpx.AsyncClient, real_content: None, query: str, slug: str, locale: str
) -> None:
    assert slug in await slugs(client, query, locale)


def test_the_table_has_at_least_twenty_ascii_queries() -> None:
    assert len(ASCII_QUERIES) >= 20
    assert all(query.isascii() for query, _, _ in ASCII_QUERIES)


async def test_ascii_and_native_spellings_rank_the_page_alike(client: httpx.AsyncClient, real_content: None) -> None:
    for native, ascii_forms in (("prøvesvar", ("provesvar", "proevesvar")), ("måledata", ("maledata", "maaledata"))):
        expected = await slugs(client, native)
        assert expected
        for form in ascii_forms:
            assert await slugs(client, form) == expected, form


async def test_native_query_still_marks_the_words_in_the_snippet(client: httpx.AsyncClient, real_content: None) -> None:
    response = await client.get("/content/v1/pages", params={"q": "prøvesvar", "limit": "100"})
    item = next(item for item in response.json()["items"] if item["slug"] == "pasientens-provesvar")
    assert "<mark>prøvesvar" in item["snippet"].lower()


@pytest.mark.parametrize(
    ("query", "marked"),
    [("provesvar", "prøvesvar"), ("maaledata", "måledata"), ("legemiddelhandtering", "legemiddelhåndtering")],
)
async def test_ascii_query_marks_the_pages_own_spelling_in_the_snippet(
    client: httpx.AsyncClient, real_content: None, query: str, marked: str
) -> None:
    response = await client.get("/content/v1/pages", params={"q": query, "limit": "100"})
    snippets = " ".join(str(item["snippet"]).lower() for item in response.json()["items"])
    assert f"<mark>{marked}" in snippets


def test_respellings_cover_each_letter_and_stay_bounded() -> None:
    assert set(norwegian_respellings("barum")) == {"barum", "bårum", "bærum"}
    assert "prøvesvar" in norwegian_respellings("proevesvar")
    assert norwegian_respellings("prøvesvar") == ["prøvesvar"]  # typed with æøå: taken as written
    many = "ab" * 6
    assert norwegian_respellings(many) == [many]
    assert all(len(norwegian_respellings(word)) <= MAX_RESPELLINGS for word in ("maaledata", "kjernejournal"))


async def test_a_page_typed_in_ascii_is_found_by_the_norwegian_spelling(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    tag = new_slug("t")
    page = await published_page(client, app, tags=[tag], title="Om proevesvar", markdown="Les maaledata og blodtrykk.")
    await published_page(client, app, tags=[tag], title="Annet", markdown="Noe helt annet om puls.")
    for query in ("prøvesvar", "provesvar", "måledata", "maledata"):
        assert await slugs(client, query, tag=tag) == [page["slug"]], query


async def test_stop_words_typed_in_ascii_find_nothing_alone(client: httpx.AsyncClient, real_content: None) -> None:
    for query in ("pa", "naar og i pa", "noen sa", "og i på"):
        assert await slugs(client, query) == [], query


def test_ascii_stop_words_are_replaced_but_other_words_kept() -> None:
    assert without_folded_stop_words("provesvar naar pa nett") == "provesvar og og nett"
    assert without_folded_stop_words('"målet" -noen') == '"målet" -og'


async def test_python_and_sql_folding_agree(database_url: str) -> None:
    samples = ["Prøvesvar", "MÅLEDATA", "Bærum", "kjærlighet", "proevesvar", "maaledata", "Israel", "aaa", "ØST",
               "hoe", "noen", "Vestvågøy", "AE oe aa"]  # fmt: skip
    connection = await asyncpg.connect(database_url)
    try:
        for text in samples:
            assert await connection.fetchval("SELECT helsekort_fold_nordic($1)", text) == fold_nordic(text), text
    finally:
        await connection.close()
