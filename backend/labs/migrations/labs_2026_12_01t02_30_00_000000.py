"""Distribute by patient, step 1: `patient_id` NOT NULL in the lab tables; a version and an observation always
belong to a report, so `report` is NOT NULL too (issue 13)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-12-01T02:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "lab tables: patient_id NOT NULL, report NOT NULL"

SQL = """
ALTER TABLE lab_report RENAME COLUMN patient TO patient_id;
ALTER TABLE lab_report ALTER COLUMN patient_id SET NOT NULL;
ALTER TABLE lab_report RENAME CONSTRAINT lab_report_patient_fkey TO lab_report_patient_id_fkey;
ALTER INDEX lab_report_patient RENAME TO lab_report_patient_id;
ALTER TABLE lab_report_version RENAME COLUMN patient TO patient_id;
ALTER TABLE lab_report_version ALTER COLUMN patient_id SET NOT NULL;
ALTER TABLE lab_report_version RENAME CONSTRAINT lab_report_version_patient_fkey TO lab_report_version_patient_id_fkey;
ALTER INDEX lab_report_version_patient RENAME TO lab_report_version_patient_id;
ALTER TABLE lab_observation RENAME COLUMN patient TO patient_id;
ALTER TABLE lab_observation ALTER COLUMN patient_id SET NOT NULL;
ALTER TABLE lab_observation RENAME CONSTRAINT lab_observation_patient_fkey TO lab_observation_patient_id_fkey;
ALTER TABLE lab_report_version ALTER COLUMN report SET NOT NULL;
ALTER TABLE lab_observation ALTER COLUMN report SET NOT NULL;
"""

BACKWARDS_SQL = """
ALTER TABLE lab_observation ALTER COLUMN report DROP NOT NULL;
ALTER TABLE lab_report_version ALTER COLUMN report DROP NOT NULL;
ALTER TABLE lab_observation RENAME CONSTRAINT lab_observation_patient_id_fkey TO lab_observation_patient_fkey;
ALTER TABLE lab_observation ALTER COLUMN patient_id DROP NOT NULL;
ALTER TABLE lab_observation RENAME COLUMN patient_id TO patient;
ALTER INDEX lab_report_version_patient_id RENAME TO lab_report_version_patient;
ALTER TABLE lab_report_version RENAME CONSTRAINT lab_report_version_patient_id_fkey TO lab_report_version_patient_fkey;
ALTER TABLE lab_report_version ALTER COLUMN patient_id DROP NOT NULL;
ALTER TABLE lab_report_version RENAME COLUMN patient_id TO patient;
ALTER INDEX lab_report_patient_id RENAME TO lab_report_patient;
ALTER TABLE lab_report RENAME CONSTRAINT lab_report_patient_id_fkey TO lab_report_patient_fkey;
ALTER TABLE lab_report ALTER COLUMN patient_id DROP NOT NULL;
ALTER TABLE lab_report RENAME COLUMN patient_id TO patient;
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
