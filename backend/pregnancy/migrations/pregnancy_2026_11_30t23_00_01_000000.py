"""Publish the outcome date of every closed card as the patient fact `pregnancy-ended-on` (NEWS2 validity)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-11-30T23:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "patient_context pregnancy-ended-on from closed cards"

# CLINICAL.md v1.1: NEWS2 is not valid within 6 weeks after a pregnancy ended; the date is the outcome date
# of her latest closed card. Recording an outcome publishes it from now on (core/context.py).
# The core app's migrations all run before this app's, so patient_context already names its column `patient_id`
# (core 2026-12-01T02:30) while pregnancy_card still has `patient` (renamed by this app's 2026-12-01T02:30).
SQL = """
INSERT INTO patient_context (id, patient_id, key, value, updated_at)
SELECT gen_random_uuid(), patient, 'pregnancy-ended-on', max(outcome_date)::text, now()
FROM pregnancy_card
WHERE status <> 'ongoing' AND outcome_date IS NOT NULL
GROUP BY patient
ON CONFLICT (patient_id, key) DO UPDATE SET value = EXCLUDED.value, updated_at = now();
"""

BACKWARDS_SQL = "DELETE FROM patient_context WHERE key = 'pregnancy-ended-on';"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="pregnancy", description=DESCRIPTION)

    async def run() -> None:
        await execute_in_migration(SQL)

    async def run_backwards() -> None:
        await execute_in_migration(BACKWARDS_SQL)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
