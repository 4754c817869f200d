"""E-prescriptions (SFM) of the medication list: prescribe from a current entry, cancel, read, and the expiry reminder.

A prescription belongs to a current entry of the shared list and is written under the list's lock, so it cannot
race a list write that stops the entry (which cancels the entry's active prescription in its own transaction,
`service.replace_list`). Who may prescribe is the list's rule (`prescribing.rights_of`, the `PRESCRIBER` role):
LE everything, JO only ATC codes on the midwives' list (an audited refusal, then 403), others 403 by role. The id
is the prescriber's: the same id and content again is a replay (the stored prescription), other content a 409.
Status is computed when read (`prescription_status`). Pharmacies read active prescriptions (`READ_PRESCRIPTIONS`
is a Need a pharmacy may use for any existing patient; core audits it with basis `pharmacy`). A clinician who may
see an ongoing pregnancy gets the drug catalogue's pregnancy warnings on what she prescribes and reads (`catalogue`).
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from backend.core import events
from backend.core.access import PHARMACY, Grant, Need, clinician_of, refuse, write_transaction
from backend.core.audit import Author
from backend.core.change_signals import PatientCache
from backend.core.clock import utcnow
from backend.core.context import PREGNANCY_CONSENT
from backend.core.db import DB
from backend.core.errors import BadRequest, Conflict, NotFound
from backend.core.paging import BeforeTimeAndId, clamp_limit, decode_cursor, keyset_page
from backend.core.settings import Settings
from backend.medications import queries, queries_prescriptions
from backend.medications.atc import within
from backend.medications.catalogue import with_warnings
from backend.medications.entries import clean, today
from backend.medications.prescribing import PRESCRIBER, rights_of
from backend.medications.queries_prescriptions import NewPrescription, PrescribableEntry
from backend.medications.schemas import (
    CancelPrescriptionIn,
    PrescriptionIn,
    PrescriptionOut,
    PrescriptionPage,
    PrescriptionStatus,
    Quantity,
)

RESOURCE = "prescription"
# `reveals`: whether she lets this reader see her pregnancy decides the catalogue's pregnancy warnings (asked by the
# decision itself, so the warning costs no query for a reader without her consent).
READ_PRESCRIPTIONS = Need(action="read", resource_type=RESOURCE, pharmacy_may=True, reveals=PREGNANCY_CONSENT)
PRESCRIBE = Need(action="write", resource_type=RESOURCE, role=PRESCRIBER, reveals=PREGNANCY_CONSENT)
CANCEL = Need(action="write", resource_type=RESOURCE, role=PRESCRIBER)

REMINDER_DAYS = 30  # the citizen is reminded once, this many days before `validUntil`
REMINDER_BATCH = 200
REPLACED = "replaced"  # the cancel reason of a prescription an approved renewal replaced


def one_year_after(day: date) -> date:
    """The same date a year later (28 February for 29 February): the longest validity, and the default."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def checked_valid_until(valid_until: date | None, on: date) -> date:
    """`validUntil`, or one year ahead when not given: 400 when in the past or more than a year ahead."""
    latest = one_year_after(on)
    if valid_until is None:
        return latest
    if valid_until < on:
        raise BadRequest(f"validUntil: {valid_until} is in the past", field="validUntil")
    if valid_until > latest:
        raise BadRequest(f"validUntil: a prescription is valid at most one year, until {latest}", field="validUntil")
    return valid_until


async def _require_rights(grant: Grant, atc: str, jo_prefixes: tuple[str, ...], resource_id: str | None) -> None:
    """A midwife (JO) prescribes only ATC codes on the midwives' list: an audited refusal, then 403."""
    if rights_of(clinician_of(grant).authorization) == "listed" and not within(atc, jo_prefixes):
        await refuse(
            grant,
            f"a midwife (JO) may prescribe only medicines on the midwives' list; {atc} is not on it",
            resource_id=resource_id,
        )


async def _prescribable_entry(grant: Grant, entry_id: uuid.UUID) -> PrescribableEntry:
    """The entry, current on the list: 400 when the list has no such entry, 409 when it is stopped."""
    async with DB.connection() as connection:
        entry = await queries_prescriptions.current_entry(connection, grant.patient_id, entry_id)
    return _check_current(entry, entry_id)


def _check_current(entry: PrescribableEntry | None, entry_id: uuid.UUID) -> PrescribableEntry:
    if entry is None:
        raise BadRequest(f"entryId: {entry_id} is not an entry of the patient's medication list", field="entryId")
    if entry.stopped_at is not None and entry.stopped_at <= today():
        raise Conflict(
            f"the entry was stopped on {entry.stopped_at}: prescribe only from a current entry of the list",
            extra={"entryId": str(entry_id)},
        )
    return entry


async def prescribe(grant: Grant, data: PrescriptionIn, *, jo_prefixes: tuple[str, ...]) -> PrescriptionOut:
    """A prescription from a current list entry; a replay of the same id and content returns the stored one."""
    principal = clinician_of(grant)
    on = today()
    dosage = clean(data.dosage_text)
    if dosage is None:
        raise BadRequest("dosageText: give the dosage", field="dosageText")
    unit = data.quantity.unit.strip()
    if not unit:
        raise BadRequest("quantity.unit: give the unit", field="quantity.unit")
    valid_until = checked_valid_until(data.valid_until, on)
    entry = await _prescribable_entry(grant, data.entry_id)
    await _require_rights(grant, entry.atc, jo_prefixes, str(data.id))
    new = NewPrescription(
        id=data.id,
        entry_id=data.entry_id,
        entry=entry,
        dosage_text=dosage,
        quantity=Quantity(amount=data.quantity.amount, unit=unit),
        dispensings=data.dispensings,
        valid_until=valid_until,
        reimbursement_code=clean(data.reimbursement_code),
        note=clean(data.note),
        prescriber=Author.of(principal),
    )
    async with write_transaction(grant) as connection:
        stored = await _store(connection, grant, new, on)
    [warned] = await with_warnings(grant, [stored])
    return warned


def _same(stored: PrescriptionOut, new: NewPrescription) -> bool:
    return (
        stored.entry_id == new.entry_id
        and stored.dosage_text == new.dosage_text
        and stored.quantity == new.quantity
        and stored.dispensings == new.dispensings
        and stored.valid_until == new.valid_until
        and stored.reimbursement_code == new.reimbursement_code
        and stored.note == new.note
        and stored.prescriber.hpr == new.prescriber.hpr
    )


async def _store(connection: queries.Connection, grant: Grant, new: NewPrescription, on: date) -> PrescriptionOut:
    """Write the prescription under the list's lock (the entry must still be current, with no active prescription)."""
    await queries.lock_list(connection, grant.patient_id)
    existing = await queries_prescriptions.prescription(connection, grant.patient_id, on, new.id)
    if existing is not None:
        if _same(existing, new):
            return existing  # the prescriber's id again with the same content: a replay
        raise Conflict(f"prescription {new.id} exists with other content", extra={"prescriptionId": str(new.id)})
    _check_current(await queries_prescriptions.current_entry(connection, grant.patient_id, new.entry_id), new.entry_id)
    active = await queries_prescriptions.active_prescription_of_entry(connection, grant.patient_id, on, new.entry_id)
    if active is not None and active != new.replaces:
        raise Conflict(
            "the entry already has an active prescription: cancel it first, or approve a renewal request",
            extra={"prescriptionId": str(active)},
        )
    stored = await queries_prescriptions.insert_prescription(connection, grant.patient_id, on, new, utcnow())
    if stored is None:  # the same id committed by a concurrent request after our read
        raise Conflict(f"prescription {new.id} exists", extra={"prescriptionId": str(new.id)})
    await events.append_event(grant.patient_id, events.EventType.PRESCRIPTION_CREATED, stored.id)
    return stored


async def write_prescription(
    connection: queries.Connection, grant: Grant, new: NewPrescription, on: date
) -> PrescriptionOut:
    """Store a prescription inside the caller's transaction (a renewal's approval); the same checks as `prescribe`."""
    return await _store(connection, grant, new, on)


class _NotTheirs(Exception):
    """Raised inside the cancel's transaction; refused (audited) after it rolled back."""


async def cancel(grant: Grant, prescription_id: uuid.UUID, data: CancelPrescriptionIn) -> PrescriptionOut:
    """Cancel an active prescription with a reason: its prescriber, or any LE with access (others 403, audited)."""
    principal = clinician_of(grant)
    reason = clean(data.reason)
    if reason is None:
        raise BadRequest("reason: give the reason for cancelling", field="reason")
    on = today()
    try:
        async with write_transaction(grant) as connection:
            found = await queries_prescriptions.prescription(
                connection, grant.patient_id, on, prescription_id, lock=True
            )
            if found is None:
                raise NotFound("no such prescription")
            if principal.authorization != "LE" and principal.hpr != found.prescriber.hpr:
                raise _NotTheirs
            if found.status != "active":
                raise Conflict(f"only an active prescription can be cancelled; this one is {found.status}")
            cancelled = await queries_prescriptions.cancel_prescription(
                connection, grant.patient_id, on, prescription_id, reason=reason, by_hpr=principal.hpr, at=utcnow()
            )
            await events.append_event(grant.patient_id, events.EventType.PRESCRIPTION_CANCELLED, prescription_id)
    except _NotTheirs:
        await refuse(
            grant, "only the prescriber or a doctor (LE) may cancel a prescription", resource_id=str(prescription_id)
        )
    return cancelled


async def prescriptions_for(
    grant: Grant, *, status: PrescriptionStatus | None, cursor: str | None, limit: int | None
) -> PrescriptionPage:
    """The patient's prescriptions newest first (of one status when asked); a pharmacy reads active ones only."""
    if clinician_of(grant).org_kind == PHARMACY:
        if status not in (None, "active"):
            await refuse(grant, "a pharmacy reads active prescriptions only")
        status = "active"
    page = await _page(grant, status=status, cursor=cursor, limit=limit)
    return PrescriptionPage(items=await with_warnings(grant, page.items), next=page.next)


async def citizen_prescriptions(
    me: Grant, *, status: PrescriptionStatus | None, cursor: str | None, limit: int | None
) -> PrescriptionPage:
    """Her prescriptions newest first, with the dispensings left and until when each is valid; kept per patient
    until she changes (every prescription write appends an event) or the date does (the status is the day's)."""

    async def read() -> tuple[PrescriptionPage, None]:
        return await _page(me, status=status, cursor=cursor, limit=limit), None

    return await _CITIZEN_PAGES.get(me.patient_id, (status, cursor, limit, today()), read)


_CITIZEN_PAGES: PatientCache[PrescriptionPage] = PatientCache()


async def _page(
    grant: Grant, *, status: PrescriptionStatus | None, cursor: str | None, limit: int | None
) -> PrescriptionPage:
    size = clamp_limit(limit)
    position = decode_cursor(cursor, BeforeTimeAndId)
    async with DB.connection() as connection:
        rows = await queries_prescriptions.prescriptions(
            connection,
            grant.patient_id,
            today(),
            status=status,
            before=(position.at, position.id) if position else None,
            limit=size + 1,
        )
    items, following = keyset_page(rows, size, lambda row: BeforeTimeAndId(at=row.created_at, id=row.id))
    return PrescriptionPage(items=items, next=following)


async def remind_expiring_prescriptions(settings: Settings) -> int:
    """Worker job: one reminder per prescription, 30 days before `validUntil`, even with several workers.

    The due patients are read without locks; each patient's reminders are then claimed by one conditional UPDATE
    (`reminded_at IS NULL`) in her own transaction with their events, so a second worker claims nothing.
    """
    on = today()
    last_day = on + timedelta(days=REMINDER_DAYS)
    reminded = 0
    async with DB.connection() as connection:
        patients = await queries_prescriptions.patients_to_remind(connection, on, last_day, REMINDER_BATCH)
    for patient_id in patients:
        async with DB.transaction(), DB.connection() as connection:
            for prescription_id in await queries_prescriptions.mark_reminded(
                connection, patient_id, on, last_day, utcnow()
            ):
                await events.append_event(patient_id, events.EventType.PRESCRIPTION_EXPIRING, prescription_id)
                reminded += 1
    return reminded
