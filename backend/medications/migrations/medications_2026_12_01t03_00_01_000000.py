"""Distribute by patient, step 2 (medications): primary keys (patient_id, id) (issue 13; docs/scaling.md).

The list's tables have no links to each other but through the patient and version numbers, and every unique
constraint already includes the patient.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-12-01T03:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "medications: (patient_id, id) keys"

SQL = """
ALTER TABLE medication_list DROP CONSTRAINT medication_list_pkey, ADD CONSTRAINT medication_list_pkey PRIMARY KEY (patient_id, id);
ALTER TABLE medication_list_version DROP CONSTRAINT medication_list_version_pkey, ADD CONSTRAINT medication_list_version_pkey PRIMARY KEY (patient_id, id);
ALTER TABLE medication_entry_version DROP CONSTRAINT medication_entry_version_pkey, ADD CONSTRAINT medication_entry_version_pkey PRIMARY KEY (patient_id, id);
ALTER TABLE medication_reconciliation DROP CONSTRAINT medication_reconciliation_pkey, ADD CONSTRAINT medication_reconciliation_pkey PRIMARY KEY (patient_id, id);
ALTER TABLE medication_discrepancy DROP CONSTRAINT medication_discrepancy_pkey, ADD CONSTRAINT medication_discrepancy_pkey PRIMARY KEY (patient_id, id);
"""

BACKWARDS_SQL = """
ALTER TABLE medication_discrepancy DROP CONSTRAINT medication_discrepancy_pkey, ADD CONSTRAINT medication_discrepancy_pkey PRIMARY KEY (id);
ALTER TABLE medication_reconciliation DROP CONSTRAINT medication_reconciliation_pkey, ADD CONSTRAINT medication_reconciliation_pkey PRIMARY KEY (id);
ALTER TABLE medication_entry_version DROP CONSTRAINT medication_entry_version_pkey, ADD CONSTRAINT medication_entry_version_pkey PRIMARY KEY (id);
ALTER TABLE medication_list_version DROP CONSTRAINT medication_list_version_pkey, ADD CONSTRAINT medication_list_version_pkey PRIMARY KEY (id);
ALTER TABLE medication_list DROP CONSTRAINT medication_list_pkey, ADD CONSTRAINT medication_list_pkey PRIMARY KEY (id);
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
