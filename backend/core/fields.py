"""Every invalid field of a decoded document, named the way the client wrote it.

msgspec stops at the first field it cannot convert; `field_errors` walks the document against its type and
names every one (`items[2].value`), and `body_errors` does so for a request's JSON body as the screen decoded
it (`backend.core.inputs`). The problem handlers in `backend.core.errors` list these in a 400's `errors`.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Union

import msgspec
from litestar import Request
from litestar.types import Empty
from litestar.utils.scope.state import ScopeState


def field_path(parent: str, key: str | int) -> str:
    """`parent.key` or `parent[index]`: a field's place in the document as a client reads it."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


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
        field = field_path(where, suffix) if suffix else where
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
                errors += field_errors(value[info.encode_name], info.type, field_path(where, info.encode_name))
            elif info.required:
                errors.append({"field": field_path(where, info.encode_name), "message": "a required field is missing"})
        if target.__struct_config__.forbid_unknown_fields:
            errors += [
                {"field": field_path(where, str(key)), "message": "not a field of this document"}
                for key in value
                if key not in names
            ]
    elif typing.get_origin(target) in (list, tuple, set, frozenset) and isinstance(value, list):
        arguments = typing.get_args(target)
        if len(arguments) == 1 or (len(arguments) == 2 and arguments[1] is Ellipsis):
            for index, item in enumerate(value):
                errors += field_errors(item, arguments[0], field_path(where, index))
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
