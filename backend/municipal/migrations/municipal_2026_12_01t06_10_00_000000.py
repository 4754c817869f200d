"""Municipal services (issue 16): the service by its decision id, and its versions, keyed by patient.

Hand-written whole: the keys (patient_id, id), the composite link of a version to its service and the checks
are what Piccolo cannot declare, and both tables are new.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-12-01T06:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "municipal services and their versions"

SQL = """
CREATE TABLE municipal_service (
    id uuid NOT NULL,
    patient_id uuid NOT NULL REFERENCES patient (id) ON DELETE RESTRICT,
    municipality varchar(4) NOT NULL CHECK (municipality ~ '^[0-9]{4}$'),
    service varchar(40) NOT NULL,
    status varchar(16) NOT NULL CHECK (status IN ('applied', 'granted', 'active', 'paused', 'ended')),
    starts_on date NOT NULL,
    ends_on date NULL,
    frequency varchar(200) NULL,
    provider jsonb NOT NULL,
    coordinator jsonb NULL,
    practical_info text NULL,
    version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT municipal_service_pkey PRIMARY KEY (patient_id, id),
    CONSTRAINT municipal_service_dates CHECK (ends_on IS NULL OR ends_on >= starts_on)
);
CREATE INDEX municipal_service_by_municipality ON municipal_service (patient_id, municipality);

CREATE TABLE municipal_service_version (
    id uuid NOT NULL,
    patient_id uuid NOT NULL REFERENCES patient (id) ON DELETE RESTRICT,
    service_id uuid NOT NULL,
    version integer NOT NULL CHECK (version >= 1),
    changed varchar(32)[] NOT NULL,
    written jsonb NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    by_hpr varchar(12) NOT NULL,
    by_name varchar(200) NULL,
    by_authorization varchar(8) NOT NULL,
    by_org varchar(9) NOT NULL,
    by_org_kind varchar(32) NOT NULL,
    CONSTRAINT municipal_service_version_pkey PRIMARY KEY (patient_id, id),
    CONSTRAINT municipal_service_version_once UNIQUE (patient_id, service_id, version),
    CONSTRAINT municipal_service_version_service_fkey FOREIGN KEY (patient_id, service_id)
        REFERENCES municipal_service (patient_id, id) ON DELETE RESTRICT
);
"""

BACKWARDS_SQL = """
DROP TABLE municipal_service_version;
DROP TABLE municipal_service;
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="municipal", description=DESCRIPTION)

    async def run() -> None:
        await execute_in_migration(SQL)

    async def run_backwards() -> None:
        await execute_in_migration(BACKWARDS_SQL)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
