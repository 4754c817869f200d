"""Published pages as readers get them (the hot path): a short in-process cache in front of one statement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime

from backend.cms import queries
from backend.cms.schemas import DEFAULT_LOCALE, Page
from backend.cms.service.cache import SECONDS, ShortCache, forget_cached_content
from backend.core.concurrency import etag
from backend.core.db import DB
from backend.core.errors import NotFound

# Published pages may be cached this long by clients and proxies; the process keeps them this long too.
PUBLIC_MAX_AGE = 60
PUBLIC_CACHE_CONTROL = f"public, max-age={PUBLIC_MAX_AGE}"
PAGE_CACHE_SECONDS = SECONDS


@dataclass(frozen=True, slots=True)
class PublishedPage:
    page: Page
    etag: str
    last_modified: datetime
    # The response headers, built once per cached page (the 304 path does nothing else).
    headers: dict[str, str]


_pages: ShortCache[tuple[str, str], PublishedPage | None] = ShortCache()


def forget_cached_pages() -> None:
    """Writes in this process drop the caches at once; other processes see changes within PAGE_CACHE_SECONDS."""
    forget_cached_content()


def cached_published_page(slug: str, requested_locale: str) -> PublishedPage | None:
    """The page from this process's short cache, or None (absent or expired): no database, no waiting."""
    return _pages.get((slug, requested_locale))[1]


def _answer(slug: str, requested_locale: str, row: queries.PublishedRow) -> PublishedPage:
    page = Page(
        slug=slug,
        locale=row.locale,
        requested_locale=requested_locale,
        title=row.title,
        summary=row.summary,
        markdown=row.markdown,
        html=row.html,
        tags=row.tags,
        audience=row.audience,
        context_keys=row.context_keys,
        updated_at=row.published_at,
        revision=row.revision,
    )
    tag = etag(f"{row.locale}.{row.revision}.{requested_locale}")
    headers = {
        "ETag": tag,
        "Last-Modified": format_datetime(row.published_at, usegmt=True),
        "Cache-Control": PUBLIC_CACHE_CONTROL,
        "Content-Language": row.locale,
    }
    return PublishedPage(page=page, etag=tag, last_modified=row.published_at, headers=headers)


async def published_page(slug: str, requested_locale: str) -> PublishedPage:
    """The published page in the requested locale, else in nb (`requestedLocale` says what was asked)."""
    key = (slug, requested_locale)
    hit, found = _pages.get(key)
    if not hit:
        locales = [requested_locale] if requested_locale == DEFAULT_LOCALE else [requested_locale, DEFAULT_LOCALE]
        async with DB.connection() as connection:
            row = await queries.published_page(connection, slug, locales, requested_locale)
        found = None if row is None else _answer(slug, requested_locale, row)
        _pages.put(key, found)
    if found is None:
        raise NotFound("no published page with this slug")
    return found
