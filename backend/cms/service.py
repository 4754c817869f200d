"""The CMS's rules: drafts and revisions, publishing (now or scheduled), reading with locale fallback, search.

This module is the only place that queries the CMS tables. Every save is a revision; the draft row is
the working copy (the content of the current revision); publishing points the page at a revision and
rebuilds its search vector with the locale's text-search configuration. Editors' actions are audited.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from html import escape
from typing import Any

from backend.cms.rendering import plain_text, render_markdown
from backend.cms.schemas import (
    DEFAULT_LOCALE,
    LOCALES,
    DraftIn,
    EditorPage,
    Page,
    PageIn,
    PageList,
    PageSummary,
    Revision,
    RevisionList,
)
from backend.core.audit import record_editor_action
from backend.core.auth import EditorPrincipal
from backend.core.clock import utcnow
from backend.core.concurrency import etag, require_if_match
from backend.core.db import DB
from backend.core.errors import BadRequest, Conflict, NotFound
from backend.core.events import EventType, append_topic_event
from backend.core.paging import AtOffset, BeforeNumber, clamp_limit, decode_cursor, encode_cursor
from backend.core.settings import Settings
from backend.core.topics import is_topic

# PostgreSQL text-search configuration per locale (Northern Sami has none: no stemming).
SEARCH_CONFIG = {"nb": "norwegian", "nn": "norwegian", "en": "english", "se": "simple"}
# Published pages may be cached this long by clients and proxies; the process keeps them this long too.
PUBLIC_MAX_AGE = 60
PUBLIC_CACHE_CONTROL = f"public, max-age={PUBLIC_MAX_AGE}"
PAGE_CACHE_SECONDS = 2.0
SEARCH_LIMIT_DEFAULT = 20
# Snippets come from the start of a page: ts_headline re-parses its whole input, which made the
# page of results cost more than finding and ranking them (bench: cms-search-10k).
HEADLINE_SOURCE_CHARS = 4000

_KEY = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_ATC = re.compile(r"^[A-Z]([0-9]{2}([A-Z]([A-Z]([0-9]{2})?)?)?)?$")
_LOINC = re.compile(r"^[0-9]{1,7}-[0-9]$")
_GESTATIONAL_WEEK = "gestational-week"
_MAX_WEEK = 45


@dataclass(frozen=True, slots=True)
class Author:
    """Who saved: an editor (audited) or the content sync."""

    name: str
    editor: EditorPrincipal | None = None


SYNC_AUTHOR = Author(name="content-sync")


def editor_author(principal: EditorPrincipal) -> Author:
    return Author(name=principal.name or principal.sub, editor=principal)


# --- validation ------------------------------------------------------------------------------------------


def parse_locale(value: str | None, *, field: str = "locale") -> str:
    if value is None or value == "":
        return DEFAULT_LOCALE
    if value not in LOCALES:
        raise BadRequest(f"locale must be one of {', '.join(LOCALES)}", field=field)
    return value


def normalise_context_keys(keys: dict[str, Any], *, field: str = "contextKeys") -> dict[str, Any]:
    """Check context keys: `gestational-week` a week 0–45, `atc` an ATC code, `loinc` a LOINC code."""
    cleaned: dict[str, Any] = {}
    for key, raw in keys.items():
        where = f"{field}.{key}"
        if not _KEY.match(key) or len(key) > 48:
            raise BadRequest("context keys are lowercase words joined by hyphens", field=where)
        values = raw if isinstance(raw, list) else [raw]
        if not values or len(values) > 50:
            raise BadRequest("give one value or a list of up to 50 values", field=where)
        checked: list[str | int] = []
        for value in values:
            if isinstance(value, bool) or not isinstance(value, str | int):
                raise BadRequest("context values are text or whole numbers", field=where)
            if key == _GESTATIONAL_WEEK:
                if not isinstance(value, int) or not 0 <= value <= _MAX_WEEK:
                    raise BadRequest(f"gestational-week is a whole week from 0 to {_MAX_WEEK}", field=where)
            elif key == "atc":
                code = str(value).upper()
                if not _ATC.match(code):
                    raise BadRequest("not an ATC code (such as B03A or B03AA07)", field=where)
                value = code  # noqa: PLW2901 - ATC codes are stored upper-case
            elif key == "loinc":
                if not _LOINC.match(str(value)):
                    raise BadRequest("not a LOINC code (such as 718-7)", field=where)
            elif isinstance(value, str) and not 0 < len(value) <= 64:
                raise BadRequest("context values are 1 to 64 characters", field=where)
            checked.append(value)
        if key == _GESTATIONAL_WEEK and len(checked) != 1:
            raise BadRequest("a page suits one gestational week (the first of its window)", field=where)
        cleaned[key] = checked if isinstance(raw, list) else checked[0]
    return cleaned


def _check_draft(draft: DraftIn) -> dict[str, Any]:
    if not draft.title.strip():
        raise BadRequest("the title must not be blank", field="title")
    if len(set(draft.tags)) != len(draft.tags):
        raise BadRequest("a tag is listed twice", field="tags")
    return normalise_context_keys(draft.context_keys)


def _future(at: datetime | None, *, field: str = "at") -> datetime | None:
    if at is None:
        return None
    if at.tzinfo is None:
        raise BadRequest("give the time with its offset (RFC 3339), e.g. 2026-12-01T08:00:00+01:00", field=field)
    if at <= utcnow():
        raise BadRequest("the time is not in the future; leave `at` out to act now", field=field)
    return at


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


# --- the in-process cache of published pages (the hot path) ----------------------------------------------


@dataclass(frozen=True, slots=True)
class PublishedPage:
    page: Page
    etag: str
    last_modified: datetime
    # The response headers, built once per cached page (the 304 path does nothing else).
    headers: dict[str, str]


_page_cache: dict[tuple[str, str], tuple[float, PublishedPage | None]] = {}


def forget_cached_pages() -> None:
    """Writes in this process drop the cache at once; other processes see changes within PAGE_CACHE_SECONDS."""
    _page_cache.clear()


_PUBLISHED_SQL = """
SELECT p.locale, p.published_revision, p.published_at, r.title, r.summary, r.markdown, r.html, r.tags,
       r.audience, r.context_keys
FROM cms_page p JOIN cms_revision r ON r.page = p.id AND r.n = p.published_revision
WHERE p.slug = $1 AND p.locale = ANY($2::text[]) AND p.status = 'published'
ORDER BY (p.locale = $3) DESC
LIMIT 1
"""


def cached_published_page(slug: str, requested_locale: str) -> PublishedPage | None:
    """The page from this process's short cache, or None (absent or expired): no database, no waiting."""
    cached = _page_cache.get((slug, requested_locale))
    if cached is None or cached[0] <= time.monotonic():
        return None
    return cached[1]


async def published_page(slug: str, requested_locale: str) -> PublishedPage:
    """The published page in the requested locale, else in nb (`requestedLocale` says what was asked)."""
    key = (slug, requested_locale)
    now = time.monotonic()
    cached = _page_cache.get(key)
    if cached is not None and cached[0] > now:
        found = cached[1]
    else:
        locales = [requested_locale] if requested_locale == DEFAULT_LOCALE else [requested_locale, DEFAULT_LOCALE]
        async with DB.connection() as connection:
            row = await connection.fetchrow(_PUBLISHED_SQL, slug, locales, requested_locale)
        found = None
        if row is not None:
            page = Page(
                slug=slug,
                locale=row["locale"],
                requested_locale=requested_locale,
                title=row["title"],
                summary=row["summary"],
                markdown=row["markdown"],
                html=row["html"],
                tags=list(row["tags"]),
                audience=row["audience"],
                context_keys=_json(row["context_keys"]),
                updated_at=row["published_at"],
                revision=row["published_revision"],
            )
            tag = etag(f"{row['locale']}.{row['published_revision']}.{requested_locale}")
            headers = {
                "ETag": tag,
                "Last-Modified": format_datetime(row["published_at"], usegmt=True),
                "Cache-Control": PUBLIC_CACHE_CONTROL,
                "Content-Language": row["locale"],
            }
            found = PublishedPage(page=page, etag=tag, last_modified=row["published_at"], headers=headers)
        if len(_page_cache) > 10_000:
            _page_cache.clear()
        _page_cache[key] = (now + PAGE_CACHE_SECONDS, found)
    if found is None:
        raise NotFound("no published page with this slug")
    return found


# --- search and lists ------------------------------------------------------------------------------------

_LEXEME = re.compile(r"'((?:[^']|'')*)'")
_VOWELS = "aeiouyæøå"
_SINGULAR_EL = re.compile(rf"(.*[{_VOWELS}])([bdfgkmnpstv])\2?el")
_SYNCOPATED_L = re.compile(rf"(.*[{_VOWELS}])([bdfgkmnpstv])l")


def _norwegian_forms(lexeme: str) -> list[str]:
    """The Snowball stemmer keeps `legemiddel` but stems `legemidler` to `legemidl`: join the two forms.

    Norwegian nouns in -el drop the e (and a doubled consonant) when they inflect: middel → midler,
    regel → regler, sykkel → sykler. Both directions are added to the query as alternatives.
    """
    forms = [lexeme]
    singular = _SINGULAR_EL.fullmatch(lexeme)
    if singular:
        forms.append(f"{singular[1]}{singular[2]}l")
    syncopated = _SYNCOPATED_L.fullmatch(lexeme)
    if syncopated:
        stem, consonant = syncopated[1], syncopated[2]
        forms += [f"{stem}{consonant}el", f"{stem}{consonant}{consonant}el"]
    return list(dict.fromkeys(forms))


def expand_norwegian_query(tsquery: str) -> str:
    def alternatives(match: re.Match[str]) -> str:
        forms = _norwegian_forms(match[1])
        if len(forms) == 1:
            return match[0]
        return "( " + " | ".join(f"'{form}'" for form in forms) + " )"

    return _LEXEME.sub(alternatives, tsquery)


# Norwegian text is searched folded to ASCII, so that `provesvar`, `proevesvar` and `prøvesvar` are one
# word: æ/ae → a, ø/oe → o, å/aa → a, in the pages (SQL function helsekort_fold_nordic, migration
# cms_2026_11_30t23_20_00) and in the query. Folding before stemming treats both spellings alike by construction.
FOLDED_CONFIGS = frozenset({"norwegian"})
_FOLD_LETTERS = str.maketrans({"Æ": "æ", "Ø": "ø", "Å": "å"})
_FOLD_STEPS = (("æ", "ae"), ("ø", "oe"), ("å", "aa"), ("aa", "a"), ("oe", "o"), ("ae", "a"))
# PostgreSQL's Norwegian stop words that folding changes; their folded (and ASCII-typed) spellings are
# dropped from a query, as the words themselves are.
_STOP_WORDS_FOLDING_CHANGES = [
    "på",
    "så",
    "nå",
    "sjøl",
    "når",
    "være",
    "noen",
    "noe",
    "å",
    "sånn",
    "vår",
    "både",
    "før",
    "også",
    "vært",
    "båe",
    "då",
    "hjå",
    "hoe",
]
_WORD = re.compile(r"\w+")


def fold_nordic(text: str) -> str:
    """The Python twin of the SQL function helsekort_fold_nordic (same steps, same order)."""
    folded = text.translate(_FOLD_LETTERS).lower()
    for letter, replacement in _FOLD_STEPS:
        folded = folded.replace(letter, replacement)
    return folded


_FOLDED_STOP_WORDS = frozenset(fold_nordic(word) for word in _STOP_WORDS_FOLDING_CHANGES)


def without_folded_stop_words(q: str) -> str:
    """`pa`, `naar`, `noen` → `og`, a stop word the parser drops, so the query keeps its shape."""
    return _WORD.sub(lambda match: "og" if fold_nordic(match[0]) in _FOLDED_STOP_WORDS else match[0], q)


# An ASCII-typed word may stand for æøå in the page: the snippet marks the page's spelling too.
_RESPELLINGS = {"oe": ("oe", "ø"), "aa": ("aa", "å"), "ae": ("ae", "æ"), "o": ("o", "ø"), "a": ("a", "å", "æ")}
_RESPELLABLE = re.compile("oe|aa|ae|o|a")
MAX_RESPELLINGS = 32


def norwegian_respellings(lexeme: str) -> list[str]:
    """`provesvar` → provesvar, prøvesvar, …: every æøå spelling of an ASCII word (at most 32, else itself)."""
    if not lexeme.isascii():
        return [lexeme]
    forms = [""]
    position = 0
    for match in _RESPELLABLE.finditer(lexeme):
        plain = lexeme[position : match.start()]
        forms = [form + plain + option for form in forms for option in _RESPELLINGS[match[0]]]
        if len(forms) > MAX_RESPELLINGS:
            return [lexeme]
        position = match.end()
    return [form + lexeme[position:] for form in forms]


def _respelled_query(tsquery: str) -> str:
    def alternatives(match: re.Match[str]) -> str:
        forms = norwegian_respellings(match[1])
        if len(forms) == 1:
            return match[0]
        return "( " + " | ".join(f"'{form}'" for form in forms) + " )"

    return _LEXEME.sub(alternatives, tsquery)


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """`match` finds and ranks pages (folded for Norwegian); `highlight` marks the words in the snippet."""

    match: str
    highlight: str


_tsqueries: dict[tuple[str, str], SearchQuery] = {}


async def _tsquery(connection: Any, config: str, q: str) -> SearchQuery:
    """The search text as tsqueries; memoised, as they depend only on the configuration and the text."""
    cached = _tsqueries.get((config, q))
    if cached is not None:
        return cached
    if config in FOLDED_CONFIGS:
        row = await connection.fetchrow(
            "SELECT websearch_to_tsquery($1::text::regconfig, helsekort_fold_nordic($2))::text AS match, "
            "websearch_to_tsquery($1::text::regconfig, $3)::text AS highlight",
            config,
            without_folded_stop_words(q),
            q,
        )
        result = SearchQuery(
            expand_norwegian_query(row["match"]), _respelled_query(expand_norwegian_query(row["highlight"]))
        )
    else:
        text: str = await connection.fetchval("SELECT websearch_to_tsquery($1::text::regconfig, $2)::text", config, q)
        result = SearchQuery(text, text)
    if len(_tsqueries) > 10_000:
        _tsqueries.clear()
    _tsqueries[(config, q)] = result
    return result


def parse_context(value: str | None) -> tuple[str, str | int] | None:
    """`gestational-week:24`, `atc:B03AA07`, `loinc:718-7` → (key, value)."""
    if value is None or value == "":
        return None
    key, sep, raw = value.partition(":")
    if not sep or not _KEY.match(key) or not raw.strip():
        raise BadRequest("context is key:value, e.g. gestational-week:24 or atc:B03A", field="context")
    raw = raw.strip()
    if key == _GESTATIONAL_WEEK:
        # ASCII digits only: "²".isdigit() is true, but int("²") fails.
        if not (raw.isascii() and raw.isdigit()) or int(raw) > _MAX_WEEK:
            raise BadRequest(f"gestational-week is a whole week from 0 to {_MAX_WEEK}", field="context")
        return key, int(raw)
    if key == "atc" and not _ATC.match(raw.upper()):
        raise BadRequest("not an ATC code (such as B03A or B03AA07)", field="context")
    if len(raw) > 64:
        raise BadRequest("the context value is too long", field="context")
    return key, raw


_HEADLINE_OPTIONS = 'StartSel="\x02", StopSel="\x03", MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "'


def _snippet(headline: str | None) -> str | None:
    """ts_headline's text HTML-escaped, with only the matches marked: safe to show as HTML."""
    if headline is None:
        return None
    return escape(headline, quote=False).replace("\x02", "<mark>").replace("\x03", "</mark>")


async def list_pages(
    *,
    locale: str,
    q: str | None,
    tag: str | None,
    audience: str | None,
    context: str | None,
    cursor: str | None,
    limit: int | None,
) -> PageList:
    """Published pages in the locale (else nb), filtered; with `q`, ranked by relevance with snippets.

    `context=gestational-week:N` picks the pages for the latest consultation at or before week N (the
    pages whose week is the greatest one not above N). `context=atc:CODE` matches pages whose ATC code is
    CODE or a group above it (B03A suits B03AA07); other keys match their value exactly.
    """
    size = clamp_limit(limit if limit is not None else SEARCH_LIMIT_DEFAULT)
    position = decode_cursor(cursor, AtOffset)
    offset = position.o if position else 0
    if audience is not None and audience not in ("citizen", "clinician"):
        raise BadRequest("audience is citizen or clinician", field="audience")
    context_filter = parse_context(context)
    query_text = (q or "").strip() or None
    if query_text is not None and len(query_text) > 200:
        raise BadRequest("the search text is at most 200 characters", field="q")

    params: list[Any] = [locale]
    where = ["p.status = 'published'"]
    if locale == DEFAULT_LOCALE:
        where.append("p.locale = $1")
    else:
        where.append(
            "(p.locale = $1 OR (p.locale = 'nb' AND NOT EXISTS (SELECT 1 FROM cms_page t "
            "WHERE t.slug = p.slug AND t.locale = $1 AND t.status = 'published')))"
        )

    def param(value: Any) -> str:
        params.append(value)
        return f"${len(params)}"

    async with DB.connection() as connection:
        rank_sql = "NULL::real"
        headline_sql = "NULL::text"
        if query_text is not None:
            own = await _tsquery(connection, SEARCH_CONFIG[locale], query_text)
            fallback = (
                own if SEARCH_CONFIG[locale] == "norwegian" else await _tsquery(connection, "norwegian", query_text)
            )
            if not own.match.strip() and not fallback.match.strip():
                return PageList(items=[], next=None)
            own_p, fallback_p = param(own.match or "''"), param(fallback.match or "''")
            own_mark_p, fallback_mark_p = param(own.highlight or "''"), param(fallback.highlight or "''")
            config_p = param(SEARCH_CONFIG[locale])
            query_of_row = f"(CASE WHEN p.locale = $1 THEN {own_p} ELSE {fallback_p} END)::tsquery"
            if locale == DEFAULT_LOCALE:
                where.append(f"p.search @@ {own_p}::tsquery")
            else:
                where.append(
                    f"((p.locale = $1 AND p.search @@ {own_p}::tsquery) OR "
                    f"(p.locale = 'nb' AND p.search @@ {fallback_p}::tsquery))"
                )
            rank_sql = f"ts_rank(p.search, {query_of_row})"
            headline_sql = (
                f"ts_headline(CASE WHEN c.locale = $1 THEN {config_p} ELSE 'norwegian' END::regconfig, "
                f"c.plain_text, (CASE WHEN c.locale = $1 THEN {own_mark_p} ELSE {fallback_mark_p} END)::tsquery, "
                f"{param(_HEADLINE_OPTIONS)})"
            )
        if tag is not None:
            where.append(f"{param(tag)} = ANY(r.tags)")
        if audience is not None:
            where.append(f"r.audience = {param(audience)}")
        week_sql = ""
        if context_filter is not None:
            key, value = context_filter
            if key == _GESTATIONAL_WEEK:
                week_p = param(value)
                where.append(f"(r.context_keys->>'gestational-week')::int <= {week_p}")
                week_sql = "WHERE c.week = (SELECT max(week) FROM candidates)"
            else:
                key_p, value_p = param(key), param(str(value))
                compare = (
                    f"upper({value_p}) LIKE upper(v.value) || '%'"
                    if key == "atc"
                    else f"lower(v.value) = lower({value_p})"
                )
                where.append(
                    f"EXISTS (SELECT 1 FROM jsonb_array_elements_text(CASE jsonb_typeof(r.context_keys->{key_p}) "  # noqa: S608
                    f"WHEN 'array' THEN r.context_keys->{key_p} ELSE jsonb_build_array(r.context_keys->{key_p}) END) "
                    f"AS v(value) WHERE {compare})"
                )
        limit_p, offset_p = param(size + 1), param(offset)
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
                   r.context_keys,
                   {headline_sql.replace("c.plain_text", f"left(r.plain_text, {HEADLINE_SOURCE_CHARS})")} AS headline
            FROM picked c JOIN cms_revision r ON r.page = c.id AND r.n = c.published_revision
            ORDER BY c.rank DESC NULLS LAST, c.week NULLS LAST, c.title, c.slug
        """  # noqa: S608 - only placeholders and fixed fragments are interpolated
        rows = await connection.fetch(sql, *params)
    items = [
        PageSummary(
            slug=row["slug"],
            locale=row["locale"],
            requested_locale=locale,
            title=row["title"],
            summary=row["summary"],
            tags=list(row["tags"]),
            audience=row["audience"],
            context_keys=_json(row["context_keys"]),
            updated_at=row["published_at"],
            rank=row["rank"],
            snippet=_snippet(row["headline"]),
        )
        for row in rows[:size]
    ]
    next_cursor = encode_cursor(AtOffset(o=offset + size)) if len(rows) > size else None
    return PageList(items=items, next=next_cursor)


# --- editor reads ----------------------------------------------------------------------------------------

_EDITOR_SQL = """
SELECT p.id, p.slug, p.locale, p.status, p.version, p.current_revision, p.published_revision, p.published_at,
       p.publish_at, p.unpublish_at, d.title, d.summary, d.markdown, d.html, d.tags, d.audience, d.context_keys,
       d.updated_at, d.updated_by
FROM cms_page p JOIN cms_draft d ON d.page = p.id
WHERE p.slug = $1 AND p.locale = $2
"""


def _editor_page(row: Any) -> EditorPage:
    return EditorPage(
        slug=row["slug"],
        locale=row["locale"],
        requested_locale=row["locale"],
        title=row["title"],
        summary=row["summary"],
        markdown=row["markdown"],
        html=row["html"],
        tags=list(row["tags"]),
        audience=row["audience"],
        context_keys=_json(row["context_keys"]),
        updated_at=row["updated_at"],
        updated_by=row["updated_by"],
        status=row["status"],
        version=row["version"],
        revision=row["current_revision"],
        published_revision=row["published_revision"],
        published_at=row["published_at"],
        publish_at=row["publish_at"],
        unpublish_at=row["unpublish_at"],
    )


async def _editor_view(connection: Any, slug: str, locale: str) -> EditorPage:
    row = await connection.fetchrow(_EDITOR_SQL, slug, locale)
    if row is None:
        raise NotFound("no page with this slug in this locale")
    return _editor_page(row)


async def _audit(author: Author, action: str, slug: str, locale: str) -> None:
    if author.editor is not None:
        await record_editor_action(author.editor, action=action, resource_type="page", resource_id=f"{slug}/{locale}")


async def preview(principal: EditorPrincipal, slug: str, locale: str) -> EditorPage:
    await _audit(editor_author(principal), "cms.preview", slug, locale)
    async with DB.connection() as connection:
        view = await _editor_view(connection, slug, locale)
    return view  # noqa: RET504 - answered only once the transaction has committed


async def revisions(principal: EditorPrincipal, slug: str, locale: str, cursor: str | None) -> RevisionList:
    """Newest first, 50 to a page."""
    await _audit(editor_author(principal), "cms.revisions", slug, locale)
    position = decode_cursor(cursor, BeforeNumber)
    before = position.n if position else None
    size = 50
    async with DB.connection() as connection:
        page = await connection.fetchrow(
            "SELECT id, current_revision, published_revision FROM cms_page WHERE slug = $1 AND locale = $2",
            slug,
            locale,
        )
        if page is None:
            raise NotFound("no page with this slug in this locale")
        rows = await connection.fetch(
            """
            SELECT n, title, summary, author, source, created_at FROM cms_revision
            WHERE page = $1 AND ($2::int IS NULL OR n < $2) ORDER BY n DESC LIMIT $3
            """,
            page["id"],
            before,
            size + 1,
        )
    items = [
        Revision(
            n=row["n"],
            title=row["title"],
            summary=row["summary"],
            author=row["author"],
            source=row["source"],
            created_at=row["created_at"],
            current=row["n"] == page["current_revision"],
            published=row["n"] == page["published_revision"],
        )
        for row in rows[:size]
    ]
    return RevisionList(items=items, next=encode_cursor(BeforeNumber(n=items[-1].n)) if len(rows) > size else None)


# --- writes ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Content:
    """What one save stores: the editor's input, rendered and checked."""

    title: str
    summary: str
    markdown: str
    html: str
    plain_text: str
    tags: list[str]
    audience: str
    context_keys: dict[str, Any]
    front_matter: dict[str, Any]

    @classmethod
    def from_draft(cls, draft: DraftIn, front_matter: dict[str, Any] | None = None) -> Content:
        context_keys = _check_draft(draft)
        html = render_markdown(draft.markdown)
        return cls(
            title=draft.title.strip(),
            summary=draft.summary.strip(),
            markdown=draft.markdown,
            html=html,
            plain_text=plain_text(html),
            tags=list(draft.tags),
            audience=draft.audience,
            context_keys=context_keys,
            front_matter=front_matter or {},
        )


async def _insert_revision(
    connection: Any, page_id: uuid.UUID, n: int, content: Content, *, author: Author, source: str, at: datetime
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
        author.name,
        source,
        at,
    )


async def _write_draft(connection: Any, page_id: uuid.UUID, content: Content, author: Author, at: datetime) -> None:
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
        author.name,
    )


async def create_page(
    author: Author, page: PageIn, *, source: str = "api", front_matter: dict[str, Any] | None = None
) -> EditorPage:
    """A new page in one locale as a draft, with revision 1. The slug and locale must be new (409)."""
    content = Content.from_draft(page, front_matter)
    now = utcnow()
    async with DB.transaction(), DB.connection() as connection:
        page_id = await connection.fetchval(
            """
            INSERT INTO cms_page (id, slug, locale, status, version, current_revision, created_at, updated_at)
            VALUES ($1, $2, $3, 'draft', 1, 1, $4, $4)
            ON CONFLICT (slug, locale) DO NOTHING
            RETURNING id
            """,
            uuid.uuid4(),
            page.slug,
            page.locale,
            now,
        )
        if page_id is None:
            raise Conflict("a page with this slug already exists in this locale; change its draft instead")
        await _insert_revision(connection, page_id, 1, content, author=author, source=source, at=now)
        await _write_draft(connection, page_id, content, author, now)
        await _audit(author, "cms.create", page.slug, page.locale)
        view = await _editor_view(connection, page.slug, page.locale)
    return view  # noqa: RET504 - answered only once the transaction has committed


async def _lock_page(connection: Any, slug: str, locale: str) -> Any:
    row = await connection.fetchrow(
        """
        SELECT id, status, version, current_revision, published_revision, synced_revision
        FROM cms_page WHERE slug = $1 AND locale = $2 FOR UPDATE
        """,
        slug,
        locale,
    )
    if row is None:
        raise NotFound("no page with this slug in this locale")
    return row


async def _save_revision(connection: Any, page: Any, content: Content, author: Author, source: str) -> int:
    now = utcnow()
    n = page["current_revision"] + 1
    await _insert_revision(connection, page["id"], n, content, author=author, source=source, at=now)
    await _write_draft(connection, page["id"], content, author, now)
    await connection.execute(
        "UPDATE cms_page SET version = version + 1, current_revision = $2, updated_at = $3 WHERE id = $1",
        page["id"],
        n,
        now,
    )
    return int(n)


async def save_draft(
    author: Author, slug: str, locale: str, draft: DraftIn, *, if_match: str | None, source: str = "api"
) -> EditorPage:
    """Replace the draft (a new revision); `If-Match` must carry the version read (428 / 412)."""
    content = Content.from_draft(draft)
    async with DB.transaction(), DB.connection() as connection:
        page = await _lock_page(connection, slug, locale)
        require_if_match(if_match, page["version"], resource="draft")
        await _save_revision(connection, page, content, author, source)
        await _audit(author, "cms.save-draft", slug, locale)
        view = await _editor_view(connection, slug, locale)
    return view  # noqa: RET504 - answered only once the transaction has committed


async def restore_revision(author: Author, slug: str, locale: str, n: int, *, if_match: str | None) -> EditorPage:
    """Make revision `n`'s content the draft again, as a new revision (nothing is lost).

    `If-Match` is checked when sent; without it the restore still goes ahead, since the draft it
    replaces stays in the history as a revision.
    """
    async with DB.transaction(), DB.connection() as connection:
        page = await _lock_page(connection, slug, locale)
        if if_match is not None:
            require_if_match(if_match, page["version"], resource="draft")
        row = await connection.fetchrow("SELECT * FROM cms_revision WHERE page = $1 AND n = $2", page["id"], n)
        if row is None:
            raise NotFound("no such revision of this page")
        content = Content(
            title=row["title"],
            summary=row["summary"],
            markdown=row["markdown"],
            html=row["html"],
            plain_text=row["plain_text"],
            tags=list(row["tags"]),
            audience=row["audience"],
            context_keys=_json(row["context_keys"]),
            front_matter=_json(row["front_matter"]),
        )
        await _save_revision(connection, page, content, author, "restore")
        await _audit(author, "cms.restore", slug, locale)
        view = await _editor_view(connection, slug, locale)
    return view  # noqa: RET504 - answered only once the transaction has committed


async def _publish_revision(connection: Any, page_id: uuid.UUID, slug: str, locale: str, n: int) -> None:
    """Point the page at revision n, rebuild its search vector, and tell the followers of its topics."""
    tags = await connection.fetchval(
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
        utcnow(),
        SEARCH_CONFIG[locale],
        SEARCH_CONFIG[locale] in FOLDED_CONFIGS,
    )
    for tag in tags or []:
        if is_topic(tag):
            await append_topic_event(tag, EventType.PAGE_PUBLISHED, slug)
    forget_cached_pages()


async def publish(author: Author, slug: str, locale: str, at: datetime | None) -> EditorPage:
    """Publish the current revision now, or schedule it for `at` (a future time; else 400)."""
    when = _future(at)
    async with DB.transaction(), DB.connection() as connection:
        page = await _lock_page(connection, slug, locale)
        if when is None:
            await _publish_revision(connection, page["id"], slug, locale, page["current_revision"])
            await _audit(author, "cms.publish", slug, locale)
        else:
            await connection.execute(
                "UPDATE cms_page SET publish_at = $2, scheduled_revision = $3, updated_at = $4 WHERE id = $1",
                page["id"],
                when,
                page["current_revision"],
                utcnow(),
            )
            await _audit(author, "cms.schedule-publish", slug, locale)
        view = await _editor_view(connection, slug, locale)
    forget_cached_pages()  # again after the commit, so no reader re-caches the old page in between
    return view


async def _unpublish(connection: Any, page_id: uuid.UUID) -> None:
    await connection.execute(
        """
        UPDATE cms_page SET status = 'archived', unpublish_at = NULL, search = NULL, updated_at = $2
        WHERE id = $1 AND status = 'published'
        """,
        page_id,
        utcnow(),
    )
    forget_cached_pages()


async def unpublish(author: Author, slug: str, locale: str, at: datetime | None) -> EditorPage:
    """Take the page off the site now (it becomes archived), or at `at`; a page not published → 409 now."""
    when = _future(at)
    async with DB.transaction(), DB.connection() as connection:
        page = await _lock_page(connection, slug, locale)
        if when is None:
            if page["status"] != "published":
                raise Conflict("the page is not published")
            await _unpublish(connection, page["id"])
            await _audit(author, "cms.unpublish", slug, locale)
        else:
            await connection.execute(
                "UPDATE cms_page SET unpublish_at = $2, updated_at = $3 WHERE id = $1", page["id"], when, utcnow()
            )
            await _audit(author, "cms.schedule-unpublish", slug, locale)
        view = await _editor_view(connection, slug, locale)
    forget_cached_pages()
    return view


async def run_due_schedules(now: datetime | None = None) -> int:
    """Publish and unpublish what is due at `now` (the worker's job); safe with any number of workers."""
    moment = now or utcnow()
    handled = 0
    async with DB.transaction(), DB.connection() as connection:
        due = await connection.fetch(
            """
            SELECT id, slug, locale, scheduled_revision, current_revision FROM cms_page
            WHERE publish_at IS NOT NULL AND publish_at <= $1
            ORDER BY publish_at FOR UPDATE SKIP LOCKED
            """,
            moment,
        )
        for row in due:
            revision = row["scheduled_revision"] or row["current_revision"]
            await _publish_revision(connection, row["id"], row["slug"], row["locale"], revision)
            handled += 1
        ending = await connection.fetch(
            """
            SELECT id FROM cms_page WHERE unpublish_at IS NOT NULL AND unpublish_at <= $1
            ORDER BY unpublish_at FOR UPDATE SKIP LOCKED
            """,
            moment,
        )
        for row in ending:
            await _unpublish(connection, row["id"])
            await connection.execute("UPDATE cms_page SET unpublish_at = NULL WHERE id = $1", row["id"])
            handled += 1
    if handled:
        forget_cached_pages()
    return handled


# --- content sync's access to pages ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SyncState:
    digest: str | None
    edited_since_sync: bool


async def sync_state(slug: str, locale: str) -> SyncState | None:
    async with DB.connection() as connection:
        row = await connection.fetchrow(
            "SELECT source_digest, synced_revision, current_revision FROM cms_page WHERE slug = $1 AND locale = $2",
            slug,
            locale,
        )
    if row is None:
        return None
    return SyncState(digest=row["source_digest"], edited_since_sync=row["synced_revision"] != row["current_revision"])


async def sync_page(page: PageIn, front_matter: dict[str, Any], digest: str, *, publish_now: bool) -> str:
    """Write one content file: create the page or add a revision, then publish when the file says so."""
    content = Content.from_draft(page, front_matter)
    now = utcnow()
    async with DB.transaction(), DB.connection() as connection:
        existing = await connection.fetchrow(
            "SELECT id FROM cms_page WHERE slug = $1 AND locale = $2 FOR UPDATE", page.slug, page.locale
        )
        if existing is None:
            page_id = uuid.uuid4()
            await connection.execute(
                """
                INSERT INTO cms_page (id, slug, locale, status, version, current_revision, created_at, updated_at)
                VALUES ($1, $2, $3, 'draft', 1, 0, $4, $4)
                """,
                page_id,
                page.slug,
                page.locale,
                now,
            )
            outcome = "created"
        else:
            page_id = existing["id"]
            outcome = "updated"
        locked = await _lock_page(connection, page.slug, page.locale)
        n = await _save_revision(connection, locked, content, SYNC_AUTHOR, "sync")
        await connection.execute(
            "UPDATE cms_page SET synced_revision = $2, source_digest = $3 WHERE id = $1", page_id, n, digest
        )
        if publish_now:
            await _publish_revision(connection, page_id, page.slug, page.locale, n)
    forget_cached_pages()
    return outcome


async def publish_due_pages(settings: Settings) -> int:
    """The worker's job: scheduled publishing and unpublishing that is due now."""
    return await run_due_schedules()
