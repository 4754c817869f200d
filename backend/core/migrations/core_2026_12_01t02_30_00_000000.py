"""Distribute by patient, step 1: the patient column of every core table is `patient_id`, and NOT NULL.

Issue 13 ("Citus-ready schema"): one name for the distribution column in every table (audit_log already had it)
and no patient-owned row without its patient. Piccolo's generated names follow the column (`<table>_patient_id`
for the index and `<table>_patient_id_fkey`), so tables.py and the database agree.

`event.patient_id` stays nullable here: topic events have no patient until they move to their own table.
`audit_log.patient_id` stays nullable for the same reason (editors' and lookup rows have no patient).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-12-01T02:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "patient column is patient_id and NOT NULL in every core table"

SQL = """
ALTER TABLE care_relation RENAME COLUMN patient TO patient_id;
ALTER TABLE care_relation ALTER COLUMN patient_id SET NOT NULL;
ALTER TABLE care_relation RENAME CONSTRAINT care_relation_patient_fkey TO care_relation_patient_id_fkey;
ALTER INDEX care_relation_patient RENAME TO care_relation_patient_id;
ALTER TABLE emergency_access RENAME COLUMN patient TO patient_id;
ALTER TABLE emergency_access ALTER COLUMN patient_id SET NOT NULL;
ALTER TABLE emergency_access RENAME CONSTRAINT emergency_access_patient_fkey TO emergency_access_patient_id_fkey;
ALTER INDEX emergency_access_patient RENAME TO emergency_access_patient_id;
ALTER TABLE clinician_block RENAME COLUMN patient TO patient_id;
ALTER TABLE clinician_block ALTER COLUMN patient_id SET NOT NULL;
ALTER TABLE clinician_block RENAME CONSTRAINT clinician_block_patient_fkey TO clinician_block_patient_id_fkey;
ALTER INDEX clinician_block_patient RENAME TO clinician_block_patient_id;
ALTER TABLE consent RENAME COLUMN patient TO patient_id;
ALTER TABLE consent ALTER COLUMN patient_id SET NOT NULL;
ALTER TABLE consent RENAME CONSTRAINT consent_patient_fkey TO consent_patient_id_fkey;
ALTER INDEX consent_patient RENAME TO consent_patient_id;
ALTER TABLE patient_context RENAME COLUMN patient TO patient_id;
ALTER TABLE patient_context ALTER COLUMN patient_id SET NOT NULL;
ALTER TABLE patient_context RENAME CONSTRAINT patient_context_patient_fkey TO patient_context_patient_id_fkey;
ALTER INDEX patient_context_patient RENAME TO patient_context_patient_id;
ALTER TABLE alert RENAME COLUMN patient TO patient_id;
ALTER TABLE alert ALTER COLUMN patient_id SET NOT NULL;
ALTER TABLE alert RENAME CONSTRAINT alert_patient_fkey TO alert_patient_id_fkey;
ALTER INDEX alert_patient RENAME TO alert_patient_id;
ALTER TABLE event RENAME COLUMN patient TO patient_id;
ALTER TABLE event RENAME CONSTRAINT event_patient_fkey TO event_patient_id_fkey;
"""

BACKWARDS_SQL = """
ALTER TABLE event RENAME CONSTRAINT event_patient_id_fkey TO event_patient_fkey;
ALTER TABLE event RENAME COLUMN patient_id TO patient;
ALTER INDEX alert_patient_id RENAME TO alert_patient;
ALTER TABLE alert RENAME CONSTRAINT alert_patient_id_fkey TO alert_patient_fkey;
ALTER TABLE alert ALTER COLUMN patient_id DROP NOT NULL;
ALTER TABLE alert RENAME COLUMN patient_id TO patient;
ALTER INDEX patient_context_patient_id RENAME TO patient_context_patient;
ALTER TABLE patient_context RENAME CONSTRAINT patient_context_patient_id_fkey TO patient_context_patient_fkey;
ALTER TABLE patient_context ALTER COLUMN patient_id DROP NOT NULL;
ALTER TABLE patient_context RENAME COLUMN patient_id TO patient;
ALTER INDEX consent_patient_id RENAME TO consent_patient;
ALTER TABLE consent RENAME CONSTRAINT consent_patient_id_fkey TO consent_patient_fkey;
ALTER TABLE consent ALTER COLUMN patient_id DROP NOT NULL;
ALTER TABLE consent RENAME COLUMN patient_id TO patient;
ALTER INDEX clinician_block_patient_id RENAME TO clinician_block_patient;
ALTER TABLE clinician_block RENAME CONSTRAINT clinician_block_patient_id_fkey TO clinician_block_patient_fkey;
ALTER TABLE clinician_block ALTER COLUMN patient_id DROP NOT NULL;
ALTER TABLE clinician_block RENAME COLUMN patient_id TO patient;
ALTER INDEX emergency_access_patient_id RENAME TO emergency_access_patient;
ALTER TABLE emergency_access RENAME CONSTRAINT emergency_access_patient_id_fkey TO emergency_access_patient_fkey;
ALTER TABLE emergency_access ALTER COLUMN patient_id DROP NOT NULL;
ALTER TABLE emergency_access RENAME COLUMN patient_id TO patient;
ALTER INDEX care_relation_patient_id RENAME TO care_relation_patient;
ALTER TABLE care_relation RENAME CONSTRAINT care_relation_patient_id_fkey TO care_relation_patient_fkey;
ALTER TABLE care_relation ALTER COLUMN patient_id DROP NOT NULL;
ALTER TABLE care_relation RENAME COLUMN patient_id TO patient;
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
