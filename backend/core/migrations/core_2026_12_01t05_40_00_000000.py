"""Audit: a pharmacy's access has its own basis, `pharmacy` (issue 17: an `apotek` reads active prescriptions
and records dispensings for any existing patient, audited with basis `pharmacy`)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-12-01T05:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit_log, audit_log_global: basis pharmacy"

SQL = """
ALTER TABLE audit_log DROP CONSTRAINT audit_log_basis_check, ADD CONSTRAINT audit_log_basis_check
    CHECK (basis IN ('care-relation', 'emergency', 'laboratory', 'pharmacy', 'lookup', 'denied', 'editor'));
ALTER TABLE audit_log_global DROP CONSTRAINT audit_log_global_basis_check, ADD CONSTRAINT audit_log_global_basis_check
    CHECK (basis IN ('care-relation', 'emergency', 'laboratory', 'pharmacy', 'lookup', 'denied', 'editor'));
"""

# Irreversible for rows already written with basis `pharmacy`: the old check would refuse them, so the
# downgrade fails loudly instead of dropping audit rows (the audit log is append-only).
BACKWARDS_SQL = """
ALTER TABLE audit_log_global DROP CONSTRAINT audit_log_global_basis_check, ADD CONSTRAINT audit_log_global_basis_check
    CHECK (basis IN ('care-relation', 'emergency', 'laboratory', 'lookup', 'denied', 'editor'));
ALTER TABLE audit_log DROP CONSTRAINT audit_log_basis_check, ADD CONSTRAINT audit_log_basis_check
    CHECK (basis IN ('care-relation', 'emergency', 'laboratory', 'lookup', 'denied', 'editor'));
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
