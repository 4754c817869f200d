"""Drafts: the page and its draft as editors see it, what one save stores (rendered and checked), and saving
it as a new revision of the locked page (If-Match)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backend.cms import queries
from backend.cms.rendering import plain_text, render_markdown
from backend.cms.schemas import DraftIn, EditorPage
from backend.cms.service.inputs import Author, audit, check_draft
from backend.core.clock import utcnow
from backend.core.concurrency import require_if_match
from backend.core.db import DB
from backend.core.errors import NotFound


@dataclass(frozen=True, slots=True)
class Content(queries.StoredContent):
    """What one save stores: the editor's input, rendered and checked."""

    @classmethod
    def from_draft(cls, draft: DraftIn, front_matter: dict[str, Any] | None = None) -> Content:
        context_keys = check_draft(draft)
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


def _editor_page(row: queries.EditorRow) -> EditorPage:
    return EditorPage(
        slug=row.slug,
        locale=row.locale,
        requested_locale=row.locale,
        title=row.title,
        summary=row.summary,
        markdown=row.markdown,
        html=row.html,
        tags=row.tags,
        audience=row.audience,
        context_keys=row.context_keys,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
        status=row.status,
        version=row.version,
        revision=row.current_revision,
        published_revision=row.published_revision,
        published_at=row.published_at,
        publish_at=row.publish_at,
        unpublish_at=row.unpublish_at,
    )


async def editor_view(connection: Any, slug: str, locale: str) -> EditorPage:
    """The page and its draft, read on `connection` (inside a write: what it wrote, before the commit)."""
    row = await queries.editor_page(connection, slug, locale)
    if row is None:
        raise NotFound("no page with this slug in this locale")
    return _editor_page(row)


async def lock_page(connection: Any, slug: str, locale: str) -> queries.LockedPage:
    """The page row, locked until the write's transaction ends; 404 when there is none."""
    page = await queries.lock_page(connection, slug, locale)
    if page is None:
        raise NotFound("no page with this slug in this locale")
    return page


async def write_content(
    connection: Any,
    page_id: uuid.UUID,
    n: int,
    content: queries.StoredContent,
    *,
    author: Author,
    source: str,
    at: datetime,
) -> None:
    """Revision `n` with this content, and the draft (the working copy) made the same."""
    await queries.insert_revision(connection, page_id, n, content, author=author.name, source=source, at=at)
    await queries.write_draft(connection, page_id, content, author.name, at)


async def save_revision(
    connection: Any, page: queries.LockedPage, content: queries.StoredContent, author: Author, source: str
) -> int:
    """The next revision of a locked page, made current (the draft's version moves on); its number."""
    now = utcnow()
    n = page.current_revision + 1
    await write_content(connection, page.id, n, content, author=author, source=source, at=now)
    await queries.advance_revision(connection, page.id, n, now)
    return n


async def save_draft(
    author: Author, slug: str, locale: str, draft: DraftIn, *, if_match: str | None, source: str = "api"
) -> EditorPage:
    """Replace the draft (a new revision); `If-Match` must carry the version read (428 / 412)."""
    content = Content.from_draft(draft)
    async with DB.transaction(), DB.connection() as connection:
        page = await lock_page(connection, slug, locale)
        require_if_match(if_match, page.version, resource="draft")
        await save_revision(connection, page, content, author, source)
        await audit(author, "cms.save-draft", slug, locale)
        view = await editor_view(connection, slug, locale)
    return view  # noqa: RET504 - answered only once the transaction has committed
