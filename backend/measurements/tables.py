"""Tables of måledata: one row per measurement (blood pressure as two columns) and one per NEWS2 score."""

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

from backend.core.tables import Patient
from backend.db.engine import DB


class Measurement(Table, tablename="measurement", db=DB):
    """One reading. The blood-pressure panel keeps systolic and diastolic as columns, so series are plain scans.

    Dedupe is the database's: unique (patient, client_id) and, for devices that resend without ids,
    unique (patient, device_serial, code, effective_at) where a serial is given (second migration).
    """

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient = ForeignKey(Patient, on_delete=OnDelete.restrict)
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


class News2Score(Table, tablename="news2_score", db=DB):
    """A NEWS2 total (SNOMED CT 1104051000000101) with its sub-scores and the measurements it was scored from."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient = ForeignKey(Patient, on_delete=OnDelete.restrict)
    effective_at = Timestamptz()
    total = SmallInt()
    risk = Varchar(length=16)
    single_parameter_red = Boolean()
    valid_for_patient = Boolean()
    spo2_scale = SmallInt()
    on_oxygen = Boolean()
    consciousness = Varchar(length=1)
    respiration_rate_score = SmallInt()
    spo2_score = SmallInt()
    on_oxygen_score = SmallInt()
    systolic_score = SmallInt()
    pulse_score = SmallInt()
    consciousness_score = SmallInt()
    temperature_score = SmallInt()
    respiration_rate_measurement = ForeignKey(Measurement, on_delete=OnDelete.restrict)
    spo2_measurement = ForeignKey(Measurement, on_delete=OnDelete.restrict)
    blood_pressure_measurement = ForeignKey(Measurement, on_delete=OnDelete.restrict)
    pulse_measurement = ForeignKey(Measurement, on_delete=OnDelete.restrict)
    temperature_measurement = ForeignKey(Measurement, on_delete=OnDelete.restrict)
    recorded_by_hpr = Varchar(length=12)
    org_number = Varchar(length=9)
    created_at = Timestamptz(default=TimestamptzNow())


MEASUREMENT_TABLES: tuple[type[Table], ...] = (Measurement, News2Score)
