"""Måledata constraints Piccolo cannot express: the dedupe indexes, the series indexes and value checks."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-11-25T23:14:25:000000"
VERSION = "1.38.0"
DESCRIPTION = "measurement dedupe/series indexes, value and NEWS2 checks"

SQL = """
ALTER TABLE measurement
    ADD CONSTRAINT measurement_source_check CHECK (source IN ('citizen', 'clinician'));
-- The blood-pressure panel carries systolic (and, from uploads, diastolic); every other code one value.
ALTER TABLE measurement
    ADD CONSTRAINT measurement_shape_check CHECK (
        (code = '85354-9' AND value IS NULL AND systolic IS NOT NULL)
        OR (code <> '85354-9' AND value IS NOT NULL AND systolic IS NULL AND diastolic IS NULL)
    );
ALTER TABLE measurement
    ADD CONSTRAINT measurement_finite_check CHECK (
        (value IS NULL OR (value > '-Infinity'::float8 AND value < 'Infinity'::float8))
        AND (systolic IS NULL OR (systolic > '-Infinity'::float8 AND systolic < 'Infinity'::float8))
        AND (diastolic IS NULL OR (diastolic > '-Infinity'::float8 AND diastolic < 'Infinity'::float8))
    );
-- Dedupe by the app's id.
CREATE UNIQUE INDEX measurement_client_id_once ON measurement (patient, client_id) WHERE client_id IS NOT NULL;
-- One index, two jobs: dedupe by device serial + code + time for devices that resend without ids (a NULL
-- serial never conflicts: NULLS DISTINCT), and the series and list scans by patient, code and period.
-- Every index costs the bulk upload (measured: each one takes ~15-25 % off COPY), so there is no third.
CREATE UNIQUE INDEX measurement_reading_once ON measurement (patient, code, effective_at, device_serial);

ALTER TABLE news2_score ADD CONSTRAINT news2_score_total_check CHECK (total BETWEEN 0 AND 20);
ALTER TABLE news2_score
    ADD CONSTRAINT news2_score_risk_check CHECK (risk IN ('low', 'low-medium', 'medium', 'high'));
ALTER TABLE news2_score ADD CONSTRAINT news2_score_scale_check CHECK (spo2_scale IN (1, 2));
ALTER TABLE news2_score
    ADD CONSTRAINT news2_score_consciousness_check CHECK (consciousness IN ('A', 'C', 'V', 'P', 'U'));
CREATE INDEX news2_score_newest ON news2_score (patient, effective_at DESC, id DESC);
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="measurements", description=DESCRIPTION)

    async def run() -> None:
        await execute_in_migration(SQL)

    manager.add_raw(run)
    return manager
