"""Lab reports with every version kept, their observations one row per version, and the citizen release state.

Columns and nullability here match the database (tests/core/test_schema_catalogue.py). Keys do not: every
patient table's primary key is (patient_id, id) and its links to other patient tables are composite, which
Piccolo cannot declare; they, and the global lookup tables, live in the hand-written migrations of issue 13.
"""

from __future__ import annotations

import uuid

from piccolo.columns import (
    JSONB,
    UUID,
    BigSerial,
    Boolean,
    Bytea,
    DoublePrecision,
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

from backend.core.db import DB
from backend.core.tables import Patient


class LabReport(Table, tablename="lab_report", db=DB):
    """One report as the sender names it (its id), pointing at the version shown, with its release state.

    The citizen sees it as `backend.labs.release.citizen_sees` says; `release_due_at` counts from
    `received_at` (when the version shown reached Helsekort) or `issued_at`, whichever is later, and is
    None for a preliminary report; `release_announced_at` records that the `lab-result.released` event
    was appended (exactly once).
    """

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, index=True, null=False)
    category = Varchar(length=32)
    current_version = Integer(default=1)
    status = Varchar(length=16)
    specimen_at = Timestamptz()
    issued_at = Timestamptz()
    requester_hpr = Varchar(length=12)
    requester_org = Varchar(length=64)
    sender_org = Varchar(length=64)
    release_due_at = Timestamptz(null=True, default=None)
    released_at = Timestamptz(null=True, default=None)
    released_by_hpr = Varchar(length=12, null=True, default=None)
    held = Boolean(default=False)
    held_at = Timestamptz(null=True, default=None)
    held_by_hpr = Varchar(length=12, null=True, default=None)
    release_announced_at = Timestamptz(null=True, default=None)
    received_at = Timestamptz(default=TimestamptzNow())
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class LabReportVersion(Table, tablename="lab_report_version", db=DB):
    """Every version a sender posted; a correction adds one and the report points at it."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    report = ForeignKey(LabReport, on_delete=OnDelete.restrict, index=True, null=False)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, index=True, null=False)
    version = Integer()
    status = Varchar(length=16)
    specimen_at = Timestamptz()
    issued_at = Timestamptz()
    lab_name = Varchar(length=200)
    lab_org = Varchar(length=64)
    requester_hpr = Varchar(length=12)
    requester_org = Varchar(length=64)
    panels = JSONB(default=[])
    # sha256 of the mapped report: a resend (JSON or FHIR) with the same content is recognised as one.
    body_digest = Bytea()
    sent_by_hpr = Varchar(length=12)
    sent_by_org = Varchar(length=64)
    received_at = Timestamptz(default=TimestamptzNow())


class LabObservation(Table, tablename="lab_observation", db=DB):
    """One result of one version; `current` marks the shown version's rows, so a trend is one indexed query."""

    id = BigSerial(primary_key=True)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, null=False)
    report = ForeignKey(LabReport, on_delete=OnDelete.restrict, index=True, null=False)
    version = Integer()
    position = SmallInt()
    current = Boolean(default=True)
    code = Varchar(length=64)
    system = Varchar(length=8)
    display = Varchar(length=200)
    value_type = Varchar(length=8)
    value_quantity = DoublePrecision(null=True, default=None)
    value_comparator = Varchar(length=2, null=True, default=None)
    value_string = Text(null=True, default=None)
    value_code = Varchar(length=64, null=True, default=None)
    value_display = Varchar(length=200, null=True, default=None)
    unit = Varchar(length=40, null=True, default=None)
    reference_low = DoublePrecision(null=True, default=None)
    reference_high = DoublePrecision(null=True, default=None)
    reference_text = Varchar(length=200, null=True, default=None)
    flag = Varchar(length=8, null=True, default=None)
    comment = Text(null=True, default=None)
    panel = Varchar(length=64, null=True, default=None)
    specimen_at = Timestamptz()
    issued_at = Timestamptz()


LAB_TABLES: tuple[type[Table], ...] = (LabReport, LabReportVersion, LabObservation)
