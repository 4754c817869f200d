"""Distribute by patient, step 1: `patient_id` NOT NULL in the measurement tables (issue 13).

A NEWS2 score is always recorded with its five vital-sign measurements (the API requires every parameter and
`record_news2` stores all five in the score's transaction), so those links are NOT NULL. `news2_score.spo2_target`
stays nullable: it is set only while a prescribed 88-92 % target put scale 2 in force, and a scale-1 score has none.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-12-01T02:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "measurement tables: patient_id NOT NULL; NEWS2 measurement links NOT NULL"

SQL = """
ALTER TABLE measurement RENAME COLUMN patient TO patient_id;
ALTER TABLE measurement ALTER COLUMN patient_id SET NOT NULL;
ALTER TABLE measurement RENAME CONSTRAINT measurement_patient_fkey TO measurement_patient_id_fkey;
ALTER TABLE spo2_target RENAME COLUMN patient TO patient_id;
ALTER TABLE spo2_target RENAME CONSTRAINT spo2_target_patient_fkey TO spo2_target_patient_id_fkey;
ALTER TABLE news2_score RENAME COLUMN patient TO patient_id;
ALTER TABLE news2_score ALTER COLUMN patient_id SET NOT NULL;
ALTER TABLE news2_score RENAME CONSTRAINT news2_score_patient_fkey TO news2_score_patient_id_fkey;
ALTER TABLE news2_score ALTER COLUMN respiration_rate_measurement SET NOT NULL;
ALTER TABLE news2_score ALTER COLUMN spo2_measurement SET NOT NULL;
ALTER TABLE news2_score ALTER COLUMN blood_pressure_measurement SET NOT NULL;
ALTER TABLE news2_score ALTER COLUMN pulse_measurement SET NOT NULL;
ALTER TABLE news2_score ALTER COLUMN temperature_measurement SET NOT NULL;
"""

BACKWARDS_SQL = """
ALTER TABLE news2_score ALTER COLUMN temperature_measurement DROP NOT NULL;
ALTER TABLE news2_score ALTER COLUMN pulse_measurement DROP NOT NULL;
ALTER TABLE news2_score ALTER COLUMN blood_pressure_measurement DROP NOT NULL;
ALTER TABLE news2_score ALTER COLUMN spo2_measurement DROP NOT NULL;
ALTER TABLE news2_score ALTER COLUMN respiration_rate_measurement DROP NOT NULL;
ALTER TABLE news2_score RENAME CONSTRAINT news2_score_patient_id_fkey TO news2_score_patient_fkey;
ALTER TABLE news2_score ALTER COLUMN patient_id DROP NOT NULL;
ALTER TABLE news2_score RENAME COLUMN patient_id TO patient;
ALTER TABLE spo2_target RENAME CONSTRAINT spo2_target_patient_id_fkey TO spo2_target_patient_fkey;
ALTER TABLE spo2_target RENAME COLUMN patient_id TO patient;
ALTER TABLE measurement RENAME CONSTRAINT measurement_patient_id_fkey TO measurement_patient_fkey;
ALTER TABLE measurement ALTER COLUMN patient_id DROP NOT NULL;
ALTER TABLE measurement RENAME COLUMN patient_id TO patient;
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
