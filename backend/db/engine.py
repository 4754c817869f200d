"""The one Piccolo engine every table uses, with a bounded pool whose exhaustion or stall fails fast.

Three timeouts make a stalled server (frozen, partitioned) a quick 503 instead of a hung request:
connecting, acquiring a pooled connection, and every command on a connection (asyncpg's
command_timeout; it also bounds the cancel request and the reset on release).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from piccolo.engine.postgres import PostgresEngine

from backend.db.errors import DatabaseUnavailable

log = logging.getLogger("helsekort.db")


class _BoundedPool:
    """asyncpg pool whose every acquire has a timeout, so an exhausted pool answers 503, never hangs."""

    def __init__(self, pool: asyncpg.Pool, timeout: float) -> None:
        self._pool = pool
        self._timeout = timeout

    def acquire(self, *, timeout: float | None = None) -> Any:
        return _TimedAcquire(self._pool, timeout if timeout is not None else self._timeout)

    async def release(self, connection: Any) -> None:
        await _release(self._pool, connection, self._timeout)

    async def close(self) -> None:
        await self._pool.close()

    def terminate(self) -> None:
        self._pool.terminate()

    @property
    def raw(self) -> asyncpg.Pool:
        return self._pool

    def get_size(self) -> int:
        return self._pool.get_size()

    def get_idle_size(self) -> int:
        return self._pool.get_idle_size()


class _TimedAcquire:
    """Awaitable and async context manager, like asyncpg's own acquire context."""

    def __init__(self, pool: asyncpg.Pool, timeout: float) -> None:
        self._pool = pool
        self._timeout = timeout
        self._connection: Any = None

    async def _acquire(self) -> Any:
        try:
            connection = await self._pool.acquire(timeout=self._timeout)
        except TimeoutError as exc:
            raise DatabaseUnavailable("the database is busy; try again shortly", retry_after=1) from exc
        return connection

    def __await__(self) -> Any:
        return self._acquire().__await__()

    async def __aenter__(self) -> Any:
        self._connection = await self._acquire()
        return self._connection

    async def __aexit__(self, *exc: object) -> None:
        if self._connection is not None:
            await _release(self._pool, self._connection, self._timeout)
            self._connection = None


async def _release(pool: asyncpg.Pool, connection: Any, budget: float) -> None:
    """Return a connection to the pool without ever waiting long on a stalled server.

    A command that timed out leaves asyncpg's cancel request in flight; release would wait for it (and
    then reset the session), doubling the time a stalled server holds the request. Such a connection is
    dropped instead, and the pool opens a fresh one when the server answers again. Any other release is
    bounded too: a reset that does not finish in time terminates the connection.
    """
    raw = connection._con  # None once the pool detached it (a connection the server closed): release is a no-op
    if raw is not None and raw._protocol._is_cancelling():
        raw.terminate()
    await pool.release(connection, timeout=budget)


async def _keep_session(connection: Any) -> None:
    """Release without asyncpg's default RESET ALL / UNLISTEN / advisory-unlock round trip.

    asyncpg still rolls back a transaction left open. The service never changes session state (no SET
    outside a transaction, no LISTEN, no session advisory locks, no cursors outside transactions), so
    the default reset query would only cost one round trip per request.
    """


class HelsekortEngine(PostgresEngine):
    """PostgresEngine configured at start-up (not import time) with a bounded, timed pool."""

    def __init__(self) -> None:
        super().__init__(config={})
        self.acquire_timeout = 5.0

    def configure(self, dsn: str) -> None:
        self.config = {"dsn": dsn}

    async def open_pool(
        self,
        *,
        min_size: int,
        max_size: int,
        acquire_timeout: float,
        statement_timeout_ms: int,
        connect_timeout: float = 10.0,
        command_timeout: float | None = None,
        generic_plans: bool = False,
    ) -> None:
        """Open the pool; `command_timeout` None: the statement timeout plus a margin (batch commands).

        `generic_plans`: every prepared statement is planned once per connection (`plan_cache_mode =
        force_generic_plan`), for the API server. PostgreSQL otherwise keeps re-planning a statement whose
        parameters it can fold into a cheaper-looking plan, and the access decision is such a statement: with
        a NULL consent or relation kind, a custom plan drops one of its checks, so every request paid a full
        plan of it (measured: 100-110 us of PostgreSQL's CPU of a kept clinician read's 150-170). The API's
        statements are led by a patient's key or another equality, which a generic plan serves as well. The
        worker's batch scans keep the default: a keyset over a whole table (`$1 IS NULL OR (k) > ($1)`) needs
        its custom plan to start the index at the cursor.
        """
        if self.pool is not None:
            return
        self.acquire_timeout = acquire_timeout
        options: dict[str, Any] = {
            "dsn": self.config["dsn"],
            "max_size": max_size,
            "reset": _keep_session,
            "timeout": connect_timeout,
            "command_timeout": command_timeout if command_timeout is not None else statement_timeout_ms / 1000 + 5,
            "server_settings": {
                "statement_timeout": str(statement_timeout_ms),
                "timezone": "UTC",
                "application_name": "helsekort",
                **({"plan_cache_mode": "force_generic_plan"} if generic_plans else {}),
            },
        }
        try:
            pool = await asyncpg.create_pool(min_size=min_size, **options)
        except (OSError, asyncpg.exceptions.PostgresError, asyncpg.exceptions.InterfaceError) as exc:
            # Keep the process alive (liveness) and let /ready report 503 until the database answers.
            log.warning("database not reachable at start-up; pool opens lazily", extra={"error": str(exc)})
            pool = await asyncpg.create_pool(min_size=0, **options)
        self.pool = _BoundedPool(pool, acquire_timeout)  # type: ignore[assignment]

    async def close_pool(self) -> None:
        if self.pool is not None:
            await self.pool.close()
            self.pool = None

    @contextlib.asynccontextmanager
    async def connection(self, *, acquire_timeout: float | None = None) -> AsyncIterator[Any]:
        """The current transaction's connection, or a pooled one: for the measured raw-asyncpg paths."""
        current = self.current_transaction.get()
        if current is not None:
            yield current.connection
            return
        if self.pool is None:
            raise DatabaseUnavailable("the database pool is not open")
        async with self.pool.acquire(timeout=acquire_timeout) as connection:
            yield connection


DB = HelsekortEngine()
