"""Every SQL statement of the CMS: pages, drafts, revisions, publishing, search and the content sync's state.

Functions take a connection and plain values and return typed rows; the rules (validation, what a save
stores, when a page is published, how a Norwegian query is widened, the in-process page cache) are in
the `service` package. The CMS holds no patient data.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from backend.cms.schemas import PageStatus
from backend.core.rows import fields_of, typed_row

GESTATIONAL_WEEK = "gestational-week"
# Snippets come from the start of a page: ts_headline re-parses its whole input, which made the
# page of results cost more than finding and ranking them (bench: cms-search-10k).
HEADLINE_SOURCE_CHARS = 4000
_HEADLINE_OPTIONS = 'StartSel="\x02", StopSel="\x03", MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "'


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


_JSON_COLUMNS = frozenset({"context_keys", "front_matter"})
T = TypeVar("T")


def _typed(shape: type[T], row: Any) -> T:
    """The row as `shape` (core's mapping), its JSON columns decoded."""
    return typed_row(shape, row, **{name: _json(row[name]) for name in _JSON_COLUMNS if name in fields_of(shape)})


# --- typed rows -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PublishedRow:
    """A published page's revision, in the locale found."""

    locale: str
    revision: int
    published_at: datetime
    title: str
    summary: str
    markdown: str
    html: str
    tags: list[str]
    audience: str
    context_keys: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SummaryRow:
    """One published page in a list or a search (`rank` and `headline` only when searching)."""

    slug: str
    locale: str
    published_at: datetime
    rank: float | None
    title: str
    summary: str
    tags: list[str]
    audience: str
    context_keys: dict[str, Any]
    headline: str | None


@dataclass(frozen=True, slots=True)
class EditorRow:
    """A page with its draft, as editors see it."""

    slug: str
    locale: str
    status: PageStatus
    version: int
    current_revision: int
    published_revision: int | None
    published_at: datetime | None
    publish_at: datetime | None
    unpublish_at: datetime | None
    title: str
    summary: str
    markdown: str
    html: str
    tags: list[str]
    audience: str
    context_keys: dict[str, Any]
    updated_at: datetime
    updated_by: str


@dataclass(frozen=True, slots=True)
class LockedPage:
    """A page row locked for the rest of the transaction (`FOR UPDATE`)."""

    id: uuid.UUID
    status: str
    version: int
    current_revision: int
    published_revision: int | None
    synced_revision: int | None


@dataclass(frozen=True, slots=True)
class PageHead:
    id: uuid.UUID
    current_revision: int
    published_revision: int | None


@dataclass(frozen=True, slots=True)
class RevisionRow:
    n: int
    title: str
    summary: str
    author: str
    source: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StoredContent:
    """What a revision stores (and a draft, but its plain text and front matter)."""

    title: str
    summary: str
    markdown: str
    html: str
    plain_text: str
    tags: list[str]
    audience: str
    context_keys: dict[str, Any]
    front_matter: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DueSchedule:
    id: uuid.UUID
    slug: str
    locale: str
    revision: int  # the revision scheduled, else the current one


@dataclass(frozen=True, slots=True)
class SyncRow:
    source_digest: str | None
    synced_revision: int | None
    current_revision: int


@dataclass(frozen=True, slots=True)
class AdminDraftRow:
    slug: str
    locale: str
    version: int
    title: str
    summary: str
    markdown: str
    tags: list[str]
    audience: str
    context_keys: Any  # as stored: the admin form may send it back as text
    updated_at: datetime


# --- published pages (the readers' hot path: one statement) ---------------------------------------------

_PUBLISHED_SQL = """
SELECT p.locale, p.published_revision AS revision, p.published_at, r.title, r.summary, r.markdown, r.html, r.tags,
       r.audience, r.context_keys
FROM cms_page p JOIN cms_revision r ON r.page = p.id AND r.n = p.published_revision
WHERE p.slug = $1 AND p.locale = ANY($2::text[]) AND p.status = 'published'
ORDER BY (p.locale = $3) DESC
LIMIT 1
"""


async def published_page(connection: Any, slug: str, locales: list[str], preferred: str) -> PublishedRow | None:
    """The published page in the first of `locales` that has it, `preferred` first."""
    row = await connection.fetchrow(_PUBLISHED_SQL, slug, locales, preferred)
    return None if row is None else _typed(PublishedRow, row)


# --- search -----------------------------------------------------------------------------------------------


async def folded_tsqueries(connection: Any, config: str, folded_text: str, text: str) -> tuple[str, str]:
    """(tsquery of the text folded by helsekort_fold_nordic, tsquery of the text as typed), as text."""
    row = await connection.fetchrow(
        "SELECT websearch_to_tsquery($1::text::regconfig, helsekort_fold_nordic($2))::text AS match, "
        "websearch_to_tsquery($1::text::regconfig, $3)::text AS highlight",
        config,
        folded_text,
        text,
    )
    return row["match"], row["highlight"]


async def tsquery(connection: Any, config: str, text: str) -> str:
    query: str = await connection.fetchval("SELECT websearch_to_tsquery($1::text::regconfig, $2)::text", config, text)
    return query


@dataclass(frozen=True, slots=True)
class TextSearch:
    """The tsqueries of a search: for pages in the asked locale (`own`) and for nb pages standing in for them."""

    config: str  # the asked locale's text-search configuration
    own_match: str
    own_highlight: str
    fallback_match: str
    fallback_highlight: str


@dataclass(frozen=True, slots=True)
class PageFilter:
    """Which published pages a list shows; `locale` else nb when `falls_back`."""

    locale: str
    falls_back: bool
    text: TextSearch | None = None
    tag: str | None = None
    audience: str | None = None
    context: tuple[str, str | int] | None = None  # (key, value); gestational-week picks the latest week ≤ value


async def published_summaries(connection: Any, where_: PageFilter, *, limit: int, offset: int) -> list[SummaryRow]:
    """Published pages by rank (when searching), week, title and slug; one statement."""
    params: list[Any] = [where_.locale]
    where = ["p.status = 'published'"]
    if not where_.falls_back:
        where.append("p.locale = $1")
    else:
        where.append(
            "(p.locale = $1 OR (p.locale = 'nb' AND NOT EXISTS (SELECT 1 FROM cms_page t "
            "WHERE t.slug = p.slug AND t.locale = $1 AND t.status = 'published')))"
        )

    def param(value: Any) -> str:
        params.append(value)
        return f"${len(params)}"

    rank_sql = "NULL::real"
    headline_sql = "NULL::text"
    if where_.text is not None:
        text = where_.text
        own_p, fallback_p = param(text.own_match or "''"), param(text.fallback_match or "''")
        own_mark_p, fallback_mark_p = param(text.own_highlight or "''"), param(text.fallback_highlight or "''")
        config_p = param(text.config)
        query_of_row = f"(CASE WHEN p.locale = $1 THEN {own_p} ELSE {fallback_p} END)::tsquery"
        if not where_.falls_back:
            where.append(f"p.search @@ {own_p}::tsquery")
        else:
            where.append(
                f"((p.locale = $1 AND p.search @@ {own_p}::tsquery) OR "
                f"(p.locale = 'nb' AND p.search @@ {fallback_p}::tsquery))"
            )
        rank_sql = f"ts_rank(p.search, {query_of_row})"
        headline_sql = (
            f"ts_headline(CASE WHEN c.locale = $1 THEN {config_p} ELSE 'norwegian' END::regconfig, "
            f"left(r.plain_text, {HEADLINE_SOURCE_CHARS}), "
            f"(CASE WHEN c.locale = $1 THEN {own_mark_p} ELSE {fallback_mark_p} END)::tsquery, "
            f"{param(_HEADLINE_OPTIONS)})"
        )
    if where_.tag is not None:
        where.append(f"{param(where_.tag)} = ANY(r.tags)")
    if where_.audience is not None:
        where.append(f"r.audience = {param(where_.audience)}")
    week_sql = ""
    if where_.context is not None:
        key, value = where_.context
        if key == GESTATIONAL_WEEK:
            week_p = param(value)
            where.append(f"(r.context_keys->>'gestational-week')::int <= {week_p}")
            week_sql = "WHERE c.week = (SELECT max(week) FROM candidates)"
        else:
            key_p, value_p = param(key), param(str(value))
            compare = (
                f"upper({value_p}) LIKE upper(v.value) || '%'" if key == "atc" else f"lower(v.value) = lower({value_p})"
            )
            where.append(
                f"EXISTS (SELECT 1 FROM jsonb_array_elements_text(CASE jsonb_typeof(r.context_keys->{key_p}) "  # noqa: S608
                f"WHEN 'array' THEN r.context_keys->{key_p} ELSE jsonb_build_array(r.context_keys->{key_p}) END) "
                f"AS v(value) WHERE {compare})"
            )
    limit_p, offset_p = param(limit), param(offset)
    # Rank and page on the small columns only; the texts are read for the page of results alone.
    sql = f"""
        WITH candidates AS (
            SELECT p.id, p.slug, p.locale, p.published_at, p.published_revision, r.title,
                   (r.context_keys->>'gestational-week')::int AS week, {rank_sql} AS rank
            FROM cms_page p JOIN cms_revision r ON r.page = p.id AND r.n = p.published_revision
            WHERE {" AND ".join(where)}
        ), picked AS (
            SELECT * FROM candidates c {week_sql}
            ORDER BY c.rank DESC NULLS LAST, c.week NULLS LAST, c.title, c.slug
            LIMIT {limit_p} OFFSET {offset_p}
        )
        SELECT c.slug, c.locale, c.published_at, c.rank, r.title, r.summary, r.tags, r.audience,
               r.context_keys, {headline_sql} AS headline
        FROM picked c JOIN cms_revision r ON r.page = c.id AND r.n = c.published_revision
        ORDER BY c.rank DESC NULLS LAST, c.week NULLS LAST, c.title, c.slug
    """  # noqa: S608 - only placeholders and fixed fragments are interpolated
    rows = await connection.fetch(sql, *params)
    return [_typed(SummaryRow, row) for row in rows]


# --- pages and drafts as editors see them -------------------------------------------------------------------

_EDITOR_SQL = """
SELECT p.id, p.slug, p.locale, p.status, p.version, p.current_revision, p.published_revision, p.published_at,
       p.publish_at, p.unpublish_at, d.title, d.summary, d.markdown, d.html, d.tags, d.audience, d.context_keys,
       d.updated_at, d.updated_by
FROM cms_page p JOIN cms_draft d ON d.page = p.id
WHERE p.slug = $1 AND p.locale = $2
"""


async def editor_page(connection: Any, slug: str, locale: str) -> EditorRow | None:
    row = await connection.fetchrow(_EDITOR_SQL, slug, locale)
    return None if row is None else _typed(EditorRow, row)


async def lock_page(connection: Any, slug: str, locale: str) -> LockedPage | None:
    row = await connection.fetchrow(
        """
        SELECT id, status, version, current_revision, published_revision, synced_revision
        FROM cms_page WHERE slug = $1 AND locale = $2 FOR UPDATE
        """,
        slug,
        locale,
    )
    return None if row is None else LockedPage(*row)


async def insert_page(
    connection: Any, slug: str, locale: str, *, current_revision: int, at: datetime, if_new: bool
) -> uuid.UUID | None:
    """A new draft page; with `if_new`, None when the slug exists in this locale (else the unique key raises)."""
    sql = """
        INSERT INTO cms_page (id, slug, locale, status, version, current_revision, created_at, updated_at)
        VALUES ($1, $2, $3, 'draft', 1, $4, $5, $5)
    """
    if if_new:
        sql += " ON CONFLICT (slug, locale) DO NOTHING"
    page_id: uuid.UUID | None = await connection.fetchval(
        sql + " RETURNING id", uuid.uuid4(), slug, locale, current_revision, at
    )
    return page_id


async def insert_revision(
    connection: Any, page_id: uuid.UUID, n: int, content: StoredContent, *, author: str, source: str, at: datetime
) -> None:
    await connection.execute(
        """
        INSERT INTO cms_revision (id, page, n, title, summary, markdown, html, plain_text, tags, audience,
                                  context_keys, front_matter, author, source, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12::jsonb, $13, $14, $15)
        """,
        uuid.uuid4(),
        page_id,
        n,
        content.title,
        content.summary,
        content.markdown,
        content.html,
        content.plain_text,
        content.tags,
        content.audience,
        json.dumps(content.context_keys),
        json.dumps(content.front_matter, default=str),
        author,
        source,
        at,
    )


async def write_draft(connection: Any, page_id: uuid.UUID, content: StoredContent, author: str, at: datetime) -> None:
    await connection.execute(
        """
        INSERT INTO cms_draft (id, page, title, summary, markdown, html, tags, audience, context_keys,
                               updated_at, updated_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11)
        ON CONFLICT (page) DO UPDATE SET
            title = EXCLUDED.title, summary = EXCLUDED.summary, markdown = EXCLUDED.markdown,
            html = EXCLUDED.html, tags = EXCLUDED.tags, audience = EXCLUDED.audience,
            context_keys = EXCLUDED.context_keys, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
        """,
        uuid.uuid4(),
        page_id,
        content.title,
        content.summary,
        content.markdown,
        content.html,
        content.tags,
        content.audience,
        json.dumps(content.context_keys),
        at,
        author,
    )


async def advance_revision(connection: Any, page_id: uuid.UUID, n: int, at: datetime) -> None:
    """Revision `n` is now current; the draft's version (its ETag) moves on."""
    await connection.execute(
        "UPDATE cms_page SET version = version + 1, current_revision = $2, updated_at = $3 WHERE id = $1",
        page_id,
        n,
        at,
    )


async def admin_draft(connection: Any, draft_id: Any) -> AdminDraftRow | None:
    """A draft by its row id (the /admin form edits drafts by row), with its page's slug, locale and version."""
    row = await connection.fetchrow(
        """
        SELECT p.slug, p.locale, p.version, d.title, d.summary, d.markdown, d.tags, d.audience,
               d.context_keys, d.updated_at
        FROM cms_draft d JOIN cms_page p ON p.id = d.page WHERE d.id = $1
        """,
        draft_id,
    )
    return None if row is None else AdminDraftRow(*row)


# --- revisions ----------------------------------------------------------------------------------------------


async def page_head(connection: Any, slug: str, locale: str) -> PageHead | None:
    row = await connection.fetchrow(
        "SELECT id, current_revision, published_revision FROM cms_page WHERE slug = $1 AND locale = $2",
        slug,
        locale,
    )
    return None if row is None else PageHead(*row)


async def revisions_before(connection: Any, page_id: uuid.UUID, before: int | None, limit: int) -> list[RevisionRow]:
    """Newest first, below revision `before` when given."""
    rows = await connection.fetch(
        """
        SELECT n, title, summary, author, source, created_at FROM cms_revision
        WHERE page = $1 AND ($2::int IS NULL OR n < $2) ORDER BY n DESC LIMIT $3
        """,
        page_id,
        before,
        limit,
    )
    return [RevisionRow(*row) for row in rows]


async def revision_content(connection: Any, page_id: uuid.UUID, n: int) -> StoredContent | None:
    row = await connection.fetchrow(
        """
        SELECT title, summary, markdown, html, plain_text, tags, audience, context_keys, front_matter
        FROM cms_revision WHERE page = $1 AND n = $2
        """,
        page_id,
        n,
    )
    return None if row is None else _typed(StoredContent, row)


# --- publishing ---------------------------------------------------------------------------------------------


async def publish_revision(
    connection: Any, page_id: uuid.UUID, n: int, *, config: str, folded: bool, at: datetime
) -> list[str] | None:
    """Point the page at revision n and rebuild its search vector with `config` (text folded first when
    `folded`); the revision's tags, or None when there is no such revision."""
    tags: list[str] | None = await connection.fetchval(
        """
        UPDATE cms_page p SET status = 'published', published_revision = r.n, published_at = $3,
               publish_at = NULL, scheduled_revision = NULL, updated_at = $3,
               search = setweight(to_tsvector($4::text::regconfig, CASE WHEN $5 THEN helsekort_fold_nordic(r.title) ELSE r.title END), 'A')
                     || setweight(to_tsvector($4::text::regconfig, CASE WHEN $5 THEN helsekort_fold_nordic(r.summary) ELSE r.summary END), 'B')
                     || setweight(to_tsvector($4::text::regconfig, CASE WHEN $5 THEN helsekort_fold_nordic(r.plain_text) ELSE r.plain_text END), 'C')
        FROM cms_revision r
        WHERE p.id = $1 AND r.page = $1 AND r.n = $2
        RETURNING r.tags
        """,
        page_id,
        n,
        at,
        config,
        folded,
    )
    return tags


async def schedule_publish(connection: Any, page_id: uuid.UUID, at: datetime, revision: int, now: datetime) -> None:
    await connection.execute(
        "UPDATE cms_page SET publish_at = $2, scheduled_revision = $3, updated_at = $4 WHERE id = $1",
        page_id,
        at,
        revision,
        now,
    )


async def unpublish(connection: Any, page_id: uuid.UUID, at: datetime) -> None:
    """Archive a published page (and forget its search vector and any scheduled unpublishing)."""
    await connection.execute(
        """
        UPDATE cms_page SET status = 'archived', unpublish_at = NULL, search = NULL, updated_at = $2
        WHERE id = $1 AND status = 'published'
        """,
        page_id,
        at,
    )


async def schedule_unpublish(connection: Any, page_id: uuid.UUID, at: datetime, now: datetime) -> None:
    await connection.execute("UPDATE cms_page SET unpublish_at = $2, updated_at = $3 WHERE id = $1", page_id, at, now)


async def clear_unpublish(connection: Any, page_id: uuid.UUID) -> None:
    await connection.execute("UPDATE cms_page SET unpublish_at = NULL WHERE id = $1", page_id)


async def claim_due_publishing(connection: Any, moment: datetime) -> list[DueSchedule]:
    """Pages whose scheduled publishing is due, locked (other workers skip them) until the transaction ends."""
    rows = await connection.fetch(
        """
        SELECT id, slug, locale, scheduled_revision, current_revision FROM cms_page
        WHERE publish_at IS NOT NULL AND publish_at <= $1
        ORDER BY publish_at FOR UPDATE SKIP LOCKED
        """,
        moment,
    )
    return [
        DueSchedule(row["id"], row["slug"], row["locale"], row["scheduled_revision"] or row["current_revision"])
        for row in rows
    ]


async def claim_due_unpublishing(connection: Any, moment: datetime) -> list[uuid.UUID]:
    """Pages whose scheduled unpublishing is due, locked like `claim_due_publishing`."""
    rows = await connection.fetch(
        """
        SELECT id FROM cms_page WHERE unpublish_at IS NOT NULL AND unpublish_at <= $1
        ORDER BY unpublish_at FOR UPDATE SKIP LOCKED
        """,
        moment,
    )
    return [row["id"] for row in rows]


# --- the content sync ---------------------------------------------------------------------------------------


async def sync_row(connection: Any, slug: str, locale: str) -> SyncRow | None:
    row = await connection.fetchrow(
        "SELECT source_digest, synced_revision, current_revision FROM cms_page WHERE slug = $1 AND locale = $2",
        slug,
        locale,
    )
    return None if row is None else SyncRow(*row)


async def mark_synced(connection: Any, page_id: uuid.UUID, n: int, digest: str) -> None:
    await connection.execute(
        "UPDATE cms_page SET synced_revision = $2, source_digest = $3 WHERE id = $1", page_id, n, digest
    )
