"""Request and response bodies of the patient, access and change-feed routes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from backend.core.audit import AccessLogEntry
from backend.core.events import ChangeItem
from backend.core.relations import RelationKind
from backend.core.representation import Scope as RepresentationScope

ConsentScope = Literal["pregnancy-card"]
CONSENT_SCOPES: tuple[str, ...] = ("pregnancy-card",)


class Me(msgspec.Struct, kw_only=True, rename="camel"):
    patient_id: uuid.UUID
    consents: list[str]


class AccessLogPage(msgspec.Struct, kw_only=True, rename="camel"):
    items: list[AccessLogEntry]
    next: str | None


class Block(msgspec.Struct, kw_only=True, rename="camel"):
    hpr: str
    created_at: datetime


class BlockList(msgspec.Struct, kw_only=True, rename="camel"):
    items: list[Block]
    next: str | None = None


class ChangePage(msgspec.Struct, kw_only=True, rename="camel"):
    items: list[ChangeItem]
    next: str
    has_more: bool


class LookupIn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    fnr: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]


class LookupOut(msgspec.Struct, kw_only=True, rename="camel"):
    patient_id: uuid.UUID


class CareRelationIn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    kind: RelationKind
    until: datetime | None = None


class AttestedBy(msgspec.Struct, kw_only=True, rename="camel"):
    hpr: str
    name: str | None
    organisation: str
    org_kind: str


class CareRelationOut(msgspec.Struct, kw_only=True, rename="camel"):
    id: uuid.UUID
    kind: str
    from_: datetime = msgspec.field(name="from")
    until: datetime | None
    attested_by: AttestedBy


class CareRelationList(msgspec.Struct, kw_only=True, rename="camel"):
    items: list[CareRelationOut]
    next: str | None = None


class EmergencyAccessIn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=10, max_length=2000)]


class EmergencyAccessOut(msgspec.Struct, kw_only=True, rename="camel"):
    until: datetime


# --- representation ---------------------------------------------------------------------------------------


class GuardianshipIn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    guardian_fnr: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    child_fnr: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    active: bool


class PowerOfAttorneyIn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    fnr: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    scopes: Annotated[list[RepresentationScope], msgspec.Meta(min_length=1, max_length=8)]
    until: datetime | None = None


class PowerOfAttorneyCreated(msgspec.Struct, kw_only=True, rename="camel"):
    id: uuid.UUID


class Representative(msgspec.Struct, kw_only=True, rename="camel"):
    id: uuid.UUID
    patient_id: uuid.UUID
    scopes: list[str]
    valid_from: datetime
    until: datetime | None


class RepresentativeList(msgspec.Struct, kw_only=True, rename="camel"):
    items: list[Representative]
    next: str | None = None


class Represented(msgspec.Struct, kw_only=True, rename="camel"):
    patient_id: uuid.UUID
    basis: Literal["guardian", "power-of-attorney"]
    scopes: list[str]
    until: datetime | None
