"""Distribute by patient, step 1: `patient_id` NOT NULL in the medication-list tables (issue 13)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-12-01T02:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "medication tables: patient_id NOT NULL"

SQL = """
ALTER TABLE medication_list RENAME COLUMN patient TO patient_id;
ALTER TABLE medication_list ALTER COLUMN patient_id SET NOT NULL;
ALTER TABLE medication_list RENAME CONSTRAINT medication_list_patient_fkey TO medication_list_patient_id_fkey;
ALTER TABLE medication_list_version RENAME COLUMN patient TO patient_id;
ALTER TABLE medication_list_version ALTER COLUMN patient_id SET NOT NULL;
ALTER TABLE medication_list_version RENAME CONSTRAINT medication_list_version_patient_fkey TO medication_list_version_patient_id_fkey;
ALTER TABLE medication_entry_version RENAME COLUMN patient TO patient_id;
ALTER TABLE medication_entry_version ALTER COLUMN patient_id SET NOT NULL;
ALTER TABLE medication_entry_version RENAME CONSTRAINT medication_entry_version_patient_fkey TO medication_entry_version_patient_id_fkey;
ALTER TABLE medication_reconciliation RENAME COLUMN patient TO patient_id;
ALTER TABLE medication_reconciliation ALTER COLUMN patient_id SET NOT NULL;
ALTER TABLE medication_reconciliation RENAME CONSTRAINT medication_reconciliation_patient_fkey TO medication_reconciliation_patient_id_fkey;
ALTER TABLE medication_discrepancy RENAME COLUMN patient TO patient_id;
ALTER TABLE medication_discrepancy ALTER COLUMN patient_id SET NOT NULL;
ALTER TABLE medication_discrepancy RENAME CONSTRAINT medication_discrepancy_patient_fkey TO medication_discrepancy_patient_id_fkey;
ALTER TABLE medication_list RENAME CONSTRAINT medication_list_patient_key TO medication_list_patient_id_key;
"""

BACKWARDS_SQL = """
ALTER TABLE medication_list RENAME CONSTRAINT medication_list_patient_id_key TO medication_list_patient_key;
ALTER TABLE medication_discrepancy RENAME CONSTRAINT medication_discrepancy_patient_id_fkey TO medication_discrepancy_patient_fkey;
ALTER TABLE medication_discrepancy ALTER COLUMN patient_id DROP NOT NULL;
ALTER TABLE medication_discrepancy RENAME COLUMN patient_id TO patient;
ALTER TABLE medication_reconciliation RENAME CONSTRAINT medication_reconciliation_patient_id_fkey TO medication_reconciliation_patient_fkey;
ALTER TABLE medication_reconciliation ALTER COLUMN patient_id DROP NOT NULL;
ALTER TABLE medication_reconciliation RENAME COLUMN patient_id TO patient;
ALTER TABLE medication_entry_version RENAME CONSTRAINT medication_entry_version_patient_id_fkey TO medication_entry_version_patient_fkey;
ALTER TABLE medication_entry_version ALTER COLUMN patient_id DROP NOT NULL;
ALTER TABLE medication_entry_version RENAME COLUMN patient_id TO patient;
ALTER TABLE medication_list_version RENAME CONSTRAINT medication_list_version_patient_id_fkey TO medication_list_version_patient_fkey;
ALTER TABLE medication_list_version ALTER COLUMN patient_id DROP NOT NULL;
ALTER TABLE medication_list_version RENAME COLUMN patient_id TO patient;
ALTER TABLE medication_list RENAME CONSTRAINT medication_list_patient_id_fkey TO medication_list_patient_fkey;
ALTER TABLE medication_list ALTER COLUMN patient_id DROP NOT NULL;
ALTER TABLE medication_list RENAME COLUMN patient_id TO patient;
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="medications", description=DESCRIPTION)

    async def run() -> None:
        await execute_in_migration(SQL)

    async def run_backwards() -> None:
        await execute_in_migration(BACKWARDS_SQL)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
