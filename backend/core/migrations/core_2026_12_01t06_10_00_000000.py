"""Representation (issue 18): guardianships from the population register and powers of attorney, each owned by the
represented person (the child, the grantor), a lookup of whom a citizen represents, and the audit basis
`representative` (with the refusals `not-represented`, `out-of-scope`) and `registry` (the register's writes)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-12-01T06:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "guardianship, power_of_attorney, representation_by_representative; audit basis representative"

SQL = """
CREATE TABLE guardianship (
    id uuid NOT NULL,
    patient_id uuid NOT NULL REFERENCES patient (id),  -- the child
    guardian_id uuid NOT NULL,                          -- the parent (a patient too; no link across shards)
    active boolean NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (patient_id, id),
    UNIQUE (patient_id, guardian_id),
    CHECK (guardian_id <> patient_id)
);

CREATE TABLE power_of_attorney (
    id uuid NOT NULL,
    patient_id uuid NOT NULL REFERENCES patient (id),  -- the grantor
    attorney_id uuid NOT NULL,                          -- the adult who may act for her
    scopes text[] NOT NULL CHECK (cardinality(scopes) > 0),
    valid_from timestamptz NOT NULL DEFAULT now(),
    valid_until timestamptz,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (patient_id, id),
    CHECK (attorney_id <> patient_id),
    CHECK (valid_until IS NULL OR valid_until > valid_from)
);
CREATE INDEX power_of_attorney_attorney ON power_of_attorney (patient_id, attorney_id);

-- Whom a citizen represents: keyed by the representative (distributed by representative_id), one row per
-- representation ever given; whether it is still in force is read from the represented person's own rows.
CREATE TABLE representation_by_representative (
    representative_id uuid NOT NULL,
    patient_id uuid NOT NULL,
    basis varchar(24) NOT NULL CHECK (basis IN ('guardian', 'power-of-attorney')),
    PRIMARY KEY (representative_id, patient_id, basis)
);

ALTER TABLE audit_log DROP CONSTRAINT audit_log_basis_check, ADD CONSTRAINT audit_log_basis_check
    CHECK (basis IN ('care-relation', 'emergency', 'laboratory', 'pharmacy', 'representative', 'registry', 'lookup',
                     'denied', 'editor'));
ALTER TABLE audit_log DROP CONSTRAINT audit_log_refusal_check, ADD CONSTRAINT audit_log_refusal_check CHECK (
    refusal IN ('role', 'no-patient', 'blocked', 'no-consent', 'no-relation', 'not-represented', 'out-of-scope')
    AND basis = 'denied'
    OR refusal IS NULL
);
"""

# Irreversible for audit rows already written with the new basis or refusals: the old checks would refuse them,
# so the downgrade fails loudly instead of dropping audit rows (the audit log is append-only).
BACKWARDS_SQL = """
ALTER TABLE audit_log DROP CONSTRAINT audit_log_refusal_check, ADD CONSTRAINT audit_log_refusal_check CHECK (
    refusal IN ('role', 'no-patient', 'blocked', 'no-consent', 'no-relation')
    AND basis = 'denied'
    OR refusal IS NULL
);
ALTER TABLE audit_log DROP CONSTRAINT audit_log_basis_check, ADD CONSTRAINT audit_log_basis_check
    CHECK (basis IN ('care-relation', 'emergency', 'laboratory', 'pharmacy', 'lookup', 'denied', 'editor'));
DROP TABLE representation_by_representative;
DROP TABLE power_of_attorney;
DROP TABLE guardianship;
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
