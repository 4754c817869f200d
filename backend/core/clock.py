"""The service's clock: aware UTC now, replaceable in tests so time-based rules are tested without sleeping."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

OSLO = ZoneInfo("Europe/Oslo")

_frozen: contextvars.ContextVar[datetime | None] = contextvars.ContextVar("frozen_now", default=None)


def utcnow() -> datetime:
    """Now, timezone-aware UTC (or the time a test has set)."""
    frozen = _frozen.get()
    if frozen is not None:
        return frozen
    return datetime.now(UTC)


def oslo_now() -> datetime:
    return utcnow().astimezone(OSLO)


@contextlib.contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    """Freeze `utcnow()` in this context (tests). SQL `now()` is not affected: services pass times explicitly."""
    if moment.tzinfo is None:
        raise ValueError("freeze the clock at an aware datetime")
    token = _frozen.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _frozen.reset(token)
