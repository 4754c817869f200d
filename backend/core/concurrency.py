"""Optimistic concurrency: ETags from a resource's version, and If-Match required on guarded writes (428 / 412)."""

from __future__ import annotations

from litestar.datastructures import ResponseHeader

from backend.core.errors import BadRequest, PreconditionFailed, PreconditionRequired


def etag(version: int | str) -> str:
    return f'"{version}"'


def _tags(header: str) -> list[str]:
    return [part.strip().removeprefix("W/").strip('"') for part in header.split(",") if part.strip()]


def _strong_tags(header: str) -> list[str]:
    """If-Match compares strongly (RFC 9110 §13.1.1): a weak tag never matches, so it is left out."""
    return [part.strip().strip('"') for part in header.split(",") if part.strip() and not part.strip().startswith("W/")]


def require_if_match(if_match: str | None, current_version: int | str, *, resource: str = "resource") -> None:
    """Refuse a write that was not built on the current version: missing → 428, stale → 412."""
    if if_match is None or not if_match.strip():
        raise PreconditionRequired(
            f"send If-Match with the ETag of the {resource} you read",
            extra={"currentVersion": current_version},
        )
    tags = _strong_tags(if_match)
    if "*" in tags:
        raise BadRequest("If-Match: * is not accepted; send the ETag you read", field="If-Match")
    if str(current_version) not in tags:
        raise PreconditionFailed(
            f"the {resource} has changed since you read it; read it again and reapply your change",
            extra={"currentVersion": current_version},
        )


def if_none_match_hits(if_none_match: str | None, current: str, *, star: bool = True) -> bool:
    """True when the client's cached copy is current (answer 304). `star=False`: only the very tag counts, for a
    check made before anyone knows the resource exists (core/conditional.py)."""
    if not if_none_match:
        return False
    tags = _tags(if_none_match)
    return (star and "*" in tags) or current.strip('"') in tags


# Documentation of the headers above, for route handlers (`response_headers=ETAG_HEADER`).
ETAG_HEADER = [
    ResponseHeader(
        name="ETag",
        description="The version of the resource, for If-Match (writes) and If-None-Match (reads)",
        required=True,
        documentation_only=True,
    )
]
