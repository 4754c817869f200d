"""Distribute by patient, step 2 (core): keys that include the patient, and the global lookups in tables of their own.

Issue 13 ("Citus-ready schema"); docs/scaling.md has the distribution calls this schema is shaped for.

- Every core patient table gets the primary key (patient_id, id), so each row's key names its shard.
- The fødselsnummer digest moves from `patient` (distributed by id, where a UNIQUE on the digest cannot be
  enforced) to `patient_identity`, keyed by the digest: sign-in finds the patient with one single-shard read.
- Audit rows that name no patient (editors, a lookup that found no one) move to `audit_log_global`; every
  `audit_log` row now has its patient. Both share one id sequence and the append-only triggers.
- Topic events (no patient) move to `topic_event`, which takes its ids from `event`'s sequence, so an event id
  (as `push_attempt.event_id` records it) still names exactly one event. `event.patient_id` and `seq` are NOT NULL.
- The organisation → patient index behind a clinician's alert list (`care_relation_by_org`) becomes a table keyed
  by the organisation, written with every care relation.
- An alert is acknowledged by its id alone (the route names no patient): `alert_by_id` keeps that one lookup
  indexed now that the primary key leads with the patient.

The downgrade moves every row back where it was.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-12-01T03:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "core: (patient_id, id) keys; patient_identity, audit_log_global, topic_event, care_relation_by_org"

SQL = """
-- fødselsnummer digest → patient
CREATE TABLE patient_identity (
    fnr_digest bytea PRIMARY KEY,
    patient_id uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO patient_identity (fnr_digest, patient_id, created_at) SELECT fnr_digest, id, created_at FROM patient;
ALTER TABLE patient DROP COLUMN fnr_digest;

-- audit rows without a patient
CREATE TABLE audit_log_global (
    id bigint PRIMARY KEY DEFAULT nextval('audit_log_id_seq'),
    at timestamptz NOT NULL DEFAULT now(),
    actor_kind varchar(16) NOT NULL,
    actor varchar(200) NOT NULL,
    hpr varchar(12),
    name varchar(200),
    "authorization" varchar(8),
    org_number varchar(9),
    org_kind varchar(32),
    action varchar(32) NOT NULL,
    resource_type varchar(48) NOT NULL,
    resource_id varchar(64),
    basis varchar(16) NOT NULL,
    request_id varchar(64),
    refusal varchar(16),
    CONSTRAINT audit_log_global_basis_check
        CHECK (basis IN ('care-relation', 'emergency', 'laboratory', 'lookup', 'denied', 'editor')),
    CONSTRAINT audit_log_global_refusal_check CHECK (
        refusal IN ('role', 'no-patient', 'blocked', 'no-consent', 'no-relation')
        AND basis = 'denied'
        OR refusal IS NULL
    )
);
CREATE TRIGGER audit_log_global_append_only
    BEFORE UPDATE OR DELETE ON audit_log_global
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_global_no_truncate
    BEFORE TRUNCATE ON audit_log_global
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
INSERT INTO audit_log_global (id, at, actor_kind, actor, hpr, name, "authorization", org_number, org_kind, action,
                              resource_type, resource_id, basis, request_id, refusal)
SELECT id, at, actor_kind, actor, hpr, name, "authorization", org_number, org_kind, action,
       resource_type, resource_id, basis, request_id, refusal
FROM audit_log WHERE patient_id IS NULL;
-- The rows were copied above; this move is the only delete the audit log ever allows.
ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only;
DELETE FROM audit_log WHERE patient_id IS NULL;
ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only;
ALTER TABLE audit_log ALTER COLUMN patient_id SET NOT NULL;
ALTER TABLE audit_log DROP CONSTRAINT audit_log_pkey, ADD CONSTRAINT audit_log_pkey PRIMARY KEY (patient_id, id);
-- The primary key (patient_id, id) serves her access log, newest first.
DROP INDEX audit_log_patient_newest;

-- topic events
CREATE TABLE topic_event (
    id bigint PRIMARY KEY DEFAULT nextval('event_id_seq'),
    topic varchar(64) NOT NULL,
    type varchar(64) NOT NULL,
    resource_type varchar(48) NOT NULL,
    resource_id varchar(64) NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    available_at timestamptz NOT NULL DEFAULT now(),
    claimed_by varchar(64),
    claim_expires_at timestamptz,
    dispatched_at timestamptz,
    attempts smallint NOT NULL DEFAULT 0
);
CREATE INDEX topic_event_outbox_pending ON topic_event (available_at, id) WHERE dispatched_at IS NULL;
INSERT INTO topic_event (id, topic, type, resource_type, resource_id, at, available_at, claimed_by, claim_expires_at,
                         dispatched_at, attempts)
SELECT id, topic, type, resource_type, resource_id, at, available_at, claimed_by, claim_expires_at,
       dispatched_at, attempts
FROM event WHERE patient_id IS NULL;
DELETE FROM event WHERE patient_id IS NULL;
ALTER TABLE event DROP CONSTRAINT event_has_owner;
ALTER TABLE event DROP COLUMN topic;
ALTER TABLE event ALTER COLUMN patient_id SET NOT NULL, ALTER COLUMN seq SET NOT NULL;
ALTER TABLE event DROP CONSTRAINT event_pkey, ADD CONSTRAINT event_pkey PRIMARY KEY (patient_id, id);
-- The outbox claims one patient's due events at a time (core/events.py).
CREATE INDEX event_pending_by_patient ON event (patient_id, available_at, id) WHERE dispatched_at IS NULL;

-- organisation → patients (a clinician's alert list); the table takes the index's name
DROP INDEX care_relation_by_org;
CREATE TABLE care_relation_by_org (
    org_number varchar(9) NOT NULL,
    patient_id uuid NOT NULL,
    PRIMARY KEY (org_number, patient_id)
);
INSERT INTO care_relation_by_org (org_number, patient_id)
SELECT DISTINCT org_number, patient_id FROM care_relation;

-- (patient_id, id) keys
ALTER TABLE care_relation DROP CONSTRAINT care_relation_pkey, ADD CONSTRAINT care_relation_pkey PRIMARY KEY (patient_id, id);
ALTER TABLE emergency_access
    DROP CONSTRAINT emergency_access_pkey, ADD CONSTRAINT emergency_access_pkey PRIMARY KEY (patient_id, id);
ALTER TABLE clinician_block
    DROP CONSTRAINT clinician_block_pkey, ADD CONSTRAINT clinician_block_pkey PRIMARY KEY (patient_id, id);
ALTER TABLE consent DROP CONSTRAINT consent_pkey, ADD CONSTRAINT consent_pkey PRIMARY KEY (patient_id, id);
ALTER TABLE patient_context
    DROP CONSTRAINT patient_context_pkey, ADD CONSTRAINT patient_context_pkey PRIMARY KEY (patient_id, id);
ALTER TABLE alert DROP CONSTRAINT alert_pkey, ADD CONSTRAINT alert_pkey PRIMARY KEY (patient_id, id);
CREATE INDEX alert_by_id ON alert (id);
"""

BACKWARDS_SQL = """
DROP INDEX alert_by_id;
ALTER TABLE alert DROP CONSTRAINT alert_pkey, ADD CONSTRAINT alert_pkey PRIMARY KEY (id);
ALTER TABLE patient_context DROP CONSTRAINT patient_context_pkey, ADD CONSTRAINT patient_context_pkey PRIMARY KEY (id);
ALTER TABLE consent DROP CONSTRAINT consent_pkey, ADD CONSTRAINT consent_pkey PRIMARY KEY (id);
ALTER TABLE clinician_block DROP CONSTRAINT clinician_block_pkey, ADD CONSTRAINT clinician_block_pkey PRIMARY KEY (id);
ALTER TABLE emergency_access
    DROP CONSTRAINT emergency_access_pkey, ADD CONSTRAINT emergency_access_pkey PRIMARY KEY (id);
ALTER TABLE care_relation DROP CONSTRAINT care_relation_pkey, ADD CONSTRAINT care_relation_pkey PRIMARY KEY (id);

DROP TABLE care_relation_by_org;
CREATE INDEX care_relation_by_org ON care_relation (org_number, patient_id);

DROP INDEX event_pending_by_patient;
ALTER TABLE event DROP CONSTRAINT event_pkey, ADD CONSTRAINT event_pkey PRIMARY KEY (id);
ALTER TABLE event ALTER COLUMN patient_id DROP NOT NULL, ALTER COLUMN seq DROP NOT NULL;
ALTER TABLE event ADD COLUMN topic varchar(64) DEFAULT NULL;
INSERT INTO event (id, topic, type, resource_type, resource_id, at, available_at, claimed_by, claim_expires_at,
                   dispatched_at, attempts, citizen_visible)
SELECT id, topic, type, resource_type, resource_id, at, available_at, claimed_by, claim_expires_at,
       dispatched_at, attempts, true
FROM topic_event;
ALTER TABLE event ADD CONSTRAINT event_has_owner CHECK (patient_id IS NOT NULL OR topic IS NOT NULL);
DROP TABLE topic_event;

CREATE INDEX audit_log_patient_newest ON audit_log (patient_id, id DESC);
ALTER TABLE audit_log DROP CONSTRAINT audit_log_pkey, ADD CONSTRAINT audit_log_pkey PRIMARY KEY (id);
ALTER TABLE audit_log ALTER COLUMN patient_id DROP NOT NULL;
INSERT INTO audit_log (id, at, actor_kind, actor, hpr, name, "authorization", org_number, org_kind, patient_id,
                       action, resource_type, resource_id, basis, request_id, refusal)
SELECT id, at, actor_kind, actor, hpr, name, "authorization", org_number, org_kind, NULL,
       action, resource_type, resource_id, basis, request_id, refusal
FROM audit_log_global;
DROP TABLE audit_log_global;

ALTER TABLE patient ADD COLUMN fnr_digest bytea;
UPDATE patient p SET fnr_digest = i.fnr_digest FROM patient_identity i WHERE i.patient_id = p.id;
ALTER TABLE patient ALTER COLUMN fnr_digest SET DEFAULT '\\x'::bytea, ALTER COLUMN fnr_digest SET NOT NULL;
ALTER TABLE patient ADD CONSTRAINT patient_fnr_digest_key UNIQUE (fnr_digest);
CREATE INDEX patient_fnr_digest ON patient (fnr_digest);
DROP TABLE patient_identity;
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
