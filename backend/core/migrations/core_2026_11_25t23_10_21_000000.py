"""Core constraints Piccolo cannot express: uniqueness, partial indexes, checks, the append-only audit log."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-11-25T23:10:21:000000"
VERSION = "1.38.0"
DESCRIPTION = "core constraints, indexes and the append-only audit trigger"

SQL = """
ALTER TABLE care_relation
    ADD CONSTRAINT care_relation_kind_check CHECK (kind IN ('gp', 'midwife', 'hospital', 'legevakt', 'homecare'));
CREATE INDEX care_relation_lookup ON care_relation (patient, org_number, valid_until);
CREATE INDEX care_relation_by_org ON care_relation (org_number, patient);

CREATE INDEX emergency_access_lookup ON emergency_access (patient, hpr, valid_until);

ALTER TABLE clinician_block ADD CONSTRAINT clinician_block_once UNIQUE (patient, hpr);
ALTER TABLE consent ADD CONSTRAINT consent_once UNIQUE (patient, scope);
ALTER TABLE consent ADD CONSTRAINT consent_scope_check CHECK (scope IN ('pregnancy-card'));

ALTER TABLE audit_log
    ADD CONSTRAINT audit_log_basis_check
    CHECK (basis IN ('care-relation', 'emergency', 'laboratory', 'lookup', 'denied', 'editor'));
CREATE INDEX audit_log_patient_newest ON audit_log (patient_id, id DESC);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();

ALTER TABLE event ADD CONSTRAINT event_patient_seq UNIQUE (patient, seq);
ALTER TABLE event ADD CONSTRAINT event_has_owner CHECK (patient IS NOT NULL OR topic IS NOT NULL);
CREATE INDEX event_outbox_pending ON event (available_at, id) WHERE dispatched_at IS NULL;

ALTER TABLE idempotency_key ADD CONSTRAINT idempotency_key_once UNIQUE (caller, key);
CREATE INDEX idempotency_key_expiry ON idempotency_key (expires_at);

ALTER TABLE patient_context ADD CONSTRAINT patient_context_once UNIQUE (patient, key);

ALTER TABLE alert ADD CONSTRAINT alert_severity_check CHECK (severity IN ('info', 'warning', 'urgent'));
CREATE INDEX alert_open_by_patient ON alert (patient, created_at DESC) WHERE acknowledged_at IS NULL;
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def run() -> None:
        await execute_in_migration(SQL)

    manager.add_raw(run)
    return manager
