"""Revisions: every save of a page, listed newest first, and restoring one as the draft."""

from __future__ import annotations

from backend.cms import queries
from backend.cms.schemas import EditorPage, Revision, RevisionList
from backend.cms.service.drafts import editor_view, lock_page, save_revision
from backend.cms.service.inputs import Author, audit, editor_author
from backend.core.auth import EditorPrincipal
from backend.core.concurrency import require_if_match
from backend.core.db import DB
from backend.core.errors import NotFound
from backend.core.paging import BeforeNumber, decode_cursor, keyset_page

REVISIONS_PAGE_SIZE = 50


async def revisions(principal: EditorPrincipal, slug: str, locale: str, cursor: str | None) -> RevisionList:
    """Newest first, 50 to a page."""
    await audit(editor_author(principal), "cms.revisions", slug, locale)
    position = decode_cursor(cursor, BeforeNumber)
    before = position.n if position else None
    size = REVISIONS_PAGE_SIZE
    async with DB.connection() as connection:
        page = await queries.page_head(connection, slug, locale)
        if page is None:
            raise NotFound("no page with this slug in this locale")
        rows = await queries.revisions_before(connection, page.id, before, size + 1)
    kept, following = keyset_page(rows, size, lambda row: BeforeNumber(n=row.n))
    items = [
        Revision(
            n=row.n,
            title=row.title,
            summary=row.summary,
            author=row.author,
            source=row.source,
            created_at=row.created_at,
            current=row.n == page.current_revision,
            published=row.n == page.published_revision,
        )
        for row in kept
    ]
    return RevisionList(items=items, next=following)


async def restore_revision(author: Author, slug: str, locale: str, n: int, *, if_match: str | None) -> EditorPage:
    """Make revision `n`'s content the draft again, as a new revision (nothing is lost).

    `If-Match` is checked when sent; without it the restore still goes ahead, since the draft it
    replaces stays in the history as a revision.
    """
    async with DB.transaction(), DB.connection() as connection:
        page = await lock_page(connection, slug, locale)
        if if_match is not None:
            require_if_match(if_match, page.version, resource="draft")
        content = await queries.revision_content(connection, page.id, n)
        if content is None:
            raise NotFound("no such revision of this page")
        await save_revision(connection, page, content, author, "restore")
        await audit(author, "cms.restore", slug, locale)
        view = await editor_view(connection, slug, locale)
    return view  # noqa: RET504 - answered only once the transaction has committed
