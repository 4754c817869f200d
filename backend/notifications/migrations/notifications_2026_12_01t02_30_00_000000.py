"""Distribute by patient, step 1: `patient_id` in the push tables (issue 13).

`push_attempt.patient_id` stays nullable here: a send of a topic event records no patient until topic events
and their sends get their own tables.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-12-01T02:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "push tables: patient_id, NOT NULL for devices and subscriptions"

SQL = """
ALTER TABLE push_device RENAME COLUMN patient TO patient_id;
ALTER TABLE push_device ALTER COLUMN patient_id SET NOT NULL;
ALTER TABLE push_device RENAME CONSTRAINT push_device_patient_fkey TO push_device_patient_id_fkey;
ALTER INDEX push_device_patient RENAME TO push_device_patient_id;
ALTER TABLE topic_subscription RENAME COLUMN patient TO patient_id;
ALTER TABLE topic_subscription ALTER COLUMN patient_id SET NOT NULL;
ALTER TABLE topic_subscription RENAME CONSTRAINT topic_subscription_patient_fkey TO topic_subscription_patient_id_fkey;
ALTER INDEX topic_subscription_patient RENAME TO topic_subscription_patient_id;
ALTER TABLE push_attempt RENAME COLUMN patient TO patient_id;
ALTER TABLE push_attempt RENAME CONSTRAINT push_attempt_patient_fkey TO push_attempt_patient_id_fkey;
"""

BACKWARDS_SQL = """
ALTER TABLE push_attempt RENAME CONSTRAINT push_attempt_patient_id_fkey TO push_attempt_patient_fkey;
ALTER TABLE push_attempt RENAME COLUMN patient_id TO patient;
ALTER INDEX topic_subscription_patient_id RENAME TO topic_subscription_patient;
ALTER TABLE topic_subscription RENAME CONSTRAINT topic_subscription_patient_id_fkey TO topic_subscription_patient_fkey;
ALTER TABLE topic_subscription ALTER COLUMN patient_id DROP NOT NULL;
ALTER TABLE topic_subscription RENAME COLUMN patient_id TO patient;
ALTER INDEX push_device_patient_id RENAME TO push_device_patient;
ALTER TABLE push_device RENAME CONSTRAINT push_device_patient_id_fkey TO push_device_patient_fkey;
ALTER TABLE push_device ALTER COLUMN patient_id DROP NOT NULL;
ALTER TABLE push_device RENAME COLUMN patient_id TO patient;
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="notifications", description=DESCRIPTION)

    async def run() -> None:
        await execute_in_migration(SQL)

    async def run_backwards() -> None:
        await execute_in_migration(BACKWARDS_SQL)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
