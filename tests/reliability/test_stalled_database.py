"""A stalled (frozen, SIGSTOPped) PostgreSQL is a fast 503, not a hung service; /ready answers within a second.

The frozen server is a throwaway pgserver cluster of this test's own (never the shared server other
sessions use). The pool is opened with the production defaults of Settings, not the test session's.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import tempfile
import time
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from litestar import Litestar

from backend.db.engine import DB
from backend.settings import Settings
from tests.factories import new_citizen

# A stalled database answers within about a second; the margin covers a loaded test machine.
STALL_ANSWER_SECONDS = 1.5


@pytest.fixture(scope="module")
def throwaway_server() -> Iterator[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

    directory = Path(tempfile.mkdtemp(prefix="helsekort-frozen-pg-"))
    server = pgserver.get_server(directory, cleanup_mode="stop")  # type: ignore[attr-defined]
    try:
        yield server
    finally:
        _signal_cluster(server.get_pid(), signal.SIGCONT)
        server.cleanup()
        shutil.rmtree(directory, ignore_errors=True)


def _signal_cluster(postmaster_pid: int, signum: signal.Signals) -> None:
    """The postmaster and every backend it forked: the whole server stops (or resumes) at once."""
    postmaster = psutil.Process(postmaster_pid)
    for process in [postmaster, *postmaster.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            os.kill(process.pid, signum)


@contextlib.asynccontextmanager
async def pool_on(url: str, *, migrated: bool = True) -> AsyncIterator[None]:
    """Point the one engine at another server (migrated first, unless told it is unreachable) with the production
    timeouts, then restore the session's."""
    from backend.db.migrate import migrate

    defaults = Settings()
    saved_pool, saved_config = DB.pool, DB.config
    DB.pool = None
    try:
        if migrated:
            await migrate(url)
        else:
            DB.configure(url)
        await DB.open_pool(
            min_size=defaults.db_pool_min,
            max_size=defaults.db_pool_max,
            acquire_timeout=defaults.db_acquire_timeout,
            statement_timeout_ms=defaults.db_statement_timeout_ms,
            connect_timeout=defaults.db_connect_timeout,
            command_timeout=defaults.db_command_timeout,
        )
        yield
    finally:
        await DB.close_pool()
        DB.pool, DB.config = saved_pool, saved_config


async def _timed(request: Any) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = await request
    return response, time.perf_counter() - started


async def test_frozen_database_gives_fast_503_and_ready_answers_then_recovers(
    throwaway_server: Any, client: httpx.AsyncClient, app: Litestar
) -> None:
    async with pool_on(str(throwaway_server.get_uri())):
        citizen = await new_citizen(client, app)
        assert (await client.get("/ready")).status_code == 200
        _signal_cluster(throwaway_server.get_pid(), signal.SIGSTOP)
        try:
            # Requests already in flight when the server froze, and new ones while it stays frozen.
            in_flight = [asyncio.ensure_future(_timed(client.get("/citizen/v1/me", headers=citizen.headers)))
                         for _ in range(12)]  # fmt: skip
            await asyncio.sleep(0.05)
            later, later_seconds = await _timed(client.get("/citizen/v1/me", headers=citizen.headers))
            ready, ready_seconds = await _timed(client.get("/ready"))
            answered = await asyncio.gather(*in_flight)
        finally:
            _signal_cluster(throwaway_server.get_pid(), signal.SIGCONT)
        for response, seconds in [*answered, (later, later_seconds)]:
            assert response.status_code == 503, response.text
            assert int(response.headers["retry-after"]) >= 1
            assert response.headers["content-type"].startswith("application/problem+json")
            assert seconds < STALL_ANSWER_SECONDS, seconds
        assert ready.status_code == 503
        assert ready_seconds < 1.0 + 0.25, ready_seconds
        # The server resumes: the pool replaces what the stall broke and the service answers again.
        deadline = time.monotonic() + 10
        statuses: list[int] = []
        while time.monotonic() < deadline:
            statuses.append((await client.get("/citizen/v1/me", headers=citizen.headers)).status_code)
            if statuses[-1] == 200 and (await client.get("/ready")).status_code == 200:
                break
            await asyncio.sleep(0.2)
        assert statuses[-1] == 200, statuses
