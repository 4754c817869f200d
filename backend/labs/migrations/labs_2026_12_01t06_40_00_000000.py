"""Earlier results and the trend read one index in their own order (issue 21).

Both ask for a patient's current results of one test newest first, `ORDER BY specimen_at DESC, id DESC`. The
old index (patient_id, code, specimen_at) made PostgreSQL sort each test's rows for the top few: for the
clinician's list of 10 reports, 50 lateral sorts and 252 buffers. With `id DESC` in the index the scan stops
after the rows it needs (113 buffers, half the time); it replaces the old one, which it covers.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-12-01T06:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "labs: one index for earlier results and the trend, in their order"

SQL = """
CREATE INDEX lab_observation_newest ON lab_observation (patient_id, code, specimen_at DESC, id DESC) WHERE current;
DROP INDEX lab_observation_trend;
"""

BACKWARDS_SQL = """
CREATE INDEX lab_observation_trend ON lab_observation (patient_id, code, specimen_at) WHERE current;
DROP INDEX lab_observation_newest;
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="labs", description=DESCRIPTION)

    async def run() -> None:
        await execute_in_migration(SQL)

    async def run_backwards() -> None:
        await execute_in_migration(BACKWARDS_SQL)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
