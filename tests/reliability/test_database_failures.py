"""A killed database connection and an exhausted pool: fast 503s, then recovery, never a hang."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

import asyncpg
import httpx
from litestar import Litestar

from backend.db.engine import DB
from tests.factories import new_citizen


async def test_killed_connections_are_replaced(
    client: httpx.AsyncClient, app: Litestar, server_url: str, database_url: str
) -> None:
    citizen = await new_citizen(client, app)
    assert (await client.get("/ready")).status_code == 200
    admin = await asyncpg.connect(server_url)
    try:
        # Only this session's database: other test sessions may share the server.
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = 'helsekort' AND datname = $1 AND pid <> pg_backend_pid()",
            urlsplit(database_url).path.lstrip("/"),
        )
    finally:
        await admin.close()
    assert killed >= 1
    # The pool notices dead connections and opens new ones: at most a failed request or two, never data loss.
    statuses = [(await client.get("/citizen/v1/me", headers=citizen.headers)).status_code for _ in range(6)]
    assert statuses[-1] == 200
    assert set(statuses) <= {200, 503}


async def test_exhausted_pool_answers_503_quickly(client: httpx.AsyncClient, app: Litestar) -> None:
    pool = DB.pool
    assert pool is not None
    held = []
    original_timeout = pool._timeout  # type: ignore[attr-defined]
    pool._timeout = 0.3  # type: ignore[attr-defined]
    try:
        while pool.get_idle_size() or pool.get_size() < app.state.settings.db_pool_max:
            held.append(await pool.raw.acquire())
        started = time.perf_counter()
        response = await client.get("/ready")
        elapsed = time.perf_counter() - started
    finally:
        pool._timeout = original_timeout  # type: ignore[attr-defined]
        for connection in held:
            await pool.raw.release(connection)
    assert response.status_code == 503
    # The pool's own DatabaseUnavailable (backend.db knows nothing of HTTP), answered by the core's problem handler.
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"] == "the database is busy; try again shortly"
    assert response.headers["retry-after"] == "1"
    assert elapsed < 2
    assert (await client.get("/ready")).status_code == 200


async def test_requests_in_flight_do_not_block_each_other_beyond_the_pool(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    citizen = await new_citizen(client, app)
    responses = await asyncio.gather(*[client.get("/citizen/v1/me", headers=citizen.headers) for _ in range(40)])
    assert {response.status_code for response in responses} == {200}


async def test_concurrent_migrations_are_serialised(database_url: str) -> None:
    from backend.db.migrate import migrate

    # The test database is migrated already; three more runs at once must all succeed and change nothing.
    await asyncio.gather(migrate(database_url), migrate(database_url), migrate(database_url))
