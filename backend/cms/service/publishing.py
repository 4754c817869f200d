"""Publishing: now or at a scheduled time, taking a page off the site, and the worker's job for what is due.

Publishing points the page at a revision and rebuilds its search vector with the locale's text-search
configuration, tells the followers of its topics (`page.published`), and drops this process's page cache.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from backend.cms import queries
from backend.cms.schemas import EditorPage
from backend.cms.service.drafts import editor_view, lock_page
from backend.cms.service.inputs import Author, audit, future
from backend.cms.service.published import forget_cached_pages
from backend.cms.service.search import FOLDED_CONFIGS, SEARCH_CONFIG
from backend.core.clock import utcnow
from backend.core.db import DB
from backend.core.errors import Conflict
from backend.core.events import EventType, append_topic_event
from backend.core.settings import Settings
from backend.core.topics import is_topic


async def publish_revision(connection: Any, page_id: uuid.UUID, slug: str, locale: str, n: int) -> None:
    """Point the page at revision n, rebuild its search vector, and tell the followers of its topics."""
    config = SEARCH_CONFIG[locale]
    tags = await queries.publish_revision(
        connection, page_id, n, config=config, folded=config in FOLDED_CONFIGS, at=utcnow()
    )
    for tag in tags or []:
        if is_topic(tag):
            await append_topic_event(tag, EventType.PAGE_PUBLISHED, slug)
    forget_cached_pages()


async def publish(author: Author, slug: str, locale: str, at: datetime | None) -> EditorPage:
    """Publish the current revision now, or schedule it for `at` (a future time; else 400)."""
    when = future(at)
    async with DB.transaction(), DB.connection() as connection:
        page = await lock_page(connection, slug, locale)
        if when is None:
            await publish_revision(connection, page.id, slug, locale, page.current_revision)
            await audit(author, "cms.publish", slug, locale)
        else:
            await queries.schedule_publish(connection, page.id, when, page.current_revision, utcnow())
            await audit(author, "cms.schedule-publish", slug, locale)
        view = await editor_view(connection, slug, locale)
    forget_cached_pages()  # again after the commit, so no reader re-caches the old page in between
    return view


async def _unpublish(connection: Any, page_id: uuid.UUID) -> None:
    await queries.unpublish(connection, page_id, utcnow())
    forget_cached_pages()


async def unpublish(author: Author, slug: str, locale: str, at: datetime | None) -> EditorPage:
    """Take the page off the site now (it becomes archived), or at `at`; a page not published → 409 now."""
    when = future(at)
    async with DB.transaction(), DB.connection() as connection:
        page = await lock_page(connection, slug, locale)
        if when is None:
            if page.status != "published":
                raise Conflict("the page is not published")
            await _unpublish(connection, page.id)
            await audit(author, "cms.unpublish", slug, locale)
        else:
            await queries.schedule_unpublish(connection, page.id, when, utcnow())
            await audit(author, "cms.schedule-unpublish", slug, locale)
        view = await editor_view(connection, slug, locale)
    forget_cached_pages()
    return view


async def run_due_schedules(now: datetime | None = None) -> int:
    """Publish and unpublish what is due at `now` (the worker's job); safe with any number of workers."""
    moment = now or utcnow()
    handled = 0
    async with DB.transaction(), DB.connection() as connection:
        for due in await queries.claim_due_publishing(connection, moment):
            await publish_revision(connection, due.id, due.slug, due.locale, due.revision)
            handled += 1
        for page_id in await queries.claim_due_unpublishing(connection, moment):
            await _unpublish(connection, page_id)
            await queries.clear_unpublish(connection, page_id)
            handled += 1
    if handled:
        forget_cached_pages()
    return handled


async def publish_due_pages(settings: Settings) -> int:
    """The worker's job: scheduled publishing and unpublishing that is due now."""
    return await run_due_schedules()
