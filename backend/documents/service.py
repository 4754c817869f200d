"""The journal documents' rules: upload (multipart or FHIR), the clinician's and the citizen's views, entered in
error, the citizen's restriction. Every function takes the `Grant`.

Who sees what (API.md "Journal documents"): a clinician with access to the patient sees every document of her
own organisation, and another organisation's within the look-back of its type, unless the citizen restricted
it (emergency access still sees it; the decision's audit row says `emergency`); `restrictedCount` tells her
how many the restrictions hide. The citizen sees her documents except those the author hid from her. An upload
is one transaction with its bytes (store.py), so a refused upload leaves nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import get_args

from backend.core import events
from backend.core.access import Grant, Need, Read, clinician_of, refuse, timeless, write_transaction
from backend.core.auth import ClinicianPrincipal
from backend.core.change_signals import PatientCache
from backend.core.clock import oslo_now, utcnow
from backend.core.db import DB
from backend.core.encoded import Encoded, encoded_read
from backend.core.errors import BadRequest, Conflict, NotFound
from backend.core.paging import clamp_limit, decode_cursor, keyset_page
from backend.core.settings import Settings
from backend.documents import queries
from backend.documents.schemas import (
    BeforeDateAndId,
    CitizenDocument,
    CitizenDocumentPage,
    ClinicianDocument,
    ClinicianDocumentPage,
    DocumentType,
    EnteredInErrorIn,
)
from backend.documents.store import DocumentStore, store_for

RESOURCE = "document"
UPLOAD = Need(action="write", resource_type=RESOURCE)
READ = Need(action="read", resource_type=RESOURCE)
READ_CONTENT = Need(action="read-content", resource_type=RESOURCE)
ENTER_IN_ERROR = Need(action="write", resource_type=RESOURCE)


def document_store(settings: Settings) -> DocumentStore:
    return store_for(settings.document_store)


def reader_of(grant: Grant, settings: Settings) -> queries.Reader:
    principal = clinician_of(grant)
    return queries.Reader(
        organisation=principal.org_number,
        emergency=grant.basis == "emergency",
        today=oslo_now().date(),
        lookback=settings.document_lookback_days,
    )


# --- the clinician's view -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListQuery:
    type: str | None
    from_date: date | None
    to_date: date | None
    cursor: str | None
    limit: int | None


def list_query(
    type: str | None, from_date: date | None, to_date: date | None, cursor: str | None, limit: int | None
) -> ListQuery:
    """The list's filters, checked before the access decision (a 400 is no reason to read her record)."""
    if type is not None and type not in get_args(DocumentType):
        raise BadRequest(f"type: unknown document type {type[:40]!r}", field="type")
    if from_date is not None and to_date is not None and from_date > to_date:
        raise BadRequest("from: after to", field="from")
    clamp_limit(limit)
    decode_cursor(cursor, BeforeDateAndId)
    return ListQuery(type, from_date, to_date, cursor, limit)


async def clinician_list(grant: Grant, settings: Settings, query: ListQuery) -> ClinicianDocumentPage:
    size, filters = _size_and_filters(query)
    async with DB.connection() as connection:
        rows, hidden = await queries.clinician_documents(
            connection, grant.patient_id, reader_of(grant, settings), filters, limit=size + 1
        )
    return _clinician_page(rows, hidden, size)


def clinician_list_read(
    clinician: ClinicianPrincipal, settings: Settings, query: ListQuery
) -> Read[ClinicianDocumentPage]:
    """`clinician_list` as a read in the access decision's statement (`authorize_read` with READ): the same
    statement, whose emergency access is the decision's basis."""
    size, filters = _size_and_filters(query)
    today, lookback = oslo_now().date(), settings.document_lookback_days
    args = queries.clinician_list_args(clinician.org_number, today, lookback, filters, limit=size + 1)
    return Read(
        sql=queries.CLINICIAN_LIST_IN_DECISION,
        args=args,
        result=lambda rows: _clinician_page(*queries.clinician_documents_of(rows), size),
    )


# Her documents' list as each reader was shown it: kept until she changes (an upload, a restriction, an entry in
# error all append an event), at midnight (the look-back counts days) or after 5 minutes (core/change_signals.py).
CLINICIAN_LISTS: PatientCache[Encoded[ClinicianDocumentPage]] = PatientCache(limit=5_000, per_patient=4)


def clinician_list_timeless(
    clinician: ClinicianPrincipal, settings: Settings, query: ListQuery
) -> Read[tuple[Encoded[ClinicianDocumentPage], datetime | None]]:
    """`clinician_list_read` for `authorize_kept_read` with `CLINICIAN_LISTS` (the decision and its audit row on
    every request): what the list shows depends on the organisation (its own documents, the look-back of the
    others'), on emergency access (the decision's finding) and on the day, never on the time of day."""
    return timeless(encoded_read(clinician_list_read(clinician, settings, query)))


def _size_and_filters(query: ListQuery) -> tuple[int, queries.Filters]:
    size = clamp_limit(query.limit)
    position = decode_cursor(query.cursor, BeforeDateAndId)
    before = (position.date, position.id) if position else None
    return size, queries.Filters(query.type, query.from_date, query.to_date, before)


def _clinician_page(rows: list[ClinicianDocument], hidden: int, size: int) -> ClinicianDocumentPage:
    items, next_cursor = keyset_page(rows, size, lambda item: BeforeDateAndId(date=item.date, id=item.id))
    return ClinicianDocumentPage(items=items, next=next_cursor, restricted_count=hidden)


async def _clinician_one(
    grant: Grant, settings: Settings, document_id: uuid.UUID
) -> tuple[ClinicianDocument, queries.StoredContent]:
    async with DB.connection() as connection:
        found = await queries.clinician_document(connection, grant.patient_id, reader_of(grant, settings), document_id)
    if found is None:
        raise NotFound("no such document")
    return found


async def clinician_document(grant: Grant, settings: Settings, document_id: uuid.UUID) -> ClinicianDocument:
    document, _ = await _clinician_one(grant, settings, document_id)
    return document


async def clinician_content(grant: Grant, settings: Settings, document_id: uuid.UUID) -> queries.StoredContent:
    _, content = await _clinician_one(grant, settings, document_id)
    return content


async def enter_in_error(
    grant: Grant, settings: Settings, document_id: uuid.UUID, data: EnteredInErrorIn
) -> ClinicianDocument:
    """The author's organisation retracts its document: status `entered-in-error`, gone from every list."""
    principal = clinician_of(grant)
    reason = data.reason.strip()
    if len(reason) < 3 or "\x00" in reason:
        raise BadRequest("reason: say why the document was entered in error", field="reason")
    async with DB.connection() as connection:
        existing = await queries.lock_document(connection, grant.patient_id, document_id)
    if existing is None:
        raise NotFound("no such document")
    if existing.organisation != principal.org_number:
        await refuse(grant, "only the author's organisation may mark its document entered in error",
                     resource_id=str(document_id))  # fmt: skip
    async with write_transaction(grant) as connection:
        locked = await queries.lock_document(connection, grant.patient_id, document_id)
        if locked is None or locked.status == "entered-in-error":
            raise Conflict("the document is already entered in error")
        await queries.enter_in_error(connection, grant.patient_id, document_id, reason, utcnow())
        await events.append_event(
            grant.patient_id,
            events.EventType.DOCUMENT_ENTERED_IN_ERROR,
            document_id,
            citizen_visible=locked.visible_to_patient,
        )
    return await clinician_document(grant, settings, document_id)


# --- the citizen's view -------------------------------------------------------------------------------------------


async def citizen_list(me: Grant, *, cursor: str | None, limit: int | None) -> CitizenDocumentPage:
    size = clamp_limit(limit)
    position = decode_cursor(cursor, BeforeDateAndId)
    async with DB.connection() as connection:
        rows = await queries.citizen_documents(
            connection, me.patient_id, before=(position.date, position.id) if position else None, limit=size + 1
        )
    items, next_cursor = keyset_page(rows, size, lambda item: BeforeDateAndId(date=item.date, id=item.id))
    return CitizenDocumentPage(items=items, next=next_cursor)


async def _citizen_one(me: Grant, document_id: uuid.UUID) -> tuple[CitizenDocument, queries.StoredContent]:
    async with DB.connection() as connection:
        found = await queries.citizen_document(connection, me.patient_id, document_id)
    if found is None:
        raise NotFound("no such document")
    return found


async def citizen_document(me: Grant, document_id: uuid.UUID) -> CitizenDocument:
    document, _ = await _citizen_one(me, document_id)
    return document


async def citizen_content(me: Grant, document_id: uuid.UUID) -> queries.StoredContent:
    _, content = await _citizen_one(me, document_id)
    return content


async def set_restriction(me: Grant, document_id: uuid.UUID, *, restricted: bool) -> None:
    """Her restriction: clinicians outside the author's organisation no longer see the document (or see it again)."""
    async with write_transaction(me) as connection:
        changed = await queries.set_restricted(connection, me.patient_id, document_id, restricted)
        if changed is None:
            raise NotFound("no such document")
        if changed:
            kind = events.EventType.DOCUMENT_RESTRICTED if restricted else events.EventType.DOCUMENT_UNRESTRICTED
            await events.append_event(me.patient_id, kind, document_id)
