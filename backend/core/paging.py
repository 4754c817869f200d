"""Opaque cursors for `{items, next}` lists: what the server needs to resume, base64url-encoded."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import msgspec

from backend.core.errors import BadRequest

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def encode_cursor(position: dict[str, Any]) -> str:
    raw = json.dumps(position, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, field: str = "cursor") -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("the cursor is not one this server issued", field=field) from exc
    if not isinstance(value, dict):
        raise BadRequest("the cursor is not one this server issued", field=field)
    return value


def clamp_limit(limit: int | None, *, field: str = "limit") -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if limit < 1 or limit > MAX_LIMIT:
        raise BadRequest(f"limit must be between 1 and {MAX_LIMIT}", field=field)
    return limit


class Page(msgspec.Struct, kw_only=True, rename="camel"):
    """Base shape of every list answer; domains subclass it with a typed `items`."""

    next: str | None = None
