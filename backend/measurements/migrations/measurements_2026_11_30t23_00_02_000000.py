"""NEWS2 v1.1: prescribed SpO2 targets (scale 2 only with one), and why a score is not valid for the patient."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-11-30T23:00:02:000000"
VERSION = "1.38.0"
DESCRIPTION = "spo2_target; news2_score.not_valid_reason and spo2_target"

SQL = """
CREATE TABLE spo2_target (
    id uuid PRIMARY KEY,
    patient uuid NOT NULL REFERENCES patient (id) ON DELETE RESTRICT,
    target varchar(8) NOT NULL CONSTRAINT spo2_target_target_check CHECK (target IN ('88-92')),
    prescribed_by_hpr varchar(12) NOT NULL,
    prescribed_by_name varchar(200) NULL,
    prescribed_by_authorization varchar(8) NOT NULL,
    prescribed_by_org varchar(9) NOT NULL,
    prescribed_by_org_kind varchar(32) NOT NULL,
    prescribed_at timestamptz NOT NULL DEFAULT now(),
    cleared_by_hpr varchar(12) NULL,
    cleared_by_name varchar(200) NULL,
    cleared_by_org varchar(9) NULL,
    cleared_at timestamptz NULL,
    CONSTRAINT spo2_target_cleared_by_check CHECK ((cleared_at IS NULL) = (cleared_by_hpr IS NULL))
);
CREATE UNIQUE INDEX spo2_target_in_force ON spo2_target (patient) WHERE cleared_at IS NULL;
CREATE INDEX spo2_target_history ON spo2_target (patient, prescribed_at DESC);

ALTER TABLE news2_score
    ADD COLUMN not_valid_reason varchar(32) NULL,
    ADD COLUMN spo2_target uuid NULL REFERENCES spo2_target (id) ON DELETE RESTRICT;
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
ALTER TABLE news2_score DROP COLUMN spo2_target, DROP COLUMN not_valid_reason;
DROP TABLE spo2_target;
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
