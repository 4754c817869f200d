"""Lab constraints Piccolo cannot express: vocabularies, one row per version and position, trend and release indexes."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-11-25T23:14:19:000000"
VERSION = "1.38.0"
DESCRIPTION = "lab constraints, the trend index and the release-job index"

SQL = """
ALTER TABLE lab_report
    ADD CONSTRAINT lab_report_category_check CHECK (category IN
        ('clinical-chemistry', 'haematology', 'microbiology', 'immunology', 'pathology', 'genetics')),
    ADD CONSTRAINT lab_report_status_check CHECK (status IN ('preliminary', 'final', 'corrected')),
    ADD CONSTRAINT lab_report_version_positive CHECK (current_version >= 1),
    ADD CONSTRAINT lab_report_held_when CHECK (NOT held OR held_at IS NOT NULL);
CREATE INDEX lab_report_by_patient ON lab_report (patient, specimen_at DESC, id DESC);
CREATE INDEX lab_report_release_pending ON lab_report (release_due_at)
    WHERE release_announced_at IS NULL AND NOT held;

ALTER TABLE lab_report_version
    ADD CONSTRAINT lab_report_version_once UNIQUE (report, version),
    ADD CONSTRAINT lab_report_version_status_check CHECK (status IN ('preliminary', 'final', 'corrected'));

ALTER TABLE lab_observation
    ADD CONSTRAINT lab_observation_once UNIQUE (report, version, position),
    ADD CONSTRAINT lab_observation_system_check CHECK (system IN ('loinc', 'local')),
    ADD CONSTRAINT lab_observation_value_type_check CHECK (value_type IN ('quantity', 'string', 'code')),
    ADD CONSTRAINT lab_observation_flag_check CHECK (flag IS NULL OR flag IN ('normal', 'low', 'high', 'abnormal')),
    ADD CONSTRAINT lab_observation_one_value CHECK (
        (value_type = 'quantity' AND value_quantity IS NOT NULL AND value_string IS NULL AND value_code IS NULL)
        OR (value_type = 'string' AND value_string IS NOT NULL AND value_quantity IS NULL AND value_code IS NULL)
        OR (value_type = 'code' AND value_code IS NOT NULL AND value_quantity IS NULL AND value_string IS NULL)
    );
-- A trend per code is one index range scan over the shown versions.
CREATE INDEX lab_observation_trend ON lab_observation (patient, code, specimen_at) WHERE current;
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="labs", description=DESCRIPTION)

    async def run() -> None:
        await execute_in_migration(SQL)

    manager.add_raw(run)
    return manager
