"""Search and lists of published pages: Norwegian query widening (inflection, æøå folding and respelling),
the memoised tsqueries, and the filtered, ranked page of results."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from typing import Any

from backend.cms import queries
from backend.cms.schemas import DEFAULT_LOCALE, PageList, PageSummary
from backend.cms.service.cache import ShortCache
from backend.cms.service.inputs import parse_context
from backend.core.db import DB
from backend.core.errors import BadRequest
from backend.core.paging import AtOffset, clamp_limit, decode_cursor, keyset_page

# PostgreSQL text-search configuration per locale (Northern Sami has none: no stemming).
SEARCH_CONFIG = {"nb": "norwegian", "nn": "norwegian", "en": "english", "se": "simple"}
SEARCH_LIMIT_DEFAULT = 20

# Pages of results by every parameter that shapes them (a publish anywhere in this process drops them).
_results: ShortCache[tuple[str, str | None, str | None, str | None, str | None, int, int], PageList] = ShortCache()

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
        match, highlight = await queries.folded_tsqueries(connection, config, without_folded_stop_words(q), q)
        result = SearchQuery(expand_norwegian_query(match), _respelled_query(expand_norwegian_query(highlight)))
    else:
        text = await queries.tsquery(connection, config, q)
        result = SearchQuery(text, text)
    if len(_tsqueries) > 10_000:
        _tsqueries.clear()
    _tsqueries[(config, q)] = result
    return result


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
    key = (locale, query_text, tag, audience, context, offset, size)
    return await _results.get_or_compute(
        key,
        lambda: _search(
            locale=locale,
            query_text=query_text,
            tag=tag,
            audience=audience,
            context_filter=context_filter,
            offset=offset,
            size=size,
        ),
    )


async def _search(
    *,
    locale: str,
    query_text: str | None,
    tag: str | None,
    audience: str | None,
    context_filter: tuple[str, str | int] | None,
    offset: int,
    size: int,
) -> PageList:

    async with DB.connection() as connection:
        text = None
        if query_text is not None:
            config = SEARCH_CONFIG[locale]
            own = await _tsquery(connection, config, query_text)
            fallback = own if config == "norwegian" else await _tsquery(connection, "norwegian", query_text)
            if not own.match.strip() and not fallback.match.strip():
                return PageList(items=[], next=None)
            text = queries.TextSearch(config, own.match, own.highlight, fallback.match, fallback.highlight)
        shown = queries.PageFilter(
            locale=locale,
            falls_back=locale != DEFAULT_LOCALE,
            text=text,
            tag=tag,
            audience=audience,
            context=context_filter,
        )
        rows = await queries.published_summaries(connection, shown, limit=size + 1, offset=offset)
    # Ranked results page by offset: the cursor of a page is where the next one starts.
    kept, following = keyset_page(rows, size, lambda _last: AtOffset(o=offset + size))
    items = [
        PageSummary(
            slug=row.slug,
            locale=row.locale,
            requested_locale=locale,
            title=row.title,
            summary=row.summary,
            tags=row.tags,
            audience=row.audience,
            context_keys=row.context_keys,
            updated_at=row.published_at,
            rank=row.rank,
            snippet=_snippet(row.headline),
        )
        for row in kept
    ]
    return PageList(items=items, next=following)
