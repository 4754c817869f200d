"""Request and response bodies of the measurement and NEWS2 routes (API.md: measurement upload, NEWS2)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from backend.core.audit import Author
from backend.measurements.codes import ReadingComponent
from backend.measurements.news2 import (
    BodyTemperature,
    Consciousness,
    OxygenSaturation,
    PulseRate,
    RespirationRate,
    Risk,
    Spo2Scale,
    Subscores,
    SystolicPressure,
)

MAX_BATCH_ITEMS = 1000

Source = Literal["citizen", "clinician"]
UploadStatus = Literal["created", "duplicate", "rejected"]
ShortText = Annotated[str, Meta(min_length=1, max_length=64)]


class MeasuringDevice(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True, gc=False):
    serial: ShortText | None = None
    model: Annotated[str, Meta(max_length=100)] | None = None


class UploadItem(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True, gc=False):
    """One reading as the app sends it; the catalogue check (codes.validate_reading) comes after decoding.

    Not tracked by the garbage collector (no cycles): a batch makes thousands of these and their parts.
    """

    id: uuid.UUID | None = None
    code: Annotated[str, Meta(max_length=32)]
    value: float | None = None
    unit: Annotated[str, Meta(max_length=32)] | None = None
    effective_at: datetime
    components: Annotated[list[ReadingComponent], Meta(max_length=8)] | None = None
    device: MeasuringDevice | None = None


class UploadIn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """`{"items": [...]}`, at most 1,000 items; each item is checked and answered on its own."""

    items: Annotated[list[UploadItem], Meta(max_length=MAX_BATCH_ITEMS)]


class UploadResult(msgspec.Struct, kw_only=True, rename="camel", gc=False):
    """`id` is the item's own id, or the stored id of a created item that came without one."""

    id: uuid.UUID | None
    status: UploadStatus
    reason: str | None = None


class UploadOut(msgspec.Struct, kw_only=True, rename="camel"):
    results: list[UploadResult]


class ComponentOut(msgspec.Struct, kw_only=True, rename="camel"):
    code: str
    value: float | None
    unit: str


class DeviceOut(msgspec.Struct, kw_only=True, rename="camel"):
    serial: str | None
    model: str | None


class MeasurementOut(msgspec.Struct, kw_only=True, rename="camel"):
    id: uuid.UUID
    client_id: uuid.UUID | None
    code: str
    value: float | None
    unit: str | None
    components: list[ComponentOut] | None
    effective_at: datetime
    device: DeviceOut | None
    source: Source
    created_at: datetime


class MeasurementPage(msgspec.Struct, kw_only=True, rename="camel"):
    items: list[MeasurementOut]
    next: str | None


class Series(msgspec.Struct, kw_only=True, rename="camel"):
    """Chart form, oldest first: `[time, value]`, or `[time, systolic, diastolic]` for blood pressure."""

    code: str
    unit: str
    points: list[list[datetime | float | None]]
    truncated: bool


class MeasurementDisplay(msgspec.Struct, kw_only=True):
    nb: str
    en: str


class MeasurementComponentCode(msgspec.Struct, kw_only=True, rename="camel"):
    """A part of a panel: sent as `{"code", "value", "unit"}` inside the panel reading's `components`."""

    code: str
    display: MeasurementDisplay
    unit: str
    minimum: float
    maximum: float


class MeasurementCode(msgspec.Struct, kw_only=True, rename="camel"):
    """An accepted upload code: a value in `unit` within [minimum, maximum], or (a panel) its `components`."""

    code: str
    display: MeasurementDisplay
    unit: str | None
    minimum: float | None
    maximum: float | None
    components: list[MeasurementComponentCode] | None


class MeasurementCodes(msgspec.Struct, kw_only=True):
    items: list[MeasurementCode]


class News2RecordIn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """A vital-sign set to store and score.

    The SpO2 scale follows the patient's record: scale 2 while a clinician's 88-92 % target is in force,
    scale 1 otherwise. `spo2Scale` may be left out; when given it must agree with the record (else 400).
    """

    respiration_rate: RespirationRate
    spo2: OxygenSaturation
    spo2_scale: Spo2Scale | None = None
    on_oxygen: bool
    systolic: SystolicPressure
    diastolic: Annotated[int, Meta(ge=20, le=200, description="diastolic blood pressure in mmHg")] | None = None
    pulse: PulseRate
    consciousness: Consciousness
    temperature: BodyTemperature
    effective_at: datetime | None = None


News2NotValidReason = Literal["under-16", "pregnancy", "after-pregnancy", "not-validated-for-this-patient"]
Spo2TargetValue = Literal["88-92"]


class Spo2TargetIn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """The prescribed SpO2 target; 88-92 % is the one NEWS2 scale 2 is for (hypercapnic respiratory failure)."""

    target: Spo2TargetValue


class Spo2TargetOut(msgspec.Struct, kw_only=True, rename="camel"):
    """The SpO2 target in force (all null when none is): NEWS2 records use scale 2 exactly while there is one."""

    target: Spo2TargetValue | None
    prescribed_by: Author | None
    prescribed_at: datetime | None


class News2MeasurementIds(msgspec.Struct, kw_only=True, rename="camel"):
    respiration_rate: uuid.UUID
    spo2: uuid.UUID
    blood_pressure: uuid.UUID
    pulse: uuid.UUID
    temperature: uuid.UUID


class News2Recorded(msgspec.Struct, kw_only=True, rename="camel"):
    id: uuid.UUID
    code: str
    effective_at: datetime
    total: int
    subscores: Subscores
    risk: Risk
    monitoring: str
    response: str
    single_parameter_red: bool
    spo2_scale: int
    valid_for_patient: bool
    not_valid_reason: News2NotValidReason | None
    """`under-16`; with the woman's pregnancy-card consent `pregnancy` or `after-pregnancy` (within 6 weeks
    of the outcome date); without it `not-validated-for-this-patient`, which tells nothing more."""
    alert_id: uuid.UUID | None
    measurement_ids: News2MeasurementIds
