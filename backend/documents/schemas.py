"""Request and response bodies of the journal documents."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from backend.core.paging import Page, Position

DocumentType = Literal["epicrisis", "outpatient-note", "referral", "radiology-report", "lab-report", "summary", "other"]
DocumentStatus = Literal["current", "superseded", "entered-in-error"]
ContentType = Literal["application/pdf", "text/plain", "image/jpeg", "image/png"]

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
ShortText = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Reason = Annotated[str, msgspec.Meta(min_length=3, max_length=1000)]


class DocumentMetadataIn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """The `metadata` part of an upload; `id` is the sender's own UUID for the document (idempotency)."""

    id: uuid.UUID
    type: DocumentType
    title: Title
    date: date
    department: ShortText | None = None
    visible_to_patient: bool = True
    hidden_reason: Reason | None = None
    replaces: uuid.UUID | None = None


class EnteredInErrorIn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    reason: Reason


class DocumentAuthor(msgspec.Struct, kw_only=True, rename="camel"):
    hpr: str
    name: str | None
    authorization: str


class ClinicianDocument(msgspec.Struct, kw_only=True, rename="camel"):
    """A document as a clinician sees it (with the author's reason when it is hidden from the patient)."""

    id: uuid.UUID
    type: DocumentType
    title: str
    date: date
    department: str | None
    visible_to_patient: bool
    hidden_reason: str | None
    replaces: uuid.UUID | None
    superseded_by: uuid.UUID | None
    organisation: str
    org_kind: str
    author: DocumentAuthor
    content_type: ContentType
    size: int
    sha256: str
    status: DocumentStatus
    restricted: bool
    entered_in_error_reason: str | None
    created_at: datetime


class CitizenDocument(msgspec.Struct, kw_only=True, rename="camel"):
    """A document as the patient sees it; `restricted` is her own choice."""

    id: uuid.UUID
    type: DocumentType
    title: str
    date: date
    department: str | None
    replaces: uuid.UUID | None
    superseded_by: uuid.UUID | None
    organisation: str
    org_kind: str
    author: DocumentAuthor
    content_type: ContentType
    size: int
    sha256: str
    status: DocumentStatus
    restricted: bool
    created_at: datetime


class ClinicianDocumentPage(Page, kw_only=True):
    items: list[ClinicianDocument]
    restricted_count: int


class CitizenDocumentPage(Page, kw_only=True):
    items: list[CitizenDocument]


class BeforeDateAndId(Position):
    """Where a document list resumes: after the document of this date and id (newest first)."""

    date: date
    id: uuid.UUID
