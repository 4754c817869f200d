"""The one error hierarchy of the service, mapped once to RFC 9457 problem details.

HelsekortError
├── BadRequest (400)            invalid input; names the field
├── Unauthorized (401)          no, bad or expired token; carries WWW-Authenticate
├── Forbidden (403)             a valid token of the wrong kind or a role that may not act
├── NotFound (404)              absent or outside the caller's scope (never distinguished)
├── Conflict (409)              state forbids the action (closed card, request in flight, missing entries)
├── PreconditionFailed (412)    stale If-Match
├── PayloadTooLarge (413)
├── UnprocessableContent (422)  Idempotency-Key reused with another body
├── PreconditionRequired (428)  If-Match missing on a guarded write
├── TooManyRequests (429)
└── ServiceUnavailable (503)    database down or pool exhausted
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import asyncpg
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from backend.core.fields import body_errors
from backend.db.errors import DatabaseUnavailable

log = logging.getLogger("helsekort.errors")

PROBLEM_JSON = "application/problem+json"


class HelsekortError(Exception):
    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal server error"
    slug: ClassVar[str] = "internal"

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra: dict[str, Any] = dict(extra or {})
        self.headers: dict[str, str] = dict(headers or {})


class BadRequest(HelsekortError):
    status = 400
    title = "Invalid request"
    slug = "invalid-request"

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        errors: Sequence[Mapping[str, str]] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        merged: dict[str, Any] = dict(extra or {})
        problems = list(errors or [])
        if field is not None and not problems:
            problems = [{"field": field, "message": detail}]
        if problems:
            merged["errors"] = problems
        super().__init__(detail, field=field, extra=merged)


class Unauthorized(HelsekortError):
    status = 401
    title = "Authentication required"
    slug = "unauthorized"

    def __init__(self, detail: str = "a valid bearer token is required") -> None:
        error = "invalid_token" if "token" in detail else "invalid_request"
        super().__init__(detail, headers={"WWW-Authenticate": f'Bearer error="{error}"'})


class Forbidden(HelsekortError):
    status = 403
    title = "Forbidden"
    slug = "forbidden"


class NotFound(HelsekortError):
    status = 404
    title = "Not found"
    slug = "not-found"


class Conflict(HelsekortError):
    status = 409
    title = "Conflict"
    slug = "conflict"


class PreconditionFailed(HelsekortError):
    status = 412
    title = "Precondition failed"
    slug = "stale-version"


class PayloadTooLarge(HelsekortError):
    status = 413
    title = "Request body too large"
    slug = "payload-too-large"


class UnprocessableContent(HelsekortError):
    status = 422
    title = "Unprocessable content"
    slug = "unprocessable"


class PreconditionRequired(HelsekortError):
    status = 428
    title = "Precondition required"
    slug = "if-match-required"


class TooManyRequests(HelsekortError):
    status = 429
    title = "Too many requests"
    slug = "rate-limited"

    def __init__(
        self, detail: str = "too many requests", *, retry_after: int = 60, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(detail, headers={**(headers or {}), "Retry-After": str(retry_after)})


class ServiceUnavailable(HelsekortError):
    status = 503
    title = "Service unavailable"
    slug = "unavailable"

    def __init__(self, detail: str, *, retry_after: int = 5) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


_TITLES = {
    400: ("Invalid request", "invalid-request"),
    401: ("Authentication required", "unauthorized"),
    403: ("Forbidden", "forbidden"),
    404: ("Not found", "not-found"),
    405: ("Method not allowed", "method-not-allowed"),
    409: ("Conflict", "conflict"),
    412: ("Precondition failed", "stale-version"),
    413: ("Request body too large", "payload-too-large"),
    415: ("Unsupported media type", "unsupported-media-type"),
    422: ("Unprocessable content", "unprocessable"),
    428: ("Precondition required", "if-match-required"),
    429: ("Too many requests", "rate-limited"),
    503: ("Service unavailable", "unavailable"),
}


_RESERVED = frozenset({"type", "title", "status", "detail", "instance", "requestId"})


def problem(
    request: Request[Any, Any, Any],
    *,
    status: int,
    title: str,
    slug: str,
    detail: str,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": f"urn:helsekort:problem:{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    request_id = request.scope.get("state", {}).get("request_id")
    if request_id:
        body["requestId"] = request_id
    # The RFC 9457 members keep their meaning: a domain's extra `status` (a card's) must not replace the integer.
    body.update({key: value for key, value in (extra or {}).items() if key not in _RESERVED})
    return Response(content=body, status_code=status, media_type=PROBLEM_JSON, headers=dict(headers or {}))


def handle_helsekort_error(request: Request[Any, Any, Any], exc: HelsekortError) -> Response[dict[str, Any]]:
    return problem(
        request,
        status=exc.status,
        title=exc.title,
        slug=exc.slug,
        detail=exc.detail,
        extra=exc.extra,
        headers=exc.headers,
    )


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    """Litestar's own exceptions (routing, validation, body limit, rate limit) in the same shape."""
    status = exc.status_code
    title, slug = _TITLES.get(status, ("Error", "error"))
    extra: dict[str, Any] = {}
    detail = exc.detail
    if isinstance(exc, ValidationException):
        status, title, slug = 400, "Invalid request", "invalid-request"
        extra["errors"] = validation_errors(request, exc)
        if extra["errors"]:
            detail = summary(extra["errors"])
    headers = dict(exc.headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer error="invalid_token"')
    if status == 413:
        detail = "the request body is larger than the limit"
    if status == 429 and not any(name.lower() == "retry-after" for name in headers):
        # Litestar's limiter sends RateLimit-Reset (seconds until the window resets); clients expect Retry-After.
        reset = next((value for name, value in headers.items() if name.lower() == "ratelimit-reset"), "60")
        headers["Retry-After"] = str(max(1, int(reset))) if str(reset).isdigit() else "60"
    return problem(request, status=status, title=title, slug=slug, detail=detail, extra=extra, headers=headers)


def summary(errors: Sequence[Mapping[str, str]]) -> str:
    """The first problem in words, and how many more there are (all of them are in `errors`)."""
    first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{first['field']}: {first['message']}{more}"


def _wire_name(request: Request[Any, Any, Any], name: str) -> str:
    """The name a client sent (`from`), not the handler's argument (`from_version`)."""
    parameter = request.route_handler.parsed_fn_signature.parameters.get(name)
    kwarg = getattr(parameter, "kwarg_definition", None)
    for attribute in ("name", "query", "header", "cookie"):
        alias = getattr(kwarg, attribute, None)
        if alias:
            return str(alias)
    return name


def validation_errors(request: Request[Any, Any, Any], exc: ValidationException) -> list[dict[str, str]]:
    """Every invalid field: Litestar stops at the body's first, so the body is checked again field by field."""
    reported = exc.extra if isinstance(exc.extra, list) else []
    errors = [
        {"field": _wire_name(request, str(item.get("key") or "query")), "message": str(item.get("message", ""))}
        for item in reported
        if isinstance(item, dict) and item.get("source") != "body"
    ]
    if any(isinstance(item, dict) and item.get("source") == "body" for item in reported):
        in_body = body_errors(request)
        if not in_body:
            in_body = [
                {"field": str(item.get("key") or "body"), "message": str(item.get("message", ""))}
                for item in reported
                if isinstance(item, dict) and item.get("source") == "body"
            ]
        errors += in_body
    return errors


def handle_database_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    if isinstance(exc, DatabaseUnavailable):  # the pool's own answer: busy (retry in a second) or not open
        return handle_helsekort_error(request, ServiceUnavailable(exc.detail, retry_after=exc.retry_after))
    log.warning("database unavailable", extra={"error": type(exc).__name__})
    return handle_helsekort_error(request, ServiceUnavailable("the database is not reachable right now"))


def handle_recursion(request: Request[Any, Any, Any], exc: RecursionError) -> Response[dict[str, Any]]:
    """msgspec's answer to JSON nested thousands deep (the domain decoders of raw bodies): the client's input."""
    return handle_helsekort_error(request, BadRequest("the JSON document is nested too deeply", field="body"))


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    if isinstance(exc, RecursionError):
        return handle_recursion(request, exc)
    if isinstance(exc, HelsekortError):
        return handle_helsekort_error(request, exc)
    if isinstance(exc, HTTPException):
        return handle_http_exception(request, exc)
    if isinstance(exc, DATABASE_UNAVAILABLE):
        return handle_database_unavailable(request, exc)
    log.exception("unhandled error", extra={"error": type(exc).__name__})
    return problem(request, status=500, title="Internal server error", slug="internal", detail="unexpected error")


DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    DatabaseUnavailable,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.InterfaceError,
    # A connection the server terminated (restart, failover, pg_terminate_backend) can surface as this.
    asyncpg.exceptions.InternalClientError,
    asyncpg.exceptions.QueryCanceledError,
    ConnectionError,
    OSError,
)

EXCEPTION_HANDLERS: dict[Any, Any] = {
    HelsekortError: handle_helsekort_error,
    HTTPException: handle_http_exception,
    **dict.fromkeys(DATABASE_UNAVAILABLE, handle_database_unavailable),
    RecursionError: handle_recursion,
    Exception: handle_unexpected,
}
