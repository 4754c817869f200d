"""Which patients' records changed, as this process learns it: for caches that must never outlive a write.

Every event appended (`events.append_event`, the one way any domain records a change of a patient's record) bumps
the patient's counter here at once, and sends `NOTIFY helsekort_patient_changed` with her id in the writer's
transaction; every API process listens on one connection of its own and bumps the counter when the commit is
delivered, so a write in another process or the worker is seen too. A cache (core/conditional.py) reads the
counter before it reads the database and keeps what it read only if the counter has not moved meanwhile, and
drops it whenever the counter moves. While the listening connection is down (or not yet up), `live()` is false
and nothing may be cached; every `PROBE_SECONDS` the listener sends itself a probe, and it is live only while the
probes come back (a pooler in transaction mode loses notifications). `PatientCache` is that cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Generic, TypeVar

import asyncpg

from backend.core.clock import OSLO, utcnow
from backend.db.engine import DB

log = logging.getLogger("helsekort.changes")

CHANNEL = "helsekort_patient_changed"
RECONNECT_SECONDS = 1.0
PROBE_SECONDS = 2.0
PROBE_TIMEOUT_SECONDS = 1.0
_PROBE = "probe:"
_MAX_TRACKED = 100_000


class ChangeSignals:
    def __init__(self) -> None:
        self._counters: dict[uuid.UUID, int] = {}
        self._epoch = 0  # bumped when every patient must be taken as changed (listener lost, counters forgotten)
        self._subscribers: list[Callable[[uuid.UUID | None], None]] = []
        self._dsn: str | None = None
        self._live = False
        self._task: asyncio.Task[None] | None = None
        self._connection: Any = None
        self._probe = ""
        self._probe_seen = asyncio.Event()

    def mark(self, patient_id: uuid.UUID) -> tuple[int, int]:
        """What a reader compares after its read: (epoch, the patient's counter)."""
        return self._epoch, self._counters.get(patient_id, 0)

    def live(self, dsn: str) -> bool:
        """Whether changes of the database at `dsn` reach this process now (start listening when not yet)."""
        if self._dsn != dsn or self._task is None or self._task.done():
            self._start(dsn)
        return self._live

    def subscribe(self, forget: Callable[[uuid.UUID | None], None]) -> None:
        """`forget(patient_id)` on each change; `forget(None)`: everything may have changed."""
        self._subscribers.append(forget)

    def changed(self, patient_id: uuid.UUID) -> None:
        if len(self._counters) >= _MAX_TRACKED:
            self._everything_changed()
            return
        self._counters[patient_id] = self._counters.get(patient_id, 0) + 1
        for forget in self._subscribers:
            forget(patient_id)

    def _everything_changed(self) -> None:
        self._epoch += 1
        self._counters.clear()
        for forget in self._subscribers:
            forget(None)

    def _notified(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        if payload.startswith(_PROBE):
            if payload == self._probe:
                self._probe_seen.set()
            return
        try:
            patient_id = uuid.UUID(payload)
        except ValueError:
            return
        self.changed(patient_id)

    def _start(self, dsn: str) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._live = False
        self._everything_changed()
        self._dsn = dsn
        self._task = asyncio.get_running_loop().create_task(self._listen(dsn))

    async def _listen(self, dsn: str) -> None:
        while True:
            lost = asyncio.Event()
            try:
                self._connection = await asyncpg.connect(
                    dsn, timeout=5, server_settings={"application_name": "helsekort-changes"}
                )
                self._connection.add_termination_listener(lambda _connection, lost=lost: lost.set())
                await self._connection.add_listener(CHANNEL, self._notified)
                while not lost.is_set():
                    await self._check_delivery()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), PROBE_SECONDS)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                log.warning("change notifications unavailable", extra={"error": type(exc).__name__})
            finally:
                self._live = False
                self._everything_changed()
                if self._connection is not None:
                    with contextlib.suppress(Exception):
                        self._connection.terminate()
                    self._connection = None
            await asyncio.sleep(RECONNECT_SECONDS)

    async def _check_delivery(self) -> None:
        """Live while a probe this connection sends comes back to it: a pooler in transaction mode (docs/scaling.md)
        or anything else that loses notifications turns caching off within `PROBE_SECONDS`."""
        self._probe = f"{_PROBE}{uuid.uuid4().hex}"
        self._probe_seen = asyncio.Event()
        await self._connection.execute("SELECT pg_notify($1, $2)", CHANNEL, self._probe)
        try:
            await asyncio.wait_for(self._probe_seen.wait(), PROBE_TIMEOUT_SECONDS)
        except TimeoutError:
            if self._live:
                log.warning("change notifications are not delivered; nothing is cached")
            self._live = False
            self._everything_changed()
            return
        self._live = True

    async def close(self) -> None:
        """Stop listening (the app's shutdown): nothing is cached afterwards."""
        task, self._task = self._task, None
        self._live = False
        self._dsn = None
        self._everything_changed()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close(timeout=1)
            self._connection = None


SIGNALS = ChangeSignals()


async def notify_changed(connection: Any, patient_id: uuid.UUID) -> None:
    """For a write that appends no event (a demo loader's direct insert): tell every process on its commit."""
    await connection.execute("SELECT pg_notify($1, $2::text)", CHANNEL, str(patient_id))
    SIGNALS.changed(patient_id)


V = TypeVar("V")
MAX_AGE = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class _Kept(Generic[V]):
    value: V
    read_at: datetime
    until: datetime


class PatientCache(Generic[V]):
    """Values read for a patient, kept in this process until she changes (any event appended for her), until
    the time the reader names, the next midnight in Norway or `MAX_AGE`; nothing is kept while changes cannot
    reach this process, and a value read while she changed is not kept."""

    def __init__(self, limit: int = 50_000, per_patient: int = 16) -> None:
        self._kept: dict[uuid.UUID, dict[Hashable, _Kept[V]]] = {}
        self._limit = limit
        self._per_patient = per_patient
        SIGNALS.subscribe(self.forget)

    def forget(self, patient_id: uuid.UUID | None) -> None:
        if patient_id is None:
            self._kept.clear()
        else:
            self._kept.pop(patient_id, None)

    def _found(self, patient_id: uuid.UUID, key: Hashable, now: datetime) -> _Kept[V] | None:
        kept = self._kept.get(patient_id, {}).get(key)
        # A clock set back (tests) never sees what was read later.
        return kept if kept is not None and kept.read_at <= now < kept.until else None

    def holds_any(self, patient_id: uuid.UUID, keys: Iterable[Hashable]) -> bool:
        """Whether a value is kept for her under one of `keys` (while changes reach this process)."""
        dsn = DB.config.get("dsn")
        if not (isinstance(dsn, str) and SIGNALS.live(dsn)):
            return False
        now = utcnow()
        return any(self._found(patient_id, key, now) is not None for key in keys)

    async def get(
        self, patient_id: uuid.UUID, key: Hashable, read: Callable[[], Awaitable[tuple[V, datetime | None]]]
    ) -> V:
        """The kept value, else `read()`: (value, until when time alone leaves it unchanged or None)."""
        dsn = DB.config.get("dsn")
        if isinstance(dsn, str) and SIGNALS.live(dsn):
            kept = self._found(patient_id, key, utcnow())
            if kept is not None:
                return kept.value

        async def keyed() -> tuple[V, datetime | None, Hashable]:
            value, ends = await read()
            return value, ends, key

        return await self.read_and_keep(patient_id, keyed)

    async def read_and_keep(
        self, patient_id: uuid.UUID, read: Callable[[], Awaitable[tuple[V, datetime | None, Hashable]]]
    ) -> V:
        """`read()`: (value, until when time alone leaves it unchanged or None, the key it is kept under), kept
        unless she changed while it was read; for a value whose key the read itself finds out."""
        now = utcnow()
        dsn = DB.config.get("dsn")
        live = isinstance(dsn, str) and SIGNALS.live(dsn)
        mark = SIGNALS.mark(patient_id)
        value, ends, key = await read()
        if live and SIGNALS.mark(patient_id) == mark and isinstance(dsn, str) and SIGNALS.live(dsn):
            if len(self._kept) >= self._limit:
                self._kept.clear()
            midnight = datetime.combine(now.astimezone(OSLO).date() + timedelta(days=1), time(), OSLO)
            until = min(now + MAX_AGE, midnight, ends or midnight)
            hers = self._kept.setdefault(patient_id, {})
            if len(hers) >= self._per_patient:
                hers.clear()
            hers[key] = _Kept(value=value, read_at=now, until=until)
        return value
