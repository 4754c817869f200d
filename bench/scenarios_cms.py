"""The CMS (issue 9): a published page revalidated with If-None-Match (304), and search over 10,000 pages.

Targets: the 304 path at ≥ 0.7× the `health` scenario's requests/s; search p99 under 50 ms with
10,000 published pages loaded. Compare the `cms-page-304` and `health` rows of the same run.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime

import asyncpg

from backend.cms.rendering import plain_text, render_markdown
from backend.dev.tokens import editor_claims, load_dev_signing_key, mint
from backend.settings import Settings
from bench.scenarios import BenchContext, Prepared, Scenario

PAGES = 10_000
PAGE_SLUG = "bench-revalidated-page"

WORDS = [
    "legemiddel",
    "legemidler",
    "resept",
    "fastlege",
    "jordmor",
    "svangerskap",
    "blodtrykk",
    "prøvesvar",
    "kjernejournal",
    "måledata",
    "kommune",
    "helsestasjon",
    "ultralyd",
    "vaksine",
    "kikhoste",
    "influensa",
    "hemoglobin",
    "jern",
    "ferritin",
    "sykehus",
    "legevakt",
    "apotek",
    "bivirkning",
    "dosering",
    "behandling",
    "pasient",
    "innsyn",
    "journal",
    "dokument",
    "oversikt",
    "tjeneste",
    "kontroll",
    "urinprøve",
    "blodprøve",
    "svar",
    "laboratorium",
    "digital",
    "løsning",
    "innbygger",
    "helsepersonell",
    "samhandling",
    "plattform",
    "hjemmetjeneste",
    "sykehjem",
    "avtalespesialist",
    "forskrivning",
    "legemiddelliste",
    "utprøving",
    "kommunene",
    "nasjonal",
]
QUERIES = ("legemidler", "blodtrykk", "kjernejournal", "vaksine kikhoste", "prøvesvar", "jordmor ultralyd",
           "resept", "hemoglobin jern", "sykehjem", "digital løsning")  # fmt: skip


def _editor_headers(context: BenchContext) -> dict[str, str]:
    key = load_dev_signing_key(Settings(data_dir=context.data_dir))
    return {"Authorization": f"Bearer {mint(key, 'editor', editor_claims('bench-editor'), expires_in=3600)}"}


async def _revalidated_page(context: BenchContext) -> Prepared:
    """Create and publish one page (once per database), then send its ETag back on every request."""
    editor = _editor_headers(context)
    created = await context.http.post(
        "/content/v1/pages",
        json={
            "slug": PAGE_SLUG,
            "locale": "nb",
            "title": "Pasientens legemiddelliste",
            "markdown": "## Om tjenesten\n\n" + " ".join(WORDS),
            "tags": ["legemidler"],
        },
        headers=editor,
    )
    if created.status_code not in (201, 409):
        created.raise_for_status()
    published = await context.http.post(f"/content/v1/pages/{PAGE_SLUG}/publish", headers=editor)
    published.raise_for_status()
    page = await context.http.get(f"/content/v1/pages/{PAGE_SLUG}")
    page.raise_for_status()
    return Prepared(headers={"If-None-Match": page.headers["ETag"]})


SYLLABLES = [consonant + vowel for consonant in "bdfgklmnprstv" for vowel in "aeiou"]


def _filler_vocabulary(chooser: random.Random, size: int = 20_000) -> list[str]:
    """Made-up words, so that a page reads like real text: most words are rare, few pages share a term."""
    return ["".join(chooser.choice(SYLLABLES) for _ in range(chooser.randint(2, 4))) for _ in range(size)]


def _text(chooser: random.Random, filler: list[str], words: int, topic_words: int) -> str:
    """`words` filler words with `topic_words` of the health vocabulary mixed in."""
    chosen = [chooser.choice(filler) for _ in range(words)] + [chooser.choice(WORDS) for _ in range(topic_words)]
    chooser.shuffle(chosen)
    return " ".join(chosen)


async def _load_pages(database_url: str) -> None:
    """10,000 published pages with revisions, drafts and search vectors, written straight to the database."""
    connection = await asyncpg.connect(database_url)
    try:
        existing = await connection.fetchval("SELECT count(*) FROM cms_page WHERE slug LIKE 'bench-search-%'")
        if existing >= PAGES:
            return
        chooser = random.Random(9)
        filler = _filler_vocabulary(chooser)
        now = datetime.now(UTC)
        pages, revisions, drafts = [], [], []
        for index in range(PAGES):
            page_id = uuid.uuid4()
            # About 5 % of the pages mention any one health term, as on a real site.
            title = _text(chooser, filler, 3, 1).capitalize()
            summary = _text(chooser, filler, 20, 0)
            markdown = (
                f"## {_text(chooser, filler, 3, 0)}\n\n{_text(chooser, filler, 120, 2)}\n\n"
                f"- {_text(chooser, filler, 8, 0)}\n- {_text(chooser, filler, 8, 0)}\n"
            )
            html = render_markdown(markdown)
            tags = [chooser.choice(["legemidler", "svangerskap", "provesvar", "e-helse"])]
            pages.append((page_id, f"bench-search-{index}", "nb", "published", 1, 1, 1, now, now, now))
            revisions.append((uuid.uuid4(), page_id, 1, title, summary, markdown, html, plain_text(html), tags,
                              "citizen", "{}", "{}", "bench", "api", now))  # fmt: skip
            drafts.append((uuid.uuid4(), page_id, title, summary, markdown, html, tags, "citizen", "{}", now, "bench"))
        async with connection.transaction():
            await connection.copy_records_to_table(
                "cms_page",
                records=pages,
                columns=[
                    "id",
                    "slug",
                    "locale",
                    "status",
                    "version",
                    "current_revision",
                    "published_revision",
                    "published_at",
                    "created_at",
                    "updated_at",
                ],
            )
            await connection.set_type_codec(
                "jsonb",
                encoder=lambda value: b"\x01" + json.dumps(value).encode(),
                decoder=lambda raw: json.loads(raw[1:]),
                schema="pg_catalog",
                format="binary",
            )
            await connection.copy_records_to_table(
                "cms_revision",
                records=[(*r[:10], json.loads(r[10]), json.loads(r[11]), *r[12:]) for r in revisions],
                columns=[
                    "id",
                    "page",
                    "n",
                    "title",
                    "summary",
                    "markdown",
                    "html",
                    "plain_text",
                    "tags",
                    "audience",
                    "context_keys",
                    "front_matter",
                    "author",
                    "source",
                    "created_at",
                ],
            )
            await connection.copy_records_to_table(
                "cms_draft",
                records=[(*d[:8], json.loads(d[8]), *d[9:]) for d in drafts],
                columns=[
                    "id",
                    "page",
                    "title",
                    "summary",
                    "markdown",
                    "html",
                    "tags",
                    "audience",
                    "context_keys",
                    "updated_at",
                    "updated_by",
                ],
            )
            await connection.execute(
                """
                UPDATE cms_page p SET search =
                       setweight(to_tsvector('norwegian', helsekort_fold_nordic(r.title)), 'A')
                    || setweight(to_tsvector('norwegian', helsekort_fold_nordic(r.summary)), 'B')
                    || setweight(to_tsvector('norwegian', helsekort_fold_nordic(r.plain_text)), 'C')
                FROM cms_revision r WHERE r.page = p.id AND r.n = 1 AND p.slug LIKE 'bench-search-%'
                """
            )
        await connection.execute("VACUUM ANALYZE cms_page")
        await connection.execute("VACUUM ANALYZE cms_revision")
    finally:
        await connection.close()


async def _search(context: BenchContext) -> Prepared:
    await _load_pages(context.database_url)
    return Prepared(paths=[f"/content/v1/pages?q={query.replace(' ', '+')}" for query in QUERIES])


SCENARIOS: list[Scenario] = [
    Scenario(
        name="cms-page-304",
        path=f"/content/v1/pages/{PAGE_SLUG}",
        setup=_revalidated_page,
        expect_status=304,
        description="published page revalidated with If-None-Match → 304 (target ≥ 0.7× the health row)",
    ),
    Scenario(
        name="cms-search-10k",
        path="/content/v1/pages?q=legemidler",
        setup=_search,
        description="Norwegian full-text search, ranked with snippets, over 10,000 published pages (p99 < 50 ms)",
    ),
]
