"""Distribute by patient, step 2 (labs): keys, unique constraints and foreign keys that include the patient.

Issue 13; docs/scaling.md has the distribution calls.

- `lab_report`, `lab_report_version`, `lab_observation`: primary key (patient_id, id).
- A version and an observation point at their report through (patient_id, report), and their "once" constraints
  include the patient.
- The sender names a report's id, and an id names one report whatever the patient: `lab_report_key` (keyed by the
  report id) records whose report an id is, so a post reusing another patient's report id is still refused.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-12-01T03:00:04:000000"
VERSION = "1.38.0"
DESCRIPTION = "labs: (patient_id, id) keys, composite report links, lab_report_key"

SQL = """
CREATE TABLE lab_report_key (
    id uuid PRIMARY KEY,
    patient_id uuid NOT NULL
);
INSERT INTO lab_report_key (id, patient_id) SELECT id, patient_id FROM lab_report;

ALTER TABLE lab_report_version DROP CONSTRAINT lab_report_version_report_fkey;
ALTER TABLE lab_observation DROP CONSTRAINT lab_observation_report_fkey;
ALTER TABLE lab_report DROP CONSTRAINT lab_report_pkey, ADD CONSTRAINT lab_report_pkey PRIMARY KEY (patient_id, id);
ALTER TABLE lab_report_version
    DROP CONSTRAINT lab_report_version_pkey, ADD CONSTRAINT lab_report_version_pkey PRIMARY KEY (patient_id, id);
ALTER TABLE lab_observation
    DROP CONSTRAINT lab_observation_pkey, ADD CONSTRAINT lab_observation_pkey PRIMARY KEY (patient_id, id);

ALTER TABLE lab_report_version DROP CONSTRAINT lab_report_version_once;
ALTER TABLE lab_report_version ADD CONSTRAINT lab_report_version_once UNIQUE (patient_id, report, version);
ALTER TABLE lab_observation DROP CONSTRAINT lab_observation_once;
ALTER TABLE lab_observation ADD CONSTRAINT lab_observation_once UNIQUE (patient_id, report, version, position);

ALTER TABLE lab_report_version ADD CONSTRAINT lab_report_version_report_fkey
    FOREIGN KEY (patient_id, report) REFERENCES lab_report (patient_id, id) ON DELETE RESTRICT;
ALTER TABLE lab_observation ADD CONSTRAINT lab_observation_report_fkey
    FOREIGN KEY (patient_id, report) REFERENCES lab_report (patient_id, id) ON DELETE RESTRICT;
"""

BACKWARDS_SQL = """
ALTER TABLE lab_observation DROP CONSTRAINT lab_observation_report_fkey;
ALTER TABLE lab_report_version DROP CONSTRAINT lab_report_version_report_fkey;

ALTER TABLE lab_observation DROP CONSTRAINT lab_observation_once;
ALTER TABLE lab_observation ADD CONSTRAINT lab_observation_once UNIQUE (report, version, position);
ALTER TABLE lab_report_version DROP CONSTRAINT lab_report_version_once;
ALTER TABLE lab_report_version ADD CONSTRAINT lab_report_version_once UNIQUE (report, version);

ALTER TABLE lab_observation DROP CONSTRAINT lab_observation_pkey, ADD CONSTRAINT lab_observation_pkey PRIMARY KEY (id);
ALTER TABLE lab_report_version
    DROP CONSTRAINT lab_report_version_pkey, ADD CONSTRAINT lab_report_version_pkey PRIMARY KEY (id);
ALTER TABLE lab_report DROP CONSTRAINT lab_report_pkey, ADD CONSTRAINT lab_report_pkey PRIMARY KEY (id);

ALTER TABLE lab_report_version ADD CONSTRAINT lab_report_version_report_fkey
    FOREIGN KEY (report) REFERENCES lab_report (id) ON UPDATE CASCADE ON DELETE RESTRICT;
ALTER TABLE lab_observation ADD CONSTRAINT lab_observation_report_fkey
    FOREIGN KEY (report) REFERENCES lab_report (id) ON UPDATE CASCADE ON DELETE RESTRICT;

DROP TABLE lab_report_key;
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="labs", description=DESCRIPTION)

    async def run() -> None:
        await execute_in_migration(SQL)

    async def run_backwards() -> None:
        await execute_in_migration(BACKWARDS_SQL)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
