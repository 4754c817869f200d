"""Tables of municipal services: the service as its municipality last wrote it, and every version of it.

A service is keyed by the source system's decision id (vedtak), so the allocation office's record system
upserts it; each change is a version row with who, when, which fields changed and the whole service as
written. Columns and nullability match the database (tests/core/test_schema_catalogue.py); the keys
(patient_id, id), the composite link of a version to its service and the checks are in the hand-written
migration, which Piccolo cannot declare.
"""

from __future__ import annotations

import uuid

from piccolo.columns import JSONB, UUID, Array, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.core.db import DB
from backend.core.tables import Patient


class MunicipalService(Table, tablename="municipal_service", db=DB):
    """One service decision of one municipality for one patient, as last written (version = its history's newest)."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, null=False)
    municipality = Varchar(length=4)
    service = Varchar(length=40)
    status = Varchar(length=16)
    starts_on = Date()
    ends_on = Date(null=True, default=None)
    frequency = Varchar(length=200, null=True, default=None)
    provider = JSONB()
    coordinator = JSONB(null=True, default=None)
    practical_info = Text(null=True, default=None)
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class MunicipalServiceVersion(Table, tablename="municipal_service_version", db=DB):
    """Who wrote version N of a service, when, which fields changed, and the service as written."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, null=False)
    service_id = UUID()
    version = Integer()
    changed = Array(Varchar(length=32))
    written = JSONB()
    at = Timestamptz(default=TimestamptzNow())
    by_hpr = Varchar(length=12)
    by_name = Varchar(length=200, null=True, default=None)
    by_authorization = Varchar(length=8)
    by_org = Varchar(length=9)
    by_org_kind = Varchar(length=32)


MUNICIPAL_TABLES: tuple[type[Table], ...] = (MunicipalService, MunicipalServiceVersion)
