"""Tables of the core mechanisms: patients, care relations, blocks, consents, audit, events, idempotency.

Columns and nullability here match the database (tests/core/test_schema_catalogue.py). Keys do not: every
patient table's primary key is (patient_id, id) and its links to other patient tables are composite, which
Piccolo cannot declare; they, and the global lookup tables, live in the hand-written migrations of issue 13.
"""

from __future__ import annotations

import uuid

from piccolo.columns import (
    UUID,
    Array,
    BigInt,
    BigSerial,
    Boolean,
    Bytea,
    ForeignKey,
    Integer,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.db.engine import DB


class Patient(Table, tablename="patient", db=DB):
    """A person whose data we hold; known to the API only by an opaque UUID."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    # The number itself only encrypted; its HMAC digest (for lookup) is in patient_identity, keyed by the digest.
    fnr_sealed = Bytea()
    event_seq = BigInt(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


class CareRelation(Table, tablename="care_relation", db=DB):
    """An organisation's documented reason to treat the patient (tjenstlig behov)."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, index=True, null=False)
    kind = Varchar(length=16)
    org_number = Varchar(length=9)
    org_kind = Varchar(length=32)
    attested_by_hpr = Varchar(length=12)
    attested_by_name = Varchar(length=200, null=True, default=None)
    valid_from = Timestamptz(default=TimestamptzNow())
    valid_until = Timestamptz(null=True, default=None)


class EmergencyAccess(Table, tablename="emergency_access", db=DB):
    """A clinician's time-limited access without a care relation (nødrett), with the reason given."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, index=True, null=False)
    hpr = Varchar(length=12)
    org_number = Varchar(length=9)
    reason = Text()
    valid_from = Timestamptz(default=TimestamptzNow())
    valid_until = Timestamptz()


class ClinicianBlock(Table, tablename="clinician_block", db=DB):
    """A citizen's refusal to let a named clinician see her data (emergency access still works)."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, index=True, null=False)
    hpr = Varchar(length=12)
    created_at = Timestamptz(default=TimestamptzNow())


class Consent(Table, tablename="consent", db=DB):
    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, index=True, null=False)
    scope = Varchar(length=32)
    given_at = Timestamptz(default=TimestamptzNow())


class AuditLog(Table, tablename="audit_log", db=DB):
    """Append-only: the database refuses UPDATE and DELETE (trigger in the migration)."""

    id = BigSerial(primary_key=True)
    at = Timestamptz(default=TimestamptzNow())
    actor_kind = Varchar(length=16)
    actor = Varchar(length=200)
    hpr = Varchar(length=12, null=True, default=None)
    name = Varchar(length=200, null=True, default=None)
    authorization = Varchar(length=8, null=True, default=None)
    org_number = Varchar(length=9, null=True, default=None)
    org_kind = Varchar(length=32, null=True, default=None)
    # No foreign key: denied attempts on ids that do not exist are recorded too. Rows without a patient
    # (editors, a lookup that found no one) are in audit_log_global.
    patient_id = UUID()
    action = Varchar(length=32)
    resource_type = Varchar(length=48)
    resource_id = Varchar(length=64, null=True, default=None)
    basis = Varchar(length=16)
    request_id = Varchar(length=64, null=True, default=None)
    # Why a `denied` row was denied: role, no-patient, blocked, no-consent, no-relation (core/access.py).
    refusal = Varchar(length=16, null=True, default=None)


class Event(Table, tablename="event", db=DB):
    """Per-patient change feed and push outbox (topic events, which have no patient, are in topic_event)."""

    id = BigSerial(primary_key=True)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, null=False)
    seq = BigInt()
    # Events about things the citizen cannot see yet (an unreleased lab result) stay out of her feed.
    citizen_visible = Boolean(default=True)
    type = Varchar(length=64)
    resource_type = Varchar(length=48)
    resource_id = Varchar(length=64)
    at = Timestamptz(default=TimestamptzNow())
    available_at = Timestamptz(default=TimestamptzNow())
    claimed_by = Varchar(length=64, null=True, default=None)
    claim_expires_at = Timestamptz(null=True, default=None)
    dispatched_at = Timestamptz(null=True, default=None)
    attempts = SmallInt(default=0)


class IdempotencyKey(Table, tablename="idempotency_key", db=DB):
    id = BigSerial(primary_key=True)
    caller = Varchar(length=200)
    key = Varchar(length=200)
    method = Varchar(length=8)
    path = Text()
    body_digest = Bytea()
    status = Integer(null=True, default=None)
    response_headers = Text(null=True, default=None)
    response_body = Bytea(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    locked_until = Timestamptz(null=True, default=None)
    expires_at = Timestamptz()


class PatientContext(Table, tablename="patient_context", db=DB):
    """Facts one domain publishes for others to read (e.g. pregnancy → `pregnancy: ongoing`)."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, index=True, null=False)
    key = Varchar(length=48)
    value = Varchar(length=200)
    updated_at = Timestamptz(default=TimestamptzNow())


class Alert(Table, tablename="alert", db=DB):
    """A clinical alert for the clinicians of the patient's care relations of the named kinds."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, index=True, null=False)
    kind = Varchar(length=48)
    severity = Varchar(length=16)
    message = Text()
    relation_kinds = Varchar(length=100)
    resource_type = Varchar(length=48)
    resource_id = Varchar(length=64)
    created_at = Timestamptz(default=TimestamptzNow())
    # The consent the patient must have given for any clinician to see the alert (None: no consent needed).
    requires_consent = Varchar(length=32, null=True, default=None)
    acknowledged_at = Timestamptz(null=True, default=None)
    acknowledged_by_hpr = Varchar(length=12, null=True, default=None)
    acknowledged_by_name = Varchar(length=200, null=True, default=None)
    acknowledged_by_authorization = Varchar(length=8, null=True, default=None)
    acknowledged_by_org = Varchar(length=9, null=True, default=None)
    acknowledged_by_org_kind = Varchar(length=32, null=True, default=None)
    acknowledged_note = Text(null=True, default=None)


class Guardianship(Table, tablename="guardianship", db=DB):
    """The population register's parent–child link: the guardian acts for the child (scopes by the child's age)."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, null=False)  # the child
    guardian_id = UUID()
    active = Boolean()
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class PowerOfAttorney(Table, tablename="power_of_attorney", db=DB):
    """A citizen's power of attorney to another adult, with its scopes and optional end; revocable at once."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, null=False)  # the grantor
    attorney_id = UUID()
    scopes = Array(base_column=Text())
    valid_from = Timestamptz(default=TimestamptzNow())
    valid_until = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


CORE_TABLES: tuple[type[Table], ...] = (
    Patient,
    CareRelation,
    EmergencyAccess,
    ClinicianBlock,
    Consent,
    AuditLog,
    Event,
    IdempotencyKey,
    PatientContext,
    Alert,
    Guardianship,
    PowerOfAttorney,
)
