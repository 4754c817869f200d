"""Apply every app's migrations in dependency order (`helsekort migrate`); never run on import."""

from __future__ import annotations

import contextlib
import io
import logging
import os

import asyncpg

os.environ.setdefault("PICCOLO_CONF", "backend.db.piccolo_conf")

from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.engine import engine_finder

from backend.db.engine import DB

log = logging.getLogger("helsekort.db")


class MigrationFailed(RuntimeError):
    pass


# Any number of processes may start at once (workers, `serve --prepare`): one migrates, the others wait.
_MIGRATION_LOCK = 7_408_211_026


async def migrate(dsn: str, *, quiet: bool = True) -> None:
    """Run all pending migrations against `dsn`, serialised across processes by an advisory lock."""
    DB.configure(dsn)
    output = io.StringIO()
    lock = await asyncpg.connect(dsn)
    try:
        await lock.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
        engine = engine_finder()
        if engine is None:
            raise MigrationFailed("no database engine configured")
        # Piccolo commits a migration's changes and then, separately, its row in `migration`: a process killed
        # between the two left a schema that the next run tried to create again ("already exists"). One
        # transaction around the whole run (Piccolo's own transactions nest into it) applies and records every
        # pending migration together, or none of them.
        async with engine.transaction():
            with contextlib.redirect_stdout(output) if quiet else contextlib.nullcontext():
                result = await run_forwards(app_name="all")
            if not result.success:
                raise MigrationFailed(f"migrations failed: {result.message}\n{output.getvalue()}")
    finally:
        await lock.close()  # ends the session, which releases the lock
    log.info("migrations applied")


async def execute_in_migration(sql: str) -> None:
    """Run a multi-statement SQL script inside the running migration's transaction."""
    from piccolo.engine import engine_finder

    engine = engine_finder()
    if engine is None:
        raise MigrationFailed("no database engine configured")
    transaction = engine.current_transaction.get()
    if transaction is None:
        raise MigrationFailed("raw migration SQL must run inside the migration's transaction")
    await transaction.connection.execute(sql)
