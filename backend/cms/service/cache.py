"""This process's short caches of published content (pages, search results).

A write in this process (publish, unpublish, sync, a scheduled change the worker applies) drops every one of
them at once; other processes see the change within `SECONDS`. Each cache is bounded: past `limit` entries
it starts again empty rather than grow with every new search text.
"""

from __future__ import annotations

import time
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

SECONDS = 2.0

_ALL: list[ShortCache[object, object]] = []


class ShortCache(Generic[K, V]):
    def __init__(self, limit: int = 10_000) -> None:
        self._items: dict[K, tuple[float, V]] = {}
        self._limit = limit
        _ALL.append(self)  # type: ignore[arg-type]  # every cache, whatever it holds, is forgotten together

    def get(self, key: K) -> tuple[bool, V | None]:
        """(True, value) while fresh, else (False, None); a cached value may itself be None (no such page)."""
        found = self._items.get(key)
        if found is None or found[0] <= time.monotonic():
            return False, None
        return True, found[1]

    def put(self, key: K, value: V) -> None:
        if len(self._items) >= self._limit:
            self._items.clear()
        self._items[key] = (time.monotonic() + SECONDS, value)

    def clear(self) -> None:
        self._items.clear()


def forget_cached_content() -> None:
    """Drop every cache of published content in this process (after a write, and again after its commit)."""
    for cache in _ALL:
        cache.clear()
