"""Audit: every denied row says why (role, no-patient, blocked, no-consent, no-relation), so a refusal by role
is told apart from a patient out of scope (issue 13, "Every refusal and every access is one audit row")."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-12-01T02:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit_log: refusal reason of denied rows"

SQL = """
ALTER TABLE audit_log ADD COLUMN refusal varchar(16);
ALTER TABLE audit_log ADD CONSTRAINT audit_log_refusal_check CHECK (
    refusal IN ('role', 'no-patient', 'blocked', 'no-consent', 'no-relation')
    AND basis = 'denied'
    OR refusal IS NULL
);
"""

BACKWARDS_SQL = """
ALTER TABLE audit_log DROP CONSTRAINT audit_log_refusal_check;
ALTER TABLE audit_log DROP COLUMN refusal;
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
