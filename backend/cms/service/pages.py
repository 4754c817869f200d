"""Pages: a new page (in one locale, as a draft) and the editors' preview."""

from __future__ import annotations

from typing import Any

from backend.cms import queries
from backend.cms.schemas import EditorPage, PageIn
from backend.cms.service.drafts import Content, editor_view, write_content
from backend.cms.service.inputs import Author, audit, editor_author
from backend.core.auth import EditorPrincipal
from backend.core.clock import utcnow
from backend.core.db import DB
from backend.core.errors import Conflict


async def create_page(
    author: Author, page: PageIn, *, source: str = "api", front_matter: dict[str, Any] | None = None
) -> EditorPage:
    """A new page in one locale as a draft, with revision 1. The slug and locale must be new (409)."""
    content = Content.from_draft(page, front_matter)
    now = utcnow()
    async with DB.transaction(), DB.connection() as connection:
        page_id = await queries.insert_page(connection, page.slug, page.locale, current_revision=1, at=now, if_new=True)
        if page_id is None:
            raise Conflict("a page with this slug already exists in this locale; change its draft instead")
        await write_content(connection, page_id, 1, content, author=author, source=source, at=now)
        await audit(author, "cms.create", page.slug, page.locale)
        view = await editor_view(connection, page.slug, page.locale)
    return view  # noqa: RET504 - answered only once the transaction has committed


async def preview(principal: EditorPrincipal, slug: str, locale: str) -> EditorPage:
    await audit(editor_author(principal), "cms.preview", slug, locale)
    async with DB.connection() as connection:
        view = await editor_view(connection, slug, locale)
    return view  # noqa: RET504 - answered only once the connection is back in the pool
