"""Opaque cursors for `{items, next}` lists: a typed position, JSON, base64url-encoded.

The one cursor codec of the service: every list decodes its cursor here against the exact shape it issued
(unknown keys, wrong types and out-of-range numbers are refused), so a tampered or foreign cursor is a 400
"invalid cursor", never a 500 from the query that would have used it.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, TypeVar

import msgspec

from backend.core.errors import BadRequest

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_CURSOR_LENGTH = 512

# PostgreSQL's integer and bigint ranges: a larger number in a cursor would fail in the query, not here.
Int32 = Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)]
Int64 = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
Instant = Annotated[datetime, msgspec.Meta(tz=True)]


class Position(msgspec.Struct, forbid_unknown_fields=True):
    """Base of every cursor's content; a list subclasses it with the fields it resumes from."""


class BeforeId(Position):
    before: Int64


class AfterSeq(Position):
    seq: Int64


class AtOffset(Position):
    o: Int32


class BeforeNumber(Position):
    n: Int32


class BeforeTimeAndId(Position):
    at: Instant
    id: uuid.UUID


P = TypeVar("P", bound=Position)


def encode_cursor(position: Position) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(position)).decode().rstrip("=")


def decode_cursor(cursor: str | None, shape: type[P], *, field: str = "cursor") -> P | None:
    if not cursor:
        return None
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise BadRequest("invalid cursor: not one this server issued", field=field)
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode("ascii"))
        return msgspec.json.decode(raw, type=shape)
    except (binascii.Error, ValueError, UnicodeError, msgspec.DecodeError, RecursionError) as exc:
        raise BadRequest("invalid cursor: not one this server issued", field=field) from exc


def clamp_limit(limit: int | None, *, field: str = "limit") -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if limit < 1 or limit > MAX_LIMIT:
        raise BadRequest(f"limit must be between 1 and {MAX_LIMIT}", field=field)
    return limit


class Page(msgspec.Struct, kw_only=True, rename="camel"):
    """Base shape of every list answer; domains subclass it with a typed `items`."""

    next: str | None = None


T = TypeVar("T")


def keyset_page(rows: Sequence[T], size: int, position_of: Callable[[T], Position]) -> tuple[list[T], str | None]:
    """The one keyset page step: the query fetched `size + 1` rows; keep `size`, and when there were more, the
    cursor of the last kept row (`position_of` says what a list resumes from). Every list pages with this."""
    kept = list(rows[:size])
    return kept, encode_cursor(position_of(kept[-1])) if len(rows) > size and kept else None
