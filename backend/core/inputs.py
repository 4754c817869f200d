"""Hostile input stopped at the edge, once for every route: body size, media type, JSON, text PostgreSQL can hold.

- `input_limits_middleware` (outermost Litestar middleware, before authentication and the idempotency step, which stores the path)
  refuses NUL characters in the path or the query (PostgreSQL text cannot hold U+0000), and counts request
  bytes as they stream, answering 413 before anything can buffer more than the limit.
- `screen_request` (the app's before_request hook) refuses, before any handler runs, a JSON route's body that is
  empty, not JSON (415 for another media type, 400 for bytes that do not parse), nested too deeply, or that
  carries a NUL or a lone surrogate in any string, naming every field that does.
- `body_errors` checks a decoded body against the handler's type field by field, so a validation problem lists
  every invalid field, not only the first one msgspec stops at.
"""

from __future__ import annotations

import contextlib
import json
import re
import types
import typing
from collections.abc import Callable, Iterator
from typing import Any, Union
from urllib.parse import parse_qsl

import msgspec
from litestar import Request
from litestar.types import ASGIApp, Empty, Receive, ReceiveMessage, Scope, Send
from litestar.utils.scope.state import ScopeState

from backend.core.errors import BadRequest, HelsekortError, PayloadTooLarge, summary

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# A JSON escape of U+0000 or of a UTF-16 surrogate (its pair is checked after decoding): the only way either
# reaches a string, since raw control bytes are not JSON. An even run of backslashes before it is literal text.
_SUSPECT_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


class UnsupportedMediaType(HelsekortError):
    status = 415
    title = "Unsupported media type"
    slug = "unsupported-media-type"


# --- path, query and size ------------------------------------------------------------------------------------------


def _screen_path_and_query(scope: Scope) -> None:
    if "\x00" in scope["path"]:
        raise BadRequest("the path contains a NUL character", field="path")
    query = bytes(scope.get("query_string", b""))
    if b"%00" in query or b"\x00" in query:
        bad = sorted({name for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True)
                      if "\x00" in name or "\x00" in value})  # fmt: skip
        errors = [{"field": name.replace("\x00", "\\u0000"), "message": "contains a NUL character"} for name in bad]
        errors = errors or [{"field": "query", "message": "contains a NUL character"}]
        raise BadRequest(summary(errors), field=errors[0]["field"], errors=errors)


def input_limits_middleware(limit: int) -> Callable[[ASGIApp], ASGIApp]:
    """400 for a NUL in the path or query; 413 for a body over `limit` bytes: at once for a Content-Length over
    it, else as the chunks stream in."""

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":  # type: ignore[comparison-overlap]
                await app(scope, receive, send)
                return
            _screen_path_and_query(scope)
            for name, value in scope.get("headers", []):
                if name == b"content-length":
                    if not value.strip().isdigit():
                        raise BadRequest("Content-Length is not a number", field="Content-Length")
                    if int(value) > limit:
                        raise PayloadTooLarge(f"the request body is larger than the limit of {limit} bytes")
                    break
            received = 0

            async def counted() -> ReceiveMessage:
                nonlocal received
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > limit:
                        raise PayloadTooLarge(f"the request body is larger than the limit of {limit} bytes")
                return message

            await app(scope, counted, send)

        return middleware

    return factory


# --- bodies --------------------------------------------------------------------------------------------------------


def _body_parameter(request: Request[Any, Any, Any]) -> tuple[str, bool] | None:
    """("json", optional) for a `data` route, ("raw", False) for a RawBody route, None for a route without a body."""
    parameters = request.route_handler.parsed_fn_signature.parameters
    if "data" in parameters:
        return "json", parameters["data"].has_default
    if "body" in parameters:
        return "raw", False
    return None


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


def _path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


def _strings(value: Any) -> Iterator[tuple[str, str]]:
    """(field path, text) for every key and string in a decoded document; iterative, so depth cannot overflow."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            yield where or "body", item
        elif isinstance(item, dict):
            for key, child in item.items():
                yield _path(where, str(key)), str(key)
                stack.append((_path(where, str(key)), child))
        elif isinstance(item, list):
            stack.extend((_path(where, index), child) for index, child in enumerate(item))


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "contains a NUL character, which cannot be stored"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone UTF-16 surrogate, which is not text"
    return None


def _screen_text(document: Any) -> None:
    errors: list[dict[str, str]] = []
    for where, text in _strings(document):
        message = _text_problem(text)
        if message and not any(error["field"] == where for error in errors):
            errors.append({"field": where, "message": message})
    if errors:
        errors.sort(key=lambda error: error["field"])
        raise BadRequest(summary(errors), field=errors[0]["field"], errors=errors)


async def screen_request(request: Request[Any, Any, Any]) -> None:
    """before_request hook: refuse what no handler can store or parse, before any handler runs."""
    if request.method not in _BODY_METHODS:
        return
    expected = _body_parameter(request)
    if expected is None:
        return
    kind, optional = expected
    body = await request.body()
    media_type = request.content_type[0]
    if body and request.headers.get("content-type") and not _is_json(media_type):
        raise UnsupportedMediaType(f"send the body as application/json, not {media_type[:60]}")
    if kind == "raw":
        # The domain decodes a raw body itself (leniently: NaN, per-item rejections); screen only what it cannot store.
        if _SUSPECT_ESCAPE.search(body):
            with contextlib.suppress(ValueError, RecursionError):
                _screen_text(json.loads(body))
        return
    if not body.strip():
        if optional:
            return
        raise BadRequest("the request body is empty; send a JSON document", field="body")
    try:
        document = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise BadRequest(f"the request body is not valid JSON: {exc}", field="body") from None
    except RecursionError:
        raise BadRequest("the JSON document is nested too deeply", field="body") from None
    if _SUSPECT_ESCAPE.search(body):
        _screen_text(document)
    # Litestar decodes the body once more unless it finds the decoded document in the request's state.
    ScopeState.from_scope(request.scope).json = document


# --- every invalid field -------------------------------------------------------------------------------------------


def _unwrap(annotation: Any, value: Any) -> Any:
    """The type a value is checked against: without Annotated, and the non-None member of an Optional."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (Union, types.UnionType):
        members = [member for member in typing.get_args(annotation) if member is not type(None)]
        if len(members) == 1 and value is not None:
            return _unwrap(members[0], value)
    return annotation


def _leaf_error(exc: msgspec.ValidationError, where: str) -> dict[str, str]:
    message, _, at = str(exc).partition(" - at `$")
    suffix = at.rstrip("`").removeprefix(".")
    if suffix.startswith("["):
        field = f"{where}{suffix}" if where else suffix
    else:
        field = _path(where, suffix) if suffix else where
    return {"field": field or "body", "message": message}


def field_errors(value: Any, annotation: Any, where: str = "") -> list[dict[str, str]]:
    """Every field of `value` that does not convert to `annotation`, as {field, message}."""
    try:
        msgspec.convert(value, annotation, strict=False)
        return []
    except msgspec.ValidationError as exc:
        first = _leaf_error(exc, where)
    target = _unwrap(annotation, value)
    errors: list[dict[str, str]] = []
    if isinstance(target, type) and issubclass(target, msgspec.Struct) and isinstance(value, dict):
        fields = msgspec.structs.fields(target)
        names = {info.encode_name for info in fields}
        for info in fields:
            if info.encode_name in value:
                errors += field_errors(value[info.encode_name], info.type, _path(where, info.encode_name))
            elif info.required:
                errors.append({"field": _path(where, info.encode_name), "message": "a required field is missing"})
        if target.__struct_config__.forbid_unknown_fields:
            errors += [
                {"field": _path(where, str(key)), "message": "not a field of this document"}
                for key in value
                if key not in names
            ]
    elif typing.get_origin(target) in (list, tuple, set, frozenset) and isinstance(value, list):
        arguments = typing.get_args(target)
        if len(arguments) == 1 or (len(arguments) == 2 and arguments[1] is Ellipsis):
            for index, item in enumerate(value):
                errors += field_errors(item, arguments[0], _path(where, index))
        # A collection's own bounds (min_length, max_length) fail with no item at fault.
    # Checks across fields (__post_init__) or of the whole collection fail with no field at fault: keep msgspec's.
    return errors or [first]


def body_errors(request: Request[Any, Any, Any]) -> list[dict[str, str]]:
    """The body's invalid fields against the handler's `data` type, from the document decoded at screening."""
    parameter = request.route_handler.parsed_fn_signature.parameters.get("data")
    document = ScopeState.from_scope(request.scope).json
    if parameter is None or document is Empty:
        return []
    try:
        return field_errors(document, parameter.annotation)
    except (TypeError, RecursionError):
        return []
