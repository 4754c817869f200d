"""The editor UI: piccolo-admin mounted at /admin, with its own login, wired to the CMS's rules.

piccolo-admin edits rows directly, so every write it could make is routed through the service:
editing a row of "cms_draft" saves a new revision (rendered, sanitised and audited, exactly like
`PUT /content/v1/pages/{slug}/draft`), and creating, publishing and unpublishing pages are forms that
call the service. Pages and revisions are read-only here. Editors log in with piccolo's own users
(`piccolo_user`, admin flag set) and sessions; `helsekort demo` creates a dev editor outside production
(backend/cms/demo.py).
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Any

import msgspec
import pydantic
from litestar import asgi
from litestar.types import Receive, Scope, Send

# piccolo-admin's user and session tables find their engine through PICCOLO_CONF: the shared one.
os.environ.setdefault("PICCOLO_CONF", "backend.db.piccolo_conf")

from piccolo.apps.user.tables import BaseUser
from piccolo_admin.endpoints import FormConfig, TableConfig, create_admin
from piccolo_api.crud.hooks import Hook, HookType
from starlette.exceptions import HTTPException
from starlette.requests import Request

from backend.cms import service
from backend.cms.schemas import DraftIn, PageIn
from backend.cms.tables import CmsDraft, CmsPage, CmsRevision
from backend.core.auth import EditorPrincipal
from backend.core.concurrency import etag
from backend.core.db import DB
from backend.core.errors import HelsekortError
from backend.core.settings import Settings


def _author(request: Request) -> service.Author:
    username = str(getattr(request.user, "username", "") or "unknown")
    principal = EditorPrincipal(sub=f"admin:{username}", name=username, caller_id=f"editor:admin:{username}")
    return service.editor_author(principal)


def _problem(exc: HelsekortError) -> HTTPException:
    field = f"{exc.field}: " if exc.field else ""
    return HTTPException(status_code=exc.status, detail=f"{field}{exc.detail}")


async def _draft_patched(row_id: Any, values: dict[Any, Any], request: Request) -> dict[Any, Any]:
    """An admin edit of a draft row becomes a saved draft: a new revision, rendered and sanitised."""
    changes = {column._meta.name: value for column, value in values.items()}
    async with DB.connection() as connection:
        row = await connection.fetchrow(
            """
            SELECT p.slug, p.locale, p.version, d.title, d.summary, d.markdown, d.tags, d.audience,
                   d.context_keys, d.updated_at
            FROM cms_draft d JOIN cms_page p ON p.id = d.page WHERE d.id = $1
            """,
            row_id,
        )
    if row is None:
        raise HTTPException(status_code=404, detail="no such draft")
    # The form sends back the time the draft was loaded (to the second): a later save is a conflict.
    loaded = changes.get("updated_at")
    if isinstance(loaded, datetime) and abs((loaded - row["updated_at"]).total_seconds()) >= 1:
        raise HTTPException(status_code=409, detail="the draft was changed by someone else; reload it")
    context_keys = changes.get("context_keys", row["context_keys"])
    try:
        draft = msgspec.convert(
            {
                "title": changes.get("title", row["title"]),
                "markdown": changes.get("markdown", row["markdown"]),
                "summary": changes.get("summary", row["summary"]) or "",
                "tags": list(changes.get("tags", row["tags"]) or []),
                "audience": changes.get("audience", row["audience"]),
                "contextKeys": json.loads(context_keys) if isinstance(context_keys, str) else context_keys,
            },
            DraftIn,
        )
        saved = await service.save_draft(
            _author(request), row["slug"], row["locale"], draft, if_match=etag(row["version"]), source="admin"
        )
    except (msgspec.ValidationError, json.JSONDecodeError) as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    except HelsekortError as exc:
        raise _problem(exc) from exc
    # The service wrote the row; piccolo-admin's own UPDATE then only repeats the new time.
    return {CmsDraft.updated_at: saved.updated_at}


def _read_only(what: str) -> Any:
    async def refuse(**kwargs: Any) -> Any:
        raise HTTPException(status_code=405, detail=f"{what} are changed through the forms and drafts, not here")

    return refuse


class NewPageForm(pydantic.BaseModel):
    slug: str
    locale: str = "nb"
    title: str
    markdown: str
    summary: str = ""


class PublishForm(pydantic.BaseModel):
    slug: str
    locale: str = "nb"
    at: datetime | None = pydantic.Field(default=None, description="Leave empty to act now")


async def _new_page(request: Request, data: NewPageForm) -> str:
    try:
        page = msgspec.convert(data.model_dump(), PageIn)
        await service.create_page(_author(request), page, source="admin")
    except msgspec.ValidationError as exc:
        raise ValueError(str(exc)) from exc
    except HelsekortError as exc:
        raise ValueError(f"{exc.field + ': ' if exc.field else ''}{exc.detail}") from exc
    return f"Draft {data.slug} ({data.locale}) created: edit it under Cms Draft"


async def _publish(request: Request, data: PublishForm) -> str:
    try:
        locale = service.parse_locale(data.locale)
        await service.publish(_author(request), data.slug, locale, data.at)
    except HelsekortError as exc:
        raise ValueError(f"{exc.field + ': ' if exc.field else ''}{exc.detail}") from exc
    return f"{data.slug} ({data.locale}) " + (f"will be published at {data.at}" if data.at else "is published")


async def _unpublish(request: Request, data: PublishForm) -> str:
    try:
        locale = service.parse_locale(data.locale)
        await service.unpublish(_author(request), data.slug, locale, data.at)
    except HelsekortError as exc:
        raise ValueError(f"{exc.field + ': ' if exc.field else ''}{exc.detail}") from exc
    return f"{data.slug} ({data.locale}) " + (f"will be unpublished at {data.at}" if data.at else "is unpublished")


def build_admin(settings: Settings) -> Any:
    readonly_hooks = [
        Hook(HookType.pre_save, _read_only("pages and revisions")),
        Hook(HookType.pre_patch, _read_only("pages and revisions")),
        Hook(HookType.pre_delete, _read_only("pages and revisions")),
    ]
    drafts = TableConfig(
        CmsDraft,
        visible_columns=[CmsDraft.id, CmsDraft.page, CmsDraft.title, CmsDraft.updated_at, CmsDraft.updated_by],
        hooks=[
            Hook(HookType.pre_patch, _draft_patched),
            Hook(HookType.pre_save, _read_only("new drafts (use the New page form)")),
            Hook(HookType.pre_delete, _read_only("drafts")),
        ],
        menu_group="Content",
        link_column=CmsDraft.title,
    )
    pages = TableConfig(
        CmsPage,
        visible_columns=[
            CmsPage.slug,
            CmsPage.locale,
            CmsPage.status,
            CmsPage.current_revision,
            CmsPage.published_revision,
            CmsPage.publish_at,
            CmsPage.unpublish_at,
        ],
        hooks=readonly_hooks,
        menu_group="Content",
        link_column=CmsPage.slug,
    )
    revisions = TableConfig(
        CmsRevision,
        visible_columns=[
            CmsRevision.page,
            CmsRevision.n,
            CmsRevision.title,
            CmsRevision.author,
            CmsRevision.source,
            CmsRevision.created_at,
        ],
        hooks=readonly_hooks,
        menu_group="Content",
    )
    forms = [
        FormConfig(
            name="New page",
            pydantic_model=NewPageForm,
            endpoint=_new_page,
            description="A new page in one locale, as a draft",
        ),
        FormConfig(
            name="Publish page",
            pydantic_model=PublishForm,
            endpoint=_publish,
            description="Publish the current draft now, or at a future time",
        ),
        FormConfig(
            name="Unpublish page",
            pydantic_model=PublishForm,
            endpoint=_unpublish,
            description="Take a page off the site now, or at a future time",
        ),
    ]
    return create_admin(
        [drafts, pages, revisions],
        forms=forms,
        auth_table=BaseUser,
        site_name="Helsekort CMS",
        production=settings.is_production,
        auto_include_related=False,
        default_language_code="en",
    )


def admin_mount(settings: Settings) -> Any:
    """The Litestar mount for /admin (built on first request, so that importing the app stays cheap)."""
    built: dict[str, Any] = {}

    @asgi("/admin", is_mount=True, copy_scope=True, include_in_schema=False)
    async def admin(scope: Scope, receive: Receive, send: Send) -> None:
        if "app" not in built:
            built["app"] = build_admin(settings)
        await built["app"](scope, receive, send)

    return admin
