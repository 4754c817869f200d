"""Rules of the shared medication list itself: who may change it, read-before-write versions, the two views.

The list of a patient is one `medication_list` row (the current version, locked by every writer) and
entry versions (see tables.py for why entry versions and not snapshots). A write names the version it
read (If-Match), sends the whole list back, and changes only the entries that differ; every change
makes a new list version with its author. Entries are never removed, only stopped; a stopped entry
leaves the current view 90 days after its stop date but stays in every version of the history.

The list's sub-resources have their own modules: `entries` (what a valid entry is, which are visible),
`history` (versions and diffs), `reconciliations` (samstemming) and `discrepancies` (the citizen's reports).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime

import msgspec

from backend.core import events
from backend.core.access import Grant, Need, Read, clinician_of, refuse
from backend.core.audit import Author
from backend.core.change_signals import PatientCache
from backend.core.clock import utcnow
from backend.core.concurrency import require_if_match
from backend.core.conditional import State
from backend.core.db import DB
from backend.core.encoded import Encoded
from backend.core.errors import Conflict
from backend.medications import queries, queries_prescriptions
from backend.medications.atc import within
from backend.medications.entries import (
    display_order,
    duplicate_warnings,
    is_active,
    is_visible,
    normalise_entries,
    today,
)
from backend.medications.prescribing import PRESCRIBER, rights_of
from backend.medications.schemas import (
    CitizenMedicationList,
    MedicationEntry,
    MedicationListIn,
    MedicationListOut,
    Prescriber,
    PrescriptionSummary,
    ReconciliationOut,
)

RESOURCE_LIST = "medication-list"
CANCELLED_WITH_ENTRY = "the medication list entry was stopped"

# Who may change the list: `prescribing.PRESCRIBER` (LE everything, JO her list, others read).
READ_LIST = Need(action="read", resource_type=RESOURCE_LIST)
WRITE_LIST = Need(action="write", resource_type=RESOURCE_LIST, role=PRESCRIBER)


# --- clinician ----------------------------------------------------------------------------------------


def _with_prescriptions(
    entries: Iterable[MedicationEntry], current: Mapping[uuid.UUID, PrescriptionSummary]
) -> list[MedicationEntry]:
    """Each entry with its current prescription {id, status, validUntil} (read-only: a PUT's copy is ignored)."""
    return [msgspec.structs.replace(entry, prescription=current.get(entry.id)) for entry in entries]


def _clinician_view(
    version: int,
    updated_at: datetime | None,
    entries: Iterable[MedicationEntry],
    last_reconciled: ReconciliationOut | None,
    on: date,
    *,
    prescriptions: Mapping[uuid.UUID, PrescriptionSummary],
) -> MedicationListOut:
    visible = sorted(
        (entry for entry in _with_prescriptions(entries, prescriptions) if is_visible(entry, on)), key=display_order
    )
    return MedicationListOut(
        version=version,
        updated_at=updated_at,
        entries=visible,
        warnings=duplicate_warnings(visible, on),
        last_reconciled=last_reconciled,
    )


async def read_list(grant: Grant) -> MedicationListOut:
    """Every entry that is active or stopped within the last 90 days, with duplicate warnings (one statement)."""
    on = today()
    async with DB.connection() as connection:
        stored = await queries.read_list(connection, grant.patient_id, on)
    return _stored_view(stored, on)


# The clinician's list, kept per patient until she changes: the same for every reader the decision allows (no
# consent or emergency part), and every write of its rows appends an event for her in its transaction: the list
# (MEDICATIONS_UPDATED), samstemming (MEDICATIONS_RECONCILED), a prescription created, cancelled (also by a stopped
# entry or a renewal), dispensed. Its date is in the key; statuses that change by date alone end at midnight.
CLINICIAN_LISTS: PatientCache[Encoded[MedicationListOut]] = PatientCache(limit=5_000, per_patient=2)


def list_read() -> Read[MedicationListOut]:
    """`read_list` as a read in the access decision's statement (`authorize_read` with READ_LIST): one round trip."""
    on = today()
    return Read(
        sql=queries.READ_LIST_IN_DECISION, args=(on,), result=lambda rows: _stored_view(queries.stored_list(rows), on)
    )


def _stored_view(stored: queries.StoredList, on: date) -> MedicationListOut:
    return _clinician_view(
        stored.version,
        stored.updated_at,
        stored.entries.values(),
        stored.last_reconciled,
        on,
        prescriptions=stored.prescriptions,
    )


async def replace_list(
    grant: Grant,
    if_match: str | None,
    data: MedicationListIn,
    *,
    jo_prefixes: tuple[str, ...],
) -> MedicationListOut:
    """Write the whole list read at If-Match's version: 428/412 stale, 409 missing entries, 403 outside rights.

    The list is read and compared without a lock: a version's entries never change, so refusals and
    unchanged lists need no transaction. A change then locks the list row (FOR UPDATE) and writes only
    when the version is still the one compared against, in one statement (`queries.store_version`);
    otherwise another writer won, nothing was written, and this one gets 412.
    """
    principal = clinician_of(grant)
    on = today()
    submitted = normalise_entries(data.entries, on)
    async with DB.connection() as connection:
        stored = await queries.read_list(connection, grant.patient_id, on)
    version, current = stored.version, stored.entries
    require_if_match(if_match, version, resource="medication list")
    sent = {entry.id for entry in submitted}
    missing = sorted(
        str(entry_id) for entry_id, entry in current.items() if entry_id not in sent and is_visible(entry, on)
    )
    if missing:
        raise Conflict(
            f"{len(missing)} entries of version {version} are missing; send back every entry you read, "
            "stopping an entry instead of leaving it out",
            extra={"missingIds": missing, "currentVersion": version},
        )
    own = Prescriber(hpr=principal.hpr, name=principal.name)
    written: list[MedicationEntry] = []
    closed: list[uuid.UUID] = []
    for entry in submitted:
        before = current.get(entry.id)
        if entry.prescriber is None:
            entry = msgspec.structs.replace(entry, prescriber=before.prescriber if before else own)  # noqa: PLW2901
        if before is None:
            written.append(entry)
        elif entry != before:
            written.append(entry)
            closed.append(entry.id)
    if rights_of(principal.authorization) == "listed":
        await _require_midwife_rights(grant, written, current, jo_prefixes)
    if not written:
        return _clinician_view(
            version,
            stored.updated_at,
            current.values(),
            stored.last_reconciled,
            on,
            prescriptions=stored.prescriptions,
        )
    now = utcnow()
    async with DB.transaction(), DB.connection() as connection:
        if version == 0:
            await queries.lock_list(connection, grant.patient_id)  # the first write creates the list row
        # Locks the list and writes only if it is still at the version read (one statement).
        locked = await queries.store_version(
            connection,
            patient_id=grant.patient_id,
            version=version + 1,
            author=Author.of(principal),
            closed=closed,
            written=written,
            at=now,
        )
        # Another writer committed since our read: its version is not the one this change was built on.
        require_if_match(if_match, locked.version, resource="medication list")
        # Prescription rows before the patient's event row: the order every prescription write locks in.
        cancelled = await _cancel_prescriptions_of_stopped(connection, grant, written, on)
        await events.append_event(grant.patient_id, events.EventType.MEDICATIONS_UPDATED, locked.id)
    merged = {**current, **{entry.id: entry for entry in written}}
    return _clinician_view(
        version + 1,
        now,
        merged.values(),
        stored.last_reconciled,
        on,
        prescriptions={
            entry_id: msgspec.structs.replace(summary, status="cancelled") if summary.id in cancelled else summary
            for entry_id, summary in stored.prescriptions.items()
        },
    )


async def _cancel_prescriptions_of_stopped(
    connection: queries.Connection, grant: Grant, written: Sequence[MedicationEntry], on: date
) -> set[uuid.UUID]:
    """In the list write's transaction: an entry this write stopped takes its active prescription with it (the ids
    cancelled, so the answer shows them cancelled without another read)."""
    cancelled = await queries_prescriptions.cancel_active_of_entries(
        connection,
        grant.patient_id,
        on,
        [entry.id for entry in written if not is_active(entry, on)],
        reason=CANCELLED_WITH_ENTRY,
        by_hpr=clinician_of(grant).hpr,
        at=utcnow(),
    )
    for prescription_id in cancelled:
        await events.append_event(grant.patient_id, events.EventType.PRESCRIPTION_CANCELLED, prescription_id)
    return set(cancelled)


async def _require_midwife_rights(
    grant: Grant,
    written: Sequence[MedicationEntry],
    current: Mapping[uuid.UUID, MedicationEntry],
    prefixes: tuple[str, ...],
) -> None:
    """A midwife (JO) may add, change or stop only entries whose ATC code, before and after, is on her list.

    Her access was granted (she may write the list); what she wrote decides: an audited refusal, then 403.
    """
    outside = sorted(
        {
            str(entry.id)
            for entry in written
            if not within(entry.atc, prefixes) or (entry.id in current and not within(current[entry.id].atc, prefixes))
        }
    )
    if outside:
        await refuse(
            grant,
            "a midwife (JO) may add, change or stop only entries whose ATC code is on the midwives' list; "
            f"outside it: {', '.join(outside)}",
            extra={"entryIds": outside},
        )


# --- citizen ------------------------------------------------------------------------------------------


# The resource types of the events that change what her list shows (the list, its samstemming and discrepancy
# reports, prescriptions and renewal requests): every write she may see to any of them changes its ETag.
CITIZEN_LIST_RESOURCE_TYPES = (
    "medication-list",
    "medication-reconciliation",
    "medication-discrepancy",
    "prescription",
    "renewal-request",
)


async def citizen_list_state(connection: queries.Connection, me: Grant) -> State:
    """What her list's ETag is derived from (core/conditional.py): her visible changes to it, and the date (an
    entry stopped more than 90 days ago leaves it, a prescription past its validUntil is expired)."""
    return State((await events.last_visible_change(connection, me.patient_id, CITIZEN_LIST_RESOURCE_TYPES), today()))


async def citizen_list(me: Grant) -> CitizenMedicationList:
    """Her current entries, those stopped within 90 days (newest stop first, with why), and the last samstemming."""
    on = today()
    async with DB.connection() as connection:
        stored = await queries.read_list(connection, me.patient_id, on)
    entries = _with_prescriptions(stored.entries.values(), stored.prescriptions)
    current = sorted((entry for entry in entries if is_active(entry, on)), key=display_order)
    stopped = sorted(
        (entry for entry in entries if not is_active(entry, on) and is_visible(entry, on)),
        key=lambda entry: (entry.stopped_at or on, entry.name.casefold()),
        reverse=True,
    )
    return CitizenMedicationList(
        version=stored.version,
        updated_at=stored.updated_at,
        entries=current,
        recently_stopped=stopped,
        last_reconciled=stored.last_reconciled,
    )
