"""The shared rate-limit counters (core/ratelimit.py) against the real database: exact counts under
concurrency, window rollover, Retry-After, the purge, the migration's downgrade."""

from __future__ import annotations

import asyncio
import importlib
import time
import uuid

import asyncpg
import pytest
from litestar import Litestar

from backend.core import ratelimit
from backend.core.ratelimit import RateLimit
from backend.jobs import WORKER_JOBS
from backend.settings import Settings

MIGRATION = "backend.core.migrations.core_2026_12_01t03_31_17_000000"


def _key() -> str:
    return f"test:{uuid.uuid4()}"


async def _stored_hits(db: asyncpg.Connection, limit: RateLimit, key: str) -> int | None:
    hits: int | None = await db.fetchval("SELECT hits FROM rate_limit_window WHERE bucket = $1", limit.bucket(key))
    return hits


async def test_concurrent_hits_are_counted_exactly(app: Litestar, db: asyncpg.Connection) -> None:
    # Every hit on its own pooled connection at once, the first ones racing to create the row.
    limit, key = RateLimit("test-concurrency", 1000), _key()
    counts = await asyncio.gather(*[limit.hit(key) for _ in range(60)])
    assert sorted(count.hits for count in counts) == list(range(1, 61))
    assert await _stored_hits(db, limit, key) == 60


async def test_two_limiters_share_one_count(app: Litestar) -> None:
    # Two instances stand for two processes: what one counted, the other sees.
    first, second, key = RateLimit("test-shared", 3), RateLimit("test-shared", 3), _key()
    hits = [(await limiter.hit(key)).hits for limiter in (first, second, first, second)]
    assert hits == [1, 2, 3, 4]
    assert not (await second.hit(key)).allowed


async def test_limits_and_keys_are_counted_apart(app: Litestar) -> None:
    writes, failures, key = RateLimit("test-a", 1), RateLimit("test-b", 1), _key()
    assert (await writes.hit(key)).allowed
    assert (await failures.hit(key)).allowed
    assert (await writes.hit(_key())).allowed
    assert not (await writes.hit(key)).allowed


async def test_a_new_window_starts_when_the_last_one_ended(app: Litestar, db: asyncpg.Connection) -> None:
    limit, key = RateLimit("test-rollover", 2, window_seconds=1), _key()
    assert [(await limit.hit(key)).allowed for _ in range(3)] == [True, True, False]
    refused = await limit.hit(key)  # answered from this process's memory of the refusal
    assert (refused.allowed, refused.reset) == (False, 1)
    await asyncio.sleep(1.2)
    again = await limit.hit(key)
    assert (again.allowed, again.hits, again.remaining) == (True, 1, 1)
    assert await _stored_hits(db, limit, key) == 1


async def test_reset_is_the_time_left_in_the_window(app: Litestar, db: asyncpg.Connection) -> None:
    limit, key = RateLimit("test-reset", 1), _key()
    first = await limit.hit(key)
    assert (first.reset, first.remaining) == (60, 0)
    assert first.headers() == {
        "RateLimit-Policy": "1; w=60",
        "RateLimit-Limit": "1",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": "60",
    }
    # 45 seconds of the window have passed.
    await db.execute(
        "UPDATE rate_limit_window SET window_ends = window_ends - interval '45 seconds' WHERE bucket = $1",
        limit.bucket(key),
    )
    refused = await limit.hit(key)
    assert not refused.allowed
    assert refused.reset == 15


async def test_the_worker_purges_only_ended_windows(
    app: Litestar, settings: Settings, db: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit, ended, current = RateLimit("test-purge", 5), _key(), _key()
    await limit.hit(ended)
    await limit.hit(current)
    await db.execute(
        "UPDATE rate_limit_window SET window_ends = now() - interval '1 second' WHERE bucket = $1", limit.bucket(ended)
    )
    [job] = [job for name, job in WORKER_JOBS if name == "expired-rate-limit-windows"]
    monkeypatch.setattr(ratelimit, "_next_purge", 0.0)  # due now, whatever ran the worker earlier in the session
    assert await job(settings) >= 1
    assert await job(settings) == 0  # at most once a minute: the worker may idle between purges
    assert await _stored_hits(db, limit, ended) is None
    assert await _stored_hits(db, limit, current) == 1
    # A key whose row was purged starts a new window.
    assert (await limit.hit(ended)).hits == 1


async def test_the_table_keeps_no_key_in_clear(app: Litestar, db: asyncpg.Connection) -> None:
    limit, key = RateLimit("test-clear", 5), "203.0.113.5\0https://issuer.example kid-1"
    await limit.hit(key)
    row = await db.fetchrow("SELECT * FROM rate_limit_window WHERE bucket = $1", limit.bucket(key))
    assert row is not None
    assert set(row.keys()) == {"bucket", "limit_name", "window_ends", "hits"}
    assert row["limit_name"] == "test-clear"
    assert b"203.0.113.5" not in bytes(row["bucket"])


async def test_the_migration_goes_down_and_up_again(app: Litestar, db: asyncpg.Connection) -> None:
    migration = importlib.import_module(MIGRATION)
    transaction = db.transaction()
    await transaction.start()
    try:
        await db.execute(migration.BACKWARDS_SQL)
        assert await db.fetchval("SELECT to_regclass('rate_limit_window')") is None
        await db.execute(migration.SQL)
        persistence = await db.fetchval("SELECT relpersistence::text FROM pg_class WHERE relname = 'rate_limit_window'")
        assert persistence == "u"  # UNLOGGED
    finally:
        await transaction.rollback()


async def test_a_caller_over_the_limit_costs_no_database_round_trip(app: Litestar, db: asyncpg.Connection) -> None:
    limit, key = RateLimit("test-memory", 1), _key()
    await limit.hit(key)
    await limit.hit(key)
    started = time.perf_counter()
    answers = [await limit.hit(key) for _ in range(1000)]
    elapsed = time.perf_counter() - started
    assert not any(count.allowed for count in answers)
    assert await _stored_hits(db, limit, key) == 2  # the thousand refusals never reached the table
    assert elapsed < 0.5
