"""The audit log's basis and refusal vocabularies as domains, so checking them costs nothing per row written.

A table CHECK constraint is kept in the catalogue as the text of its expression tree, and PostgreSQL reads that
text back, simplifies it and compiles it again for every statement that inserts into the table. On audit_log the
two vocabulary checks (two lists of varchar constants) were 11 % of PostgreSQL's CPU on an audited clinician read
(perf, `ExecConstraints` → `stringToNode`), and a bare INSERT ran at half the rate of the same table without them
(pgbench, prepared, 23.1k against 45.2k inserts/s). A domain's checks are compiled once per session and cached,
so the vocabularies move onto the domains `audit_basis` and `audit_refusal`; the rule that only a denied row names
a refusal stays a (small) table check. Both audit tables use the same domains: one vocabulary.

The columns keep their base type (varchar(16)), so nothing that reads them changes. Neither table is rewritten: the
columns change to a domain without checks first (binary-compatible), then the domains' checks are added NOT VALID
and validated, which reads the tables once without blocking writes for long.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-12-01T20:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit_log, audit_log_global: basis and refusal vocabularies as domains"

_BASES = (
    "'care-relation', 'emergency', 'laboratory', 'pharmacy', 'representative', 'registry', 'lookup', 'denied', 'editor'"
)
_REFUSALS = "'role', 'no-patient', 'blocked', 'no-consent', 'no-relation', 'not-represented', 'out-of-scope'"

SQL = f"""
CREATE DOMAIN audit_basis AS varchar(16);
CREATE DOMAIN audit_refusal AS varchar(16);

ALTER TABLE audit_log
    ALTER COLUMN basis TYPE audit_basis,
    ALTER COLUMN refusal TYPE audit_refusal;
ALTER TABLE audit_log_global
    ALTER COLUMN basis TYPE audit_basis,
    ALTER COLUMN refusal TYPE audit_refusal;

ALTER DOMAIN audit_basis ADD CONSTRAINT audit_basis_check CHECK (VALUE IN ({_BASES})) NOT VALID;
ALTER DOMAIN audit_refusal ADD CONSTRAINT audit_refusal_check CHECK (VALUE IN ({_REFUSALS})) NOT VALID;
ALTER DOMAIN audit_basis VALIDATE CONSTRAINT audit_basis_check;
ALTER DOMAIN audit_refusal VALIDATE CONSTRAINT audit_refusal_check;

ALTER TABLE audit_log
    DROP CONSTRAINT audit_log_basis_check,
    DROP CONSTRAINT audit_log_refusal_check,
    ADD CONSTRAINT audit_log_refusal_check CHECK (refusal IS NULL OR basis = 'denied');
ALTER TABLE audit_log_global
    DROP CONSTRAINT audit_log_global_basis_check,
    DROP CONSTRAINT audit_log_global_refusal_check,
    ADD CONSTRAINT audit_log_global_refusal_check CHECK (refusal IS NULL OR basis = 'denied');
"""

# The checks as the table checks they were (the global table's narrower vocabulary included), then plain varchar.
BACKWARDS_SQL = """
ALTER TABLE audit_log_global DROP CONSTRAINT audit_log_global_refusal_check;
ALTER TABLE audit_log DROP CONSTRAINT audit_log_refusal_check;
ALTER TABLE audit_log_global
    ALTER COLUMN basis TYPE varchar(16),
    ALTER COLUMN refusal TYPE varchar(16);
ALTER TABLE audit_log
    ALTER COLUMN basis TYPE varchar(16),
    ALTER COLUMN refusal TYPE varchar(16);
ALTER TABLE audit_log_global
    ADD CONSTRAINT audit_log_global_basis_check
        CHECK (basis IN ('care-relation', 'emergency', 'laboratory', 'pharmacy', 'lookup', 'denied', 'editor')),
    ADD CONSTRAINT audit_log_global_refusal_check CHECK (
        refusal IN ('role', 'no-patient', 'blocked', 'no-consent', 'no-relation')
        AND basis = 'denied'
        OR refusal IS NULL
    );
ALTER TABLE audit_log
    ADD CONSTRAINT audit_log_basis_check
        CHECK (basis IN ('care-relation', 'emergency', 'laboratory', 'pharmacy', 'representative', 'registry',
                         'lookup', 'denied', 'editor')),
    ADD CONSTRAINT audit_log_refusal_check CHECK (
        refusal IN ('role', 'no-patient', 'blocked', 'no-consent', 'no-relation', 'not-represented', 'out-of-scope')
        AND basis = 'denied'
        OR refusal IS NULL
    );
DROP DOMAIN audit_refusal;
DROP DOMAIN audit_basis;
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
