"""Medication-list constraints Piccolo cannot express: one current row per entry, version ranges, checks."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-11-25T23:14:08:000000"
VERSION = "1.38.0"
DESCRIPTION = "medication list constraints, checks and indexes"

SQL = """
ALTER TABLE medication_list ADD CONSTRAINT medication_list_version_check CHECK (version >= 0);

ALTER TABLE medication_list_version ADD CONSTRAINT medication_list_version_once UNIQUE (patient, version);
ALTER TABLE medication_list_version ADD CONSTRAINT medication_list_version_positive CHECK (version >= 1);

ALTER TABLE medication_entry_version
    ADD CONSTRAINT medication_entry_version_range CHECK (from_version >= 1 AND (to_version IS NULL OR to_version > from_version)),
    ADD CONSTRAINT medication_entry_version_kind CHECK (kind IN ('prescription', 'non-prescription', 'supplement')),
    ADD CONSTRAINT medication_entry_version_atc CHECK (atc ~ '^[ABCDGHJLMNPRSV][0-9]{2}[A-Z]([A-Z]([0-9]{2})?)?$'),
    ADD CONSTRAINT medication_entry_version_dates CHECK (stopped_at IS NULL OR stopped_at >= started_at),
    ADD CONSTRAINT medication_entry_version_stop_reason CHECK ((stopped_at IS NULL) = (stop_reason IS NULL));
CREATE UNIQUE INDEX medication_entry_current ON medication_entry_version (patient, entry_id) WHERE to_version IS NULL;
CREATE INDEX medication_entry_by_version ON medication_entry_version (patient, from_version);
CREATE INDEX medication_entry_history ON medication_entry_version (patient, entry_id, from_version);

ALTER TABLE medication_reconciliation
    ADD CONSTRAINT medication_reconciliation_sources CHECK (cardinality(sources) >= 1);
CREATE INDEX medication_reconciliation_newest ON medication_reconciliation (patient, reconciled_at DESC);

ALTER TABLE medication_discrepancy
    ADD CONSTRAINT medication_discrepancy_kind CHECK (kind IN ('not-taking', 'side-effect', 'other'));
CREATE INDEX medication_discrepancy_newest ON medication_discrepancy (patient, reported_at DESC, id DESC);
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="medications", description=DESCRIPTION)

    async def run() -> None:
        await execute_in_migration(SQL)

    manager.add_raw(run)
    return manager
