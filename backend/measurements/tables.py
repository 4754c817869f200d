"""Tables of måledata: one row per measurement (blood pressure as two columns), one per NEWS2 score, and the
SpO2 targets clinicians prescribe (which decide the NEWS2 SpO2 scale).

Columns and nullability here match the database (tests/core/test_schema_catalogue.py). Keys do not: every
patient table's primary key is (patient_id, id) and its links to other patient tables are composite, which
Piccolo cannot declare; they, and the global lookup tables, live in the hand-written migrations of issue 13.
"""

from __future__ import annotations

import uuid

from piccolo.columns import (
    UUID,
    Boolean,
    DoublePrecision,
    ForeignKey,
    SmallInt,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.core.db import DB
from backend.core.tables import Patient


class Measurement(Table, tablename="measurement", db=DB):
    """One reading. The blood-pressure panel keeps systolic and diastolic as columns, so series are plain scans.

    Dedupe is the database's: unique (patient_id, client_id) and, for devices that resend without ids,
    unique (patient_id, device_serial, code, effective_at) where a serial is given (second migration).
    """

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, null=False)
    client_id = UUID(null=True, default=None)
    code = Varchar(length=16)
    value = DoublePrecision(null=True, default=None)
    systolic = DoublePrecision(null=True, default=None)
    diastolic = DoublePrecision(null=True, default=None)
    unit = Varchar(length=16, null=True, default=None)
    effective_at = Timestamptz()
    device_serial = Varchar(length=64, null=True, default=None)
    device_model = Varchar(length=100, null=True, default=None)
    source = Varchar(length=16)
    recorded_by_hpr = Varchar(length=12, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Spo2Target(Table, tablename="spo2_target", db=DB):
    """A prescribed SpO2 target of 88-92 % (NEWS2 scale 2), with who prescribed and who cleared it.

    Rows are never deleted: clearing sets `cleared_*`; at most one is in force per patient (partial unique index).
    """

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, null=False)
    target = Varchar(length=8)
    prescribed_by_hpr = Varchar(length=12)
    prescribed_by_name = Varchar(length=200, null=True, default=None)
    prescribed_by_authorization = Varchar(length=8)
    prescribed_by_org = Varchar(length=9)
    prescribed_by_org_kind = Varchar(length=32)
    prescribed_at = Timestamptz(default=TimestamptzNow())
    cleared_by_hpr = Varchar(length=12, null=True, default=None)
    cleared_by_name = Varchar(length=200, null=True, default=None)
    cleared_by_org = Varchar(length=9, null=True, default=None)
    cleared_at = Timestamptz(null=True, default=None)


class News2Score(Table, tablename="news2_score", db=DB):
    """A NEWS2 total (SNOMED CT 1104051000000101) with its sub-scores and the measurements it was scored from."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, null=False)
    effective_at = Timestamptz()
    total = SmallInt()
    risk = Varchar(length=16)
    single_parameter_red = Boolean()
    valid_for_patient = Boolean()
    # Why not valid: under-16, pregnancy or after-pregnancy; worded for each reader (service.py).
    not_valid_reason = Varchar(length=32, null=True, default=None)
    spo2_scale = SmallInt()
    # The prescription that put scale 2 in force for this score.
    spo2_target = ForeignKey(Spo2Target, on_delete=OnDelete.restrict, null=True, default=None)
    on_oxygen = Boolean()
    consciousness = Varchar(length=1)
    respiration_rate_score = SmallInt()
    spo2_score = SmallInt()
    on_oxygen_score = SmallInt()
    systolic_score = SmallInt()
    pulse_score = SmallInt()
    consciousness_score = SmallInt()
    temperature_score = SmallInt()
    respiration_rate_measurement = ForeignKey(Measurement, on_delete=OnDelete.restrict, null=False)
    spo2_measurement = ForeignKey(Measurement, on_delete=OnDelete.restrict, null=False)
    blood_pressure_measurement = ForeignKey(Measurement, on_delete=OnDelete.restrict, null=False)
    pulse_measurement = ForeignKey(Measurement, on_delete=OnDelete.restrict, null=False)
    temperature_measurement = ForeignKey(Measurement, on_delete=OnDelete.restrict, null=False)
    recorded_by_hpr = Varchar(length=12)
    org_number = Varchar(length=9)
    created_at = Timestamptz(default=TimestamptzNow())


MEASUREMENT_TABLES: tuple[type[Table], ...] = (Measurement, Spo2Target, News2Score)
