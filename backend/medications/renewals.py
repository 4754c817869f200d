"""Renewal requests ("forny resept"): the citizen asks, her GP's organisation sees them in its inbox, an LE answers.

She may ask for any prescription of hers that is not cancelled, one pending request at a time (409 while one is:
a unique index decides, so two at once cannot both pass). Approving makes a new prescription from the same entry
and replaces the old one in the same transaction (the old one: `cancelled`, reason "replaced", `replacedBy`);
declining needs a reason. Either answer appends `renewal-request.answered`, which pushes a content-free notice.
The approve and decline routes name the request only: its patient comes from `renewal_request_key`, and the
access decision is then core's as for any patient route (an LE with access; others 403, audited).
"""

from __future__ import annotations

import uuid

from backend.core import events
from backend.core.access import (
    LABORATORY,
    PHARMACY,
    Grant,
    Need,
    Role,
    authorize,
    clinician_of,
    write_transaction,
)
from backend.core.audit import Author, record_clinician_action
from backend.core.auth import ClinicianPrincipal
from backend.core.clock import utcnow
from backend.core.db import DB
from backend.core.errors import BadRequest, Conflict, Forbidden, NotFound
from backend.core.paging import BeforeTimeAndId, clamp_limit, decode_cursor, keyset_page
from backend.medications import queries, queries_prescriptions
from backend.medications.entries import clean, today
from backend.medications.prescriptions import REPLACED, checked_valid_until, write_prescription
from backend.medications.queries_prescriptions import NewPrescription
from backend.medications.schemas import (
    ApproveRenewalIn,
    DeclineRenewalIn,
    RenewalRequestIn,
    RenewalRequestOut,
    RenewalRequestPage,
    RenewalStatus,
)

RESOURCE = "renewal-request"
ANSWER = Need(
    action="write",
    resource_type=RESOURCE,
    role=Role("only a doctor (LE) may answer a renewal request", authorizations=frozenset({"LE"})),
)
INBOX_REFUSED = "a laboratory or a pharmacy has no renewal requests"


# --- the citizen ----------------------------------------------------------------------------------------


async def request_renewal(me: Grant, prescription_id: uuid.UUID, data: RenewalRequestIn) -> RenewalRequestOut:
    """Ask to renew one of her prescriptions: 404 not hers, 409 cancelled or already pending."""
    on = today()
    request_id = uuid.uuid4()
    async with write_transaction(me) as connection:
        found = await queries_prescriptions.prescription(connection, me.patient_id, on, prescription_id, lock=True)
        if found is None:
            raise NotFound("no such prescription")
        if found.status == "cancelled":
            raise Conflict(
                "a cancelled prescription cannot be renewed"
                + (": it was replaced by a renewal" if found.replaced_by else ""),
                extra={"replacedBy": str(found.replaced_by)} if found.replaced_by else None,
            )
        stored = await queries_prescriptions.insert_renewal(
            connection,
            patient_id=me.patient_id,
            request_id=request_id,
            prescription_id=prescription_id,
            note=clean(data.note),
            at=utcnow(),
        )
        if not stored:
            raise Conflict("a renewal request for this prescription is already waiting for an answer")
        await events.append_event(me.patient_id, events.EventType.RENEWAL_REQUEST_CREATED, request_id)
        created = await queries_prescriptions.renewal(connection, me.patient_id, request_id)
    if created is None:  # pragma: no cover - written in the transaction above
        raise NotFound("no such renewal request")
    return created


async def citizen_renewals(me: Grant, *, cursor: str | None, limit: int | None) -> RenewalRequestPage:
    """Her requests newest first, each with its answer once given."""
    size = clamp_limit(limit)
    position = decode_cursor(cursor, BeforeTimeAndId)
    async with DB.connection() as connection:
        rows = await queries_prescriptions.renewals_of_patient(
            connection, me.patient_id, before=(position.at, position.id) if position else None, limit=size + 1
        )
    items, following = keyset_page(rows, size, lambda row: BeforeTimeAndId(at=row.requested_at, id=row.id))
    return RenewalRequestPage(items=items, next=following)


# --- the GP ---------------------------------------------------------------------------------------------


async def inbox(
    principal: ClinicianPrincipal, *, status: RenewalStatus, cursor: str | None, limit: int | None
) -> RenewalRequestPage:
    """Requests of the patients with an active `gp` relation of the caller's organisation, newest first."""
    if principal.org_kind in (LABORATORY, PHARMACY):
        await record_clinician_action(
            principal,
            patient_id=None,
            action="read",
            resource_type=RESOURCE,
            resource_id=None,
            basis="denied",
            refusal="role",
        )
        raise Forbidden(INBOX_REFUSED)
    size = clamp_limit(limit)
    position = decode_cursor(cursor, BeforeTimeAndId)
    async with DB.connection() as connection:
        rows = await queries_prescriptions.gp_inbox(
            connection,
            org_number=principal.org_number,
            hpr=principal.hpr,
            status=status,
            before=(position.at, position.id) if position else None,
            limit=size + 1,
        )
    items, following = keyset_page(rows, size, lambda row: BeforeTimeAndId(at=row.requested_at, id=row.id))
    return RenewalRequestPage(items=items, next=following)


async def _grant_for_request(principal: ClinicianPrincipal, request_id: uuid.UUID) -> Grant:
    """The access decision on the request's patient (404 for an unknown request, as for one out of reach)."""
    async with DB.connection() as connection:
        patient_id = await queries_prescriptions.renewal_patient(connection, request_id)
    if patient_id is None:
        raise NotFound("no such renewal request")
    return await authorize(principal, patient_id, ANSWER, resource_id=str(request_id))


async def _pending(connection: queries.Connection, grant: Grant, request_id: uuid.UUID) -> RenewalRequestOut:
    request = await queries_prescriptions.renewal(connection, grant.patient_id, request_id, lock=True)
    if request is None:
        raise NotFound("no such renewal request")
    if request.status != "pending":
        raise Conflict(f"the request is already {request.status}", extra={"status": request.status})
    return request


async def approve(principal: ClinicianPrincipal, request_id: uuid.UUID, data: ApproveRenewalIn) -> RenewalRequestOut:
    """A new prescription from the same entry replaces the old one; the request is approved; she is told."""
    grant = await _grant_for_request(principal, request_id)
    on = today()
    valid_until = checked_valid_until(data.valid_until, on)
    now = utcnow()
    author = Author.of(clinician_of(grant))
    async with write_transaction(grant) as connection:
        # The list's lock first, as every prescription write takes it: the entry cannot be stopped meanwhile.
        await queries.lock_list(connection, grant.patient_id)
        request = await _pending(connection, grant, request_id)
        old = await queries_prescriptions.prescription(
            connection, grant.patient_id, on, request.prescription_id, lock=True
        )
        if old is None:  # pragma: no cover - a foreign key keeps it
            raise NotFound("no such prescription")
        if old.status == "cancelled":
            raise Conflict("the prescription was cancelled since the request: decline it or prescribe anew")
        entry = await queries_prescriptions.current_entry(connection, grant.patient_id, old.entry_id)
        if entry is None:  # pragma: no cover - entries are never removed
            raise NotFound("no such entry")
        new = await write_prescription(
            connection,
            grant,
            NewPrescription(
                id=uuid.uuid4(),
                entry_id=old.entry_id,
                entry=entry,
                dosage_text=old.dosage_text,
                quantity=old.quantity,
                dispensings=data.dispensings or old.dispensings,
                valid_until=valid_until,
                reimbursement_code=old.reimbursement_code,
                note=old.note,
                prescriber=author,
                replaces=old.id,
            ),
            on,
        )
        await queries_prescriptions.cancel_prescription(
            connection, grant.patient_id, on, old.id, reason=REPLACED, by_hpr=author.hpr, at=now, replaced_by=new.id
        )
        await events.append_event(grant.patient_id, events.EventType.PRESCRIPTION_CANCELLED, old.id)
        answered = await queries_prescriptions.answer_renewal(
            connection,
            patient_id=grant.patient_id,
            request_id=request_id,
            status="approved",
            by=author,
            at=now,
            decline_reason=None,
            new_prescription_id=new.id,
        )
        await events.append_event(grant.patient_id, events.EventType.RENEWAL_REQUEST_ANSWERED, request_id)
    return answered


async def decline(principal: ClinicianPrincipal, request_id: uuid.UUID, data: DeclineRenewalIn) -> RenewalRequestOut:
    """Decline with a reason she reads in the app; she is told."""
    reason = clean(data.reason)
    if reason is None:
        raise BadRequest("reason: give the reason for declining", field="reason")
    grant = await _grant_for_request(principal, request_id)
    author = Author.of(clinician_of(grant))
    async with write_transaction(grant) as connection:
        await _pending(connection, grant, request_id)
        answered = await queries_prescriptions.answer_renewal(
            connection,
            patient_id=grant.patient_id,
            request_id=request_id,
            status="declined",
            by=author,
            at=utcnow(),
            decline_reason=reason,
            new_prescription_id=None,
        )
        await events.append_event(grant.patient_id, events.EventType.RENEWAL_REQUEST_ANSWERED, request_id)
    return answered
