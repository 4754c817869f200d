"""Run in a subprocess by test_migration_interrupted.py (Piccolo's engine is process-wide): a migration run that
fails after some migrations applied but before the third is recorded, then a normal run. Prints one JSON line."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any
from unittest import mock

import asyncpg


async def interrupted(dsn: str) -> dict[str, Any]:
    from piccolo.apps.migrations.tables import Migration

    from backend.db.migrate import migrate

    real = Migration.insert
    calls = 0

    def insert_then_fail(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("the process died between a migration and its record")
        return real(*args, **kwargs)

    failed = ""
    with mock.patch.object(Migration, "insert", insert_then_fail):
        try:
            await migrate(dsn)
        except Exception as exc:  # what the run raised, whatever it is
            failed = type(exc).__name__
    connection = await asyncpg.connect(dsn)
    try:
        left = await connection.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        await migrate(dsn)
        recorded = await connection.fetchval("SELECT count(*) FROM migration")
    finally:
        await connection.close()
    return {"calls": calls, "failed": failed, "tables_left": left, "recorded_after_rerun": recorded}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(interrupted(sys.argv[1]))))
