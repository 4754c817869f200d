"""This process's short caches of published content (pages, search results).

A write in this process (publish, unpublish, sync, a scheduled change the worker applies) drops every one of
them at once; other processes see the change within `SECONDS`. Each cache is bounded: past `limit` entries
it starts again empty rather than grow with every new search text.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

SECONDS = 2.0
# A value this close to its end is read again in the background by the first request that finds it, while every
# request still gets the fresh one: under load an entry never ends, so no request waits for the search.
REFRESH_AHEAD = 0.5

log = logging.getLogger("helsekort.cms")

_ALL: list[ShortCache[object, object]] = []


class ShortCache(Generic[K, V]):
    def __init__(self, limit: int = 10_000) -> None:
        self._items: dict[K, tuple[float, V]] = {}
        self._limit = limit
        self._flights: dict[K, asyncio.Task[V]] = {}
        self._generation = 0  # a value computed before a clear() is not kept after it
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
        self._generation += 1
        self._items.clear()

    async def get_or_compute(self, key: K, compute: Callable[[], Awaitable[V]]) -> V:
        """The fresh value, else one computation shared by every request that misses at the same time (no
        stampede when an entry ends under load); near its end, a fresh value is renewed in the background."""
        now = time.monotonic()
        found = self._items.get(key)
        if found is not None and found[0] > now:
            if found[0] - now < REFRESH_AHEAD and key not in self._flights:
                self._flight(key, compute).add_done_callback(_log_failure)
            return found[1]
        flight = self._flights.get(key) or self._flight(key, compute)
        return await asyncio.shield(flight)

    def _flight(self, key: K, compute: Callable[[], Awaitable[V]]) -> asyncio.Task[V]:
        generation = self._generation

        async def fill() -> V:
            try:
                value = await compute()
            finally:
                self._flights.pop(key, None)
            if generation == self._generation:
                self.put(key, value)
            return value

        flight = asyncio.get_running_loop().create_task(fill())
        self._flights[key] = flight
        return flight


def _log_failure(task: asyncio.Task[object]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("background refresh failed", extra={"error": type(task.exception()).__name__})


def forget_cached_content() -> None:
    """Drop every cache of published content in this process (after a write, and again after its commit)."""
    for cache in _ALL:
        cache.clear()
