"""Answers kept as the JSON they are sent as: a kept answer (core/change_signals.PatientCache) is encoded once
when it is read, not again on every request that is given it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from litestar import Response
from litestar.enums import MediaType
from litestar.serialization import encode_json

from backend.core.access import Read

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Encoded(Generic[T]):
    """An answer and its JSON body (Litestar's own encoder, as the route would have sent it)."""

    value: T
    body: bytes


def encoded(value: T) -> Encoded[T]:
    return Encoded(value=value, body=encode_json(value))


def encoded_read(read: Read[T]) -> Read[Encoded[T]]:
    """`read`, its answer encoded once as it is read (the same statement, arguments and key)."""
    result = read.result
    return Read(sql=read.sql, args=read.args, result=lambda rows: encoded(result(rows)), key=read.key)


def json_response(body: bytes, headers: Mapping[str, str] | None = None) -> Response[Any]:
    """A kept answer's body sent as it is; the route's declared `Response[T]` still documents its shape."""
    return Response(body, media_type=MediaType.JSON, headers=dict(headers) if headers else None)
