"""Routes of the content API (/content/v1): public reads of published pages, and editors' drafts and publishing."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs

from litestar import Controller, Response, Router, get, post, put
from litestar.di import Provide
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, PathParameter
from litestar.types import ASGIApp, Receive, Scope, Send

from backend.cms import service
from backend.cms.schemas import (
    DEFAULT_LOCALE,
    LOCALES,
    SLUG_PATTERN,
    DraftIn,
    EditorPage,
    Page,
    PageIn,
    PageList,
    RevisionList,
    ScheduleIn,
)
from backend.core.access import Editor, provide_editor
from backend.core.auth import RequirePrincipal
from backend.core.concurrency import ETAG_HEADER, etag, if_none_match_hits

PUBLIC_CACHE = service.PUBLIC_CACHE_CONTROL
NO_STORE = "no-store"

IfMatch = Annotated[
    str | None, HeaderParameter(name="If-Match", description="ETag of the draft version you read", required=True)
]
OptionalIfMatch = Annotated[
    str | None, HeaderParameter(name="If-Match", description="ETag of the draft version you read, checked when sent")
]
IfNoneMatch = Annotated[str | None, HeaderParameter(name="If-None-Match", description="ETag of your cached copy")]

# The slug column's own rule at the edge: a longer slug would overflow the audit log's resource id.
SlugInPath = Annotated[str, PathParameter(pattern=SLUG_PATTERN, min_length=1, max_length=60)]


def _editor_response(page: EditorPage, status_code: int = 200) -> Response[EditorPage]:
    """Editors' answers carry the draft's ETag (for If-Match) and are never cached."""
    return Response(page, status_code=status_code, headers={"ETag": etag(page.version), "Cache-Control": NO_STORE})


def answer_304_from_cache(app: ASGIApp) -> ASGIApp:
    """Conditional GETs of a cached page are answered before Litestar parses parameters or builds a response.

    Measured with bench/ (cms-page-304): the full handler path for a 304 ran at 0.42x /health, and
    even a handler returning 304 at once reached only 0.49x; the cost was the framework's parameter and
    response machinery, not our code. Anything this cannot decide from the cache (no If-None-Match, an
    unknown locale, a page not in the cache, a changed ETag) goes to the handler as usual.
    """

    async def conditional(scope: Scope, receive: Receive, send: Send) -> None:
        if_none_match = None
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                if_none_match = value.decode("latin-1")
                break
        slug = scope.get("path_params", {}).get("slug")
        if if_none_match and isinstance(slug, str):
            locale = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("locale", [""])[-1]
            locale = locale or DEFAULT_LOCALE
            found = service.cached_published_page(slug, locale) if locale in LOCALES else None
            if found is not None and if_none_match_hits(if_none_match, found.etag):
                headers = [(name.lower().encode(), value.encode()) for name, value in found.headers.items()]
                await send({"type": "http.response.start", "status": 304, "headers": headers})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
        await app(scope, receive, send)

    return conditional


class PublicPagesController(Controller):
    path = "/pages"
    tags = ["content"]
    security = [{}]

    @get("", operation_id="contentListPages", summary="Published pages; q searches (ranked, with snippets)")
    async def list_pages(
        self,
        *,
        locale: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        tag: FromQuery[str | None] = None,
        audience: FromQuery[str | None] = None,
        context: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Response[PageList]:
        pages = await service.list_pages(
            locale=service.parse_locale(locale),
            q=q,
            tag=tag,
            audience=audience,
            context=context,
            cursor=cursor,
            limit=limit,
        )
        return Response(pages, headers={"Cache-Control": PUBLIC_CACHE})

    @get(
        "/{slug:str}",
        operation_id="contentGetPage",
        summary="One published page (falls back to nb); ETag, Last-Modified, 304 on If-None-Match",
        middleware=[answer_304_from_cache],
        response_headers=ETAG_HEADER,
        responses={304: ResponseSpec(None, description="Not modified: the copy named in If-None-Match is current")},
    )
    async def get_page(
        self,
        slug: SlugInPath,
        locale: FromQuery[str | None] = None,
        if_none_match: IfNoneMatch = None,
    ) -> Response[Page]:
        found = await service.published_page(slug, service.parse_locale(locale))
        if if_none_match_hits(if_none_match, found.etag):
            return Response(None, status_code=304, headers=found.headers)  # type: ignore[arg-type]
        return Response(found.page, headers=found.headers)


class EditorPagesController(Controller):
    path = "/pages"
    tags = ["content: editors"]
    middleware = [RequirePrincipal("editor")]
    dependencies = {"editor": Provide(provide_editor, sync_to_thread=False)}

    @post(
        "",
        operation_id="contentCreatePage",
        response_headers=ETAG_HEADER,
        summary="A new page in one locale, as a draft (201)",
    )
    async def create_page(self, editor: Editor, data: JSONBody[PageIn]) -> Response[EditorPage]:
        page = await service.create_page(service.editor_author(editor), data)
        return _editor_response(page, 201)

    @put(
        "/{slug:str}/draft",
        operation_id="contentSaveDraft",
        response_headers=ETAG_HEADER,
        summary="Replace the draft (If-Match); a new revision",
    )
    async def save_draft(
        self,
        editor: Editor,
        slug: SlugInPath,
        data: JSONBody[DraftIn],
        locale: FromQuery[str | None] = None,
        if_match: IfMatch = None,
    ) -> Response[EditorPage]:
        page = await service.save_draft(
            service.editor_author(editor), slug, service.parse_locale(locale), data, if_match=if_match
        )
        return _editor_response(page)

    @post(
        "/{slug:str}/publish",
        operation_id="contentPublishPage",
        response_headers=ETAG_HEADER,
        status_code=200,
        summary="Publish the current revision now, or at `at`",
    )
    async def publish(
        self,
        editor: Editor,
        slug: SlugInPath,
        locale: FromQuery[str | None] = None,
        data: JSONBody[ScheduleIn | None] = None,
    ) -> Response[EditorPage]:
        at = data.at if data is not None else None
        page = await service.publish(service.editor_author(editor), slug, service.parse_locale(locale), at)
        return _editor_response(page)

    @post(
        "/{slug:str}/unpublish",
        operation_id="contentUnpublishPage",
        response_headers=ETAG_HEADER,
        status_code=200,
        summary="Take the page off the site now, or at `at`",
    )
    async def unpublish(
        self,
        editor: Editor,
        slug: SlugInPath,
        locale: FromQuery[str | None] = None,
        data: JSONBody[ScheduleIn | None] = None,
    ) -> Response[EditorPage]:
        at = data.at if data is not None else None
        page = await service.unpublish(service.editor_author(editor), slug, service.parse_locale(locale), at)
        return _editor_response(page)

    @get("/{slug:str}/revisions", operation_id="contentListRevisions", summary="Every revision, newest first")
    async def list_revisions(
        self,
        editor: Editor,
        slug: SlugInPath,
        locale: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Response[RevisionList]:
        revisions = await service.revisions(editor, slug, service.parse_locale(locale), cursor)
        return Response(revisions, headers={"Cache-Control": NO_STORE})

    @post(
        "/{slug:str}/revisions/{n:int}/restore",
        operation_id="contentRestoreRevision",
        response_headers=ETAG_HEADER,
        status_code=200,
        summary="Make an old revision the draft again (a new revision; If-Match checked when sent)",
    )
    async def restore(
        self,
        editor: Editor,
        slug: SlugInPath,
        n: FromPath[int],
        locale: FromQuery[str | None] = None,
        if_match: OptionalIfMatch = None,
    ) -> Response[EditorPage]:
        page = await service.restore_revision(
            service.editor_author(editor), slug, service.parse_locale(locale), n, if_match=if_match
        )
        return _editor_response(page)

    @get(
        "/{slug:str}/preview",
        operation_id="contentPreviewPage",
        response_headers=ETAG_HEADER,
        summary="The draft as it would be published",
    )
    async def preview(
        self, editor: Editor, slug: SlugInPath, locale: FromQuery[str | None] = None
    ) -> Response[EditorPage]:
        return _editor_response(await service.preview(editor, slug, service.parse_locale(locale)))


def content_router() -> Router:
    """/content/v1: public reads (no token) and editor writes (editor token, else 401/403)."""
    return Router(path="/content/v1", route_handlers=[PublicPagesController, EditorPagesController])


__all__ = ["content_router"]
