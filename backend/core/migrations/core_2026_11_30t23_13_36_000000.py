"""Alerts: constraints and backfill for the consent an alert needs and who acknowledged it (CLINICAL.md v1.1,
API.md "Alerts"); the columns come from the migration before this one."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-11-30T23:13:36:000000"
VERSION = "1.38.0"
DESCRIPTION = "alert: requires_consent and acknowledgement checks, backfill"

SQL = """
ALTER TABLE alert
    ADD CONSTRAINT alert_requires_consent_check CHECK (requires_consent IN ('pregnancy-card'));
-- An acknowledgement always says who and when.
ALTER TABLE alert
    ADD CONSTRAINT alert_acknowledged_by_check CHECK (
        (acknowledged_at IS NULL) = (acknowledged_by_hpr IS NULL)
        AND (acknowledged_at IS NULL OR (acknowledged_by_authorization IS NOT NULL
                                         AND acknowledged_by_org IS NOT NULL
                                         AND acknowledged_by_org_kind IS NOT NULL))
    );
-- Home blood pressure alerts in pregnancy tell that she is pregnant: from now on only with her consent.
UPDATE alert SET requires_consent = 'pregnancy-card' WHERE kind = 'pregnancy-blood-pressure';
CREATE INDEX alert_acknowledged_by_patient ON alert (patient, created_at DESC) WHERE acknowledged_at IS NOT NULL;
"""

BACKWARDS_SQL = """
DROP INDEX alert_acknowledged_by_patient;
ALTER TABLE alert DROP CONSTRAINT alert_acknowledged_by_check;
ALTER TABLE alert DROP CONSTRAINT alert_requires_consent_check;
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
