"""NEWS2 v1.1: constraints and backfill for prescribed SpO2 targets (scale 2 only with one) and for why a score is
not valid for the patient; the table and columns come from the migration before this one."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-11-30T23:13:39:000000"
VERSION = "1.38.0"
DESCRIPTION = "spo2_target and news2_score checks and indexes, not_valid_reason backfill"

SQL = """
ALTER TABLE spo2_target ALTER COLUMN patient SET NOT NULL;
ALTER TABLE spo2_target ADD CONSTRAINT spo2_target_target_check CHECK (target IN ('88-92'));
ALTER TABLE spo2_target
    ADD CONSTRAINT spo2_target_cleared_by_check CHECK ((cleared_at IS NULL) = (cleared_by_hpr IS NULL));
CREATE UNIQUE INDEX spo2_target_in_force ON spo2_target (patient) WHERE cleared_at IS NULL;
CREATE INDEX spo2_target_history ON spo2_target (patient, prescribed_at DESC);

-- Until now the only reason a score was not valid was an ongoing pregnancy.
UPDATE news2_score SET not_valid_reason = 'pregnancy' WHERE NOT valid_for_patient;
ALTER TABLE news2_score
    ADD CONSTRAINT news2_score_not_valid_reason_check CHECK (
        (valid_for_patient AND not_valid_reason IS NULL)
        OR (NOT valid_for_patient AND not_valid_reason IN ('under-16', 'pregnancy', 'after-pregnancy'))
    );
-- Scale 2 only under a recorded target (CLINICAL.md v1.1). Earlier rows took the request's word for it:
-- NOT VALID keeps them as they were recorded and holds every new row to the rule.
ALTER TABLE news2_score
    ADD CONSTRAINT news2_score_scale_2_has_target CHECK (spo2_scale = 1 OR spo2_target IS NOT NULL) NOT VALID;
"""

BACKWARDS_SQL = """
ALTER TABLE news2_score DROP CONSTRAINT news2_score_scale_2_has_target;
ALTER TABLE news2_score DROP CONSTRAINT news2_score_not_valid_reason_check;
DROP INDEX spo2_target_history;
DROP INDEX spo2_target_in_force;
ALTER TABLE spo2_target DROP CONSTRAINT spo2_target_cleared_by_check;
ALTER TABLE spo2_target DROP CONSTRAINT spo2_target_target_check;
ALTER TABLE spo2_target ALTER COLUMN patient DROP NOT NULL;
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="measurements", description=DESCRIPTION)

    async def run() -> None:
        await execute_in_migration(SQL)

    async def run_backwards() -> None:
        await execute_in_migration(BACKWARDS_SQL)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
