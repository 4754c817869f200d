"""Request and response shapes of municipal services and the legevakt overview (API.md, msgspec)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from backend.core.alerts import AlertOut
from backend.core.audit import Author
from backend.core.overview import (
    OverviewDocument,
    OverviewLabResult,
    OverviewMedication,
    OverviewPregnancy,
    OverviewPrescription,
    OverviewVitals,
)

ServiceStatus = Literal["applied", "granted", "active", "paused", "ended"]
SERVICE_STATUSES: tuple[ServiceStatus, ...] = ("applied", "granted", "active", "paused", "ended")

# A phone number: an optional +, then 3 to 15 digits, single spaces or hyphens between them (113, 116117,
# 22 33 44 55, +47 22334455).
Phone = Annotated[str, msgspec.Meta(pattern=r"^\+?[0-9](?:[ -]?[0-9]){2,14}$", max_length=32)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
ShortText = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Hours = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
LongText = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
Municipality = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{4}$")]
ServiceCode = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class Provider(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    name: Name
    phone: Phone
    hours: Hours
    unit: ShortText | None = None


class Coordinator(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    name: Name
    phone: Phone


class MunicipalServiceIn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    service: ServiceCode
    status: ServiceStatus
    from_: date = msgspec.field(name="from")
    provider: Provider
    until: date | None = None
    frequency: ShortText | None = None
    coordinator: Coordinator | None = None
    practical_info: LongText | None = None
    municipality: Municipality | None = None


class MunicipalServiceOut(msgspec.Struct, kw_only=True, rename="camel"):
    id: uuid.UUID
    service: str
    service_label: str
    status: ServiceStatus
    from_: date = msgspec.field(name="from")
    until: date | None
    frequency: str | None
    provider: Provider
    coordinator: Coordinator | None
    practical_info: str | None
    municipality: str
    version: int
    updated_at: datetime
    stale: bool


class MunicipalServiceList(msgspec.Struct, kw_only=True, rename="camel"):
    items: list[MunicipalServiceOut]
    other_municipalities_count: int


class CitizenMunicipalServiceList(msgspec.Struct, kw_only=True, rename="camel"):
    items: list[MunicipalServiceOut]


class ServiceVersionOut(msgspec.Struct, kw_only=True, rename="camel"):
    version: int
    at: datetime
    by: Author
    changed: list[str]
    service: MunicipalServiceOut


class ServiceHistory(msgspec.Struct, kw_only=True, rename="camel"):
    items: list[ServiceVersionOut]
    next: str | None


class OverviewPatient(msgspec.Struct, kw_only=True, rename="camel"):
    age: int | None
    sex: Literal["female", "male"] | None


class Overview(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    patient: OverviewPatient
    municipal_services: list[MunicipalServiceOut]
    other_municipalities_count: int
    medications: list[OverviewMedication] | None
    prescriptions: list[OverviewPrescription] | None
    vitals: OverviewVitals | None
    lab_results: list[OverviewLabResult] | None
    documents: list[OverviewDocument] | None
    alerts: list[AlertOut]
    generated_at: datetime
    # Left out, not null, when she has not consented or has no card: even the field's name tells of pregnancy.
    pregnancy: OverviewPregnancy | None = None
