"""The yardstick: a minimal Litestar app doing one primary-key SELECT with raw asyncpg from a pool.

Every scenario's req/s is divided by this route's, measured in the same run under the same ASGI server,
so the ratio says what our framework, middleware and services cost over the least a database read costs.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Annotated

import asyncpg
import msgspec
from asyncpg.pool import PoolConnectionProxy
from litestar import Litestar, get
from litestar.exceptions import NotFoundException
from litestar.params import PathParameter

DSN_VARIABLE = "BENCH_BASELINE_DATABASE_URL"
ROWS = 10_000
# The same pool bounds as the service's defaults (HELSEKORT_DB_POOL_MIN / _MAX), so neither side has more.
POOL_MIN = 2
POOL_MAX = 10
_LOCK_KEY = 7_314_021  # advisory lock: several workers may start at once; one creates and fills the table


class _Database:
    """Holds the pool the lifespan opens; a plain attribute read is the cheapest lookup per request."""

    pool: asyncpg.Pool | None = None


_database_state = _Database()


class BaselineRow(msgspec.Struct, kw_only=True, rename="camel"):
    id: int
    name: str
    value: float


async def create_table(connection: asyncpg.Connection | PoolConnectionProxy) -> None:
    """Create and fill `bench_baseline` once (idempotent, safe when several workers start together)."""
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS bench_baseline ("
            " id integer PRIMARY KEY, name text NOT NULL, value double precision NOT NULL)"
        )
        await connection.execute(
            "INSERT INTO bench_baseline (id, name, value)"
            " SELECT n, 'row ' || n, n * 0.5 FROM generate_series(1, $1::integer) AS n"
            " ON CONFLICT (id) DO NOTHING",
            ROWS,
        )
    await connection.execute("ANALYZE bench_baseline")


@contextlib.asynccontextmanager
async def _database(app: Litestar) -> AsyncIterator[None]:
    pool = await asyncpg.create_pool(os.environ[DSN_VARIABLE], min_size=POOL_MIN, max_size=POOL_MAX)
    async with pool.acquire() as connection:
        await create_table(connection)
    _database_state.pool = pool
    try:
        yield
    finally:
        _database_state.pool = None
        await pool.close()


@get("/baseline/{row_id:int}")
async def read_row(row_id: Annotated[int, PathParameter()]) -> BaselineRow:
    pool = _database_state.pool
    assert pool is not None
    async with pool.acquire() as connection:
        record = await connection.fetchrow("SELECT id, name, value FROM bench_baseline WHERE id = $1", row_id)
    if record is None:
        raise NotFoundException()
    return BaselineRow(id=record["id"], name=record["name"], value=record["value"])


@get("/ready")
async def ready() -> str:
    return "ready" if _database_state.pool is not None else "starting"


def app_factory() -> Litestar:
    """Entry point for granian/uvicorn `--factory`; the DSN comes from BENCH_BASELINE_DATABASE_URL."""
    return Litestar(route_handlers=[read_row, ready], lifespan=[_database], openapi_config=None, debug=False)
