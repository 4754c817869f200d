"""Rate-limit counters shared by every API process (backend/core/ratelimit.py; issue 13, "Limits shared by all
processes"): one row per limited key and its current fixed window."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-12-01T03:31:17:000000"
VERSION = "1.38.0"
DESCRIPTION = "rate_limit_window: UNLOGGED fixed-window counters"

SQL = """
-- UNLOGGED: a hit writes no WAL and is not replicated; after a crash or a failover the table is empty, which
-- forgets at most one window of counts. Not patient data: a local table wherever the patient tables go.
CREATE UNLOGGED TABLE rate_limit_window (
    -- SHA-256 of the limit's name and its key (caller id, or client address and token key): nothing in clear.
    bucket bytea PRIMARY KEY CHECK (octet_length(bucket) = 32),
    limit_name text NOT NULL CHECK (limit_name <> ''),
    window_ends timestamptz NOT NULL,
    hits integer NOT NULL CHECK (hits > 0)
) WITH (fillfactor = 70);  -- free space on the page keeps the per-hit update of `hits` a HOT update
-- The worker deletes ended windows (purge_expired_windows).
CREATE INDEX rate_limit_window_ends ON rate_limit_window (window_ends);
"""

BACKWARDS_SQL = """
DROP TABLE rate_limit_window;
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def run() -> None:
        await execute_in_migration(SQL)

    async def run_backwards() -> None:
        await execute_in_migration(BACKWARDS_SQL)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
