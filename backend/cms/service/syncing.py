"""The content sync's side of the pages (`helsekort content sync`, sync.py): what was last synced, and
writing one content file as a revision (and publishing it when the file says so)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.cms import queries
from backend.cms.schemas import PageIn
from backend.cms.service.drafts import Content, lock_page, save_revision
from backend.cms.service.inputs import SYNC_AUTHOR
from backend.cms.service.published import forget_cached_pages
from backend.cms.service.publishing import publish_revision
from backend.core.clock import utcnow
from backend.core.db import DB


@dataclass(frozen=True, slots=True)
class SyncState:
    digest: str | None
    edited_since_sync: bool


async def sync_state(slug: str, locale: str) -> SyncState | None:
    async with DB.connection() as connection:
        row = await queries.sync_row(connection, slug, locale)
    if row is None:
        return None
    return SyncState(digest=row.source_digest, edited_since_sync=row.synced_revision != row.current_revision)


async def sync_page(page: PageIn, front_matter: dict[str, Any], digest: str, *, publish_now: bool) -> str:
    """Write one content file: create the page or add a revision, then publish when the file says so."""
    content = Content.from_draft(page, front_matter)
    async with DB.transaction(), DB.connection() as connection:
        locked = await queries.lock_page(connection, page.slug, page.locale)
        outcome = "updated"
        if locked is None:
            # Revision 0 stands for "none yet": the save below makes revision 1.
            await queries.insert_page(connection, page.slug, page.locale, current_revision=0, at=utcnow(), if_new=False)
            locked = await lock_page(connection, page.slug, page.locale)
            outcome = "created"
        n = await save_revision(connection, locked, content, SYNC_AUTHOR, "sync")
        await queries.mark_synced(connection, locked.id, n, digest)
        if publish_now:
            await publish_revision(connection, locked.id, page.slug, page.locale, n)
    forget_cached_pages()
    return outcome
