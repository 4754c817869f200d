"""Rules of the shared medication list: read-before-write versions, prescribing rights, history, samstemming, discrepancies.

The list of a patient is one `medication_list` row (the current version, locked by every writer) and
entry versions (see tables.py for why entry versions and not snapshots). A write names the version it
read (If-Match), sends the whole list back, and changes only the entries that differ; every change
makes a new list version with its author. Entries are never removed, only stopped; a stopped entry
leaves the current view 90 days after its stop date but stays in every version of the history.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import msgspec

from backend.core import alerts, events
from backend.core.access import Grant, Need, Role, authorize, refuse
from backend.core.auth import AUTHORIZATIONS, ClinicianPrincipal
from backend.core.clock import OSLO, utcnow
from backend.core.concurrency import require_if_match
from backend.core.db import DB
from backend.core.errors import BadRequest, Conflict, NotFound
from backend.core.paging import BeforeTimeAndId, Int32, Position, clamp_limit, decode_cursor, encode_cursor
from backend.medications.atc import InvalidAtcCode, validate_entry_atc, within
from backend.medications.prescribing import rights_of
from backend.medications.schemas import (
    CitizenMedicationList,
    DiscrepancyIn,
    DiscrepancyOut,
    DiscrepancyPage,
    Dose,
    EntryChangeKind,
    EntryDiff,
    FieldChange,
    ListAuthor,
    ListDiff,
    ListVersionDetail,
    ListVersionOut,
    ListWarning,
    MedicationEntry,
    MedicationHistory,
    MedicationListIn,
    MedicationListOut,
    Prescriber,
    ReconciliationIn,
    ReconciliationOut,
    VersionChange,
)

RESOURCE_LIST = "medication-list"
RESOURCE_RECONCILIATION = "medication-reconciliation"
RESOURCE_DISCREPANCY = "medication-discrepancy"

# A stopped entry stays in the current view this many days after its stop date (CLINICAL.md).
STOPPED_VISIBLE_DAYS = 90
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DAYS_AHEAD = 5 * 366


def today() -> date:
    """The calendar date in Norway now (stop dates are Norwegian dates)."""
    return utcnow().astimezone(OSLO).date()


def is_visible(entry: MedicationEntry, on: date) -> bool:
    """Active, or stopped no more than 90 days before `on`."""
    return entry.stopped_at is None or on <= entry.stopped_at + timedelta(days=STOPPED_VISIBLE_DAYS)


def is_active(entry: MedicationEntry, on: date) -> bool:
    """Not stopped yet (a stop date in the future is a planned stop)."""
    return entry.stopped_at is None or entry.stopped_at > on


# --- validation ---------------------------------------------------------------------------------------


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    stripped = text.strip()
    return stripped or None


def normalise_entries(entries: Sequence[MedicationEntry], on: date) -> list[MedicationEntry]:
    """Trim texts and check every rule msgspec cannot: 400 naming each offending field, nothing stored."""
    problems: list[dict[str, str]] = []
    seen: dict[uuid.UUID, int] = {}
    latest = on + timedelta(days=LATEST_DAYS_AHEAD)
    cleaned: list[MedicationEntry] = []

    def problem(index: int, field: str, message: str) -> None:
        problems.append({"field": f"entries[{index}].{field}", "message": message})

    for index, entry in enumerate(entries):
        if entry.id in seen:
            problem(index, "id", f"the entry id {entry.id} is also used by entries[{seen[entry.id]}]")
        seen.setdefault(entry.id, index)
        name = _clean(entry.name)
        if name is None:
            problem(index, "name", "give the medicine's name")
        try:
            validate_entry_atc(entry.atc)
        except InvalidAtcCode as exc:
            problem(index, "atc", str(exc))
        if not EARLIEST_DATE <= entry.started_at <= latest:
            problem(index, "startedAt", f"startedAt must lie between {EARLIEST_DATE} and {latest}")
        stop_reason = _clean(entry.stop_reason)
        if entry.stopped_at is not None:
            if entry.stopped_at < entry.started_at:
                problem(index, "stoppedAt", "stoppedAt must be on or after startedAt")
            elif entry.stopped_at > latest:
                problem(index, "stoppedAt", f"stoppedAt must be on or before {latest}")
            if stop_reason is None:
                problem(index, "stopReason", "a stopped entry needs its stop reason")
        elif stop_reason is not None:
            problem(index, "stoppedAt", "stopReason is given but stoppedAt is not: give the stop date too")
        if entry.dose is not None:
            if not entry.dose.as_needed and entry.dose.times_per_day is None:
                problem(index, "dose.timesPerDay", "a regular dose needs timesPerDay (or asNeeded: true)")
            if not entry.dose.unit.strip():
                problem(index, "dose.unit", "give the dose unit")
        cleaned.append(
            msgspec.structs.replace(
                entry,
                name=name or entry.name,
                form=_clean(entry.form),
                strength=_clean(entry.strength),
                dosage=_clean(entry.dosage),
                reason=_clean(entry.reason),
                stop_reason=stop_reason,
            )
        )
    if problems:
        first = problems[0]
        raise BadRequest(f"{first['field']}: {first['message']}", field=first["field"], errors=problems)
    return cleaned


def _strength_key(strength: str | None) -> str:
    return "".join((strength or "").split()).casefold()


def duplicate_warnings(entries: Iterable[MedicationEntry], on: date) -> list[ListWarning]:
    """Active entries with the same ATC code and strength: probably one medicine entered twice."""
    groups: dict[tuple[str, str], list[MedicationEntry]] = {}
    for entry in entries:
        if is_active(entry, on):
            groups.setdefault((entry.atc, _strength_key(entry.strength)), []).append(entry)
    return [
        ListWarning(
            code="duplicate-active",
            message=f"{len(group)} active entries have ATC {atc} and the same strength; is one a duplicate?",
            atc=atc,
            strength=group[0].strength,
            entry_ids=[entry.id for entry in group],
        )
        for (atc, _), group in sorted(groups.items())
        if len(group) > 1
    ]


def _display_order(entry: MedicationEntry) -> tuple[bool, str, str]:
    return (entry.stopped_at is not None, entry.name.casefold(), str(entry.id))


# --- storage ------------------------------------------------------------------------------------------

_ENTRY_COLUMNS = """entry_id, name, atc, form, strength, dosage, dose, reason, kind, started_at, stopped_at,
                   stop_reason, prescriber_hpr, prescriber_name"""


def _entry_from_row(row: Mapping[str, Any]) -> MedicationEntry:
    dose = row["dose"]
    return MedicationEntry(
        id=row["entry_id"],
        name=row["name"],
        atc=row["atc"],
        kind=row["kind"],
        started_at=row["started_at"],
        form=row["form"],
        strength=row["strength"],
        dosage=row["dosage"],
        dose=msgspec.json.decode(dose, type=Dose) if dose is not None else None,
        reason=row["reason"],
        stopped_at=row["stopped_at"],
        stop_reason=row["stop_reason"],
        prescriber=(
            Prescriber(hpr=row["prescriber_hpr"], name=row["prescriber_name"])
            if row["prescriber_hpr"] is not None
            else None
        ),
    )


async def _entries_as_of(connection: Any, patient_id: uuid.UUID, version: int) -> dict[uuid.UUID, MedicationEntry]:
    """Version N of the list. Committed rows of version ≤ N never change, so no snapshot is needed."""
    if version == 0:
        return {}
    rows = await connection.fetch(
        f"""
        SELECT {_ENTRY_COLUMNS} FROM medication_entry_version
        WHERE patient_id = $1 AND from_version <= $2 AND (to_version IS NULL OR to_version > $2)
        """,  # noqa: S608 - a constant column list
        patient_id,
        version,
    )
    return {row["entry_id"]: _entry_from_row(row) for row in rows}


@dataclass(frozen=True, slots=True)
class StoredList:
    """The current list as one statement saw it: version, entries of that version, last samstemming."""

    version: int
    updated_at: datetime | None
    entries: dict[uuid.UUID, MedicationEntry]
    last_reconciled: ReconciliationOut | None


_READ_LIST = f"""
SELECT l.version, l.updated_at, {", ".join("e." + column.strip() for column in _ENTRY_COLUMNS.split(","))},
       r.id AS reconciliation_id, r.list_version, r.reconciled_at, r.hpr, r.name AS reconciler_name, r.profession,
       r.org_number, r.org_kind, r.sources, r.note
FROM medication_list l
LEFT JOIN medication_entry_version e
       ON e.patient_id = l.patient_id AND e.from_version <= l.version AND (e.to_version IS NULL OR e.to_version > l.version)
LEFT JOIN LATERAL (
    SELECT * FROM medication_reconciliation
    WHERE patient_id = l.patient_id ORDER BY reconciled_at DESC, id LIMIT 1
) r ON true
WHERE l.patient_id = $1
"""  # noqa: S608 - constant column names


async def _read_list(connection: Any, patient_id: uuid.UUID) -> StoredList:
    """The head, its entries and the last reconciliation in one statement, so they are one consistent snapshot."""
    rows = await connection.fetch(_READ_LIST, patient_id)
    if not rows:
        return StoredList(version=0, updated_at=None, entries={}, last_reconciled=None)
    first = rows[0]
    last = None
    if first["reconciliation_id"] is not None:
        last = ReconciliationOut(
            id=first["reconciliation_id"],
            version=first["list_version"],
            reconciled_at=first["reconciled_at"],
            by=ListAuthor(
                hpr=first["hpr"],
                name=first["reconciler_name"],
                authorization=first["profession"],
                organisation=first["org_number"],
                org_kind=first["org_kind"],
            ),
            sources=list(first["sources"]),
            note=first["note"],
        )
    return StoredList(
        version=first["version"],
        updated_at=first["updated_at"],
        entries={row["entry_id"]: _entry_from_row(row) for row in rows if row["entry_id"] is not None},
        last_reconciled=last,
    )


async def _lock_list(connection: Any, patient_id: uuid.UUID) -> tuple[uuid.UUID, int]:
    """Lock the patient's list row for this transaction (creating it at version 0): writers queue here."""
    row = await connection.fetchrow(
        "SELECT id, version FROM medication_list WHERE patient_id = $1 FOR UPDATE", patient_id
    )
    if row is None:
        await connection.execute(
            """
            INSERT INTO medication_list (id, patient_id, version, updated_at) VALUES ($1, $2, 0, NULL)
            ON CONFLICT (patient_id) DO NOTHING
            """,
            uuid.uuid4(),
            patient_id,
        )
        row = await connection.fetchrow(
            "SELECT id, version FROM medication_list WHERE patient_id = $1 FOR UPDATE", patient_id
        )
    return row["id"], row["version"]


async def _head(connection: Any, patient_id: uuid.UUID) -> tuple[int, datetime | None]:
    row = await connection.fetchrow("SELECT version, updated_at FROM medication_list WHERE patient_id = $1", patient_id)
    return (row["version"], row["updated_at"]) if row is not None else (0, None)


def _author(row: Mapping[str, Any]) -> ListAuthor:
    return ListAuthor(
        hpr=row["hpr"],
        name=row["name"],
        authorization=row["profession"],
        organisation=row["org_number"],
        org_kind=row["org_kind"],
    )


def _reconciliation_from_row(row: Mapping[str, Any]) -> ReconciliationOut:
    return ReconciliationOut(
        id=row["id"],
        version=row["list_version"],
        reconciled_at=row["reconciled_at"],
        by=_author(row),
        sources=list(row["sources"]),
        note=row["note"],
    )


_STORE_VERSION = """
WITH closed AS (
    UPDATE medication_entry_version SET to_version = $2
    WHERE patient_id = $1 AND entry_id = ANY($3::uuid[]) AND to_version IS NULL
    RETURNING 1
), closed_count AS (
    -- Aggregating `closed` makes the old rows close before any new row is inserted (one current row per entry).
    SELECT count(*) AS n FROM closed
), added AS (
    INSERT INTO medication_entry_version (patient_id, entry_id, from_version, to_version, name, atc, form, strength,
                                          dosage, dose, reason, kind, started_at, stopped_at, stop_reason,
                                          prescriber_hpr, prescriber_name)
    SELECT $1, u.entry_id, $2, NULL, u.name, u.atc, u.form, u.strength, u.dosage, u.dose::jsonb, u.reason,
           u.kind, u.started_at, u.stopped_at, u.stop_reason, u.prescriber_hpr, u.prescriber_name
    FROM closed_count,
         unnest($4::uuid[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],
                $12::text[], $13::date[], $14::date[], $15::text[], $16::text[], $17::text[])
         AS u(entry_id, name, atc, form, strength, dosage, dose, reason, kind, started_at, stopped_at,
              stop_reason, prescriber_hpr, prescriber_name)
    RETURNING 1
), author AS (
    INSERT INTO medication_list_version (patient_id, version, created_at, hpr, name, profession, org_number, org_kind)
    VALUES ($1, $2, $18, $19, $20, $21, $22, $23)
    RETURNING 1
)
UPDATE medication_list SET version = $2, updated_at = $18
WHERE patient_id = $1 AND (SELECT count(*) FROM added) >= 0 AND (SELECT count(*) FROM author) = 1
"""


async def _store_version(
    connection: Any,
    *,
    patient_id: uuid.UUID,
    list_id: uuid.UUID,
    version: int,
    author: ClinicianPrincipal,
    closed: Sequence[uuid.UUID],
    written: Sequence[MedicationEntry],
    at: datetime,
) -> None:
    """One new list version in one statement: close the changed entries' rows, add their new rows, name the author."""
    await connection.execute(
        _STORE_VERSION,
        patient_id,
        version,
        list(closed),
        [entry.id for entry in written],
        [entry.name for entry in written],
        [entry.atc for entry in written],
        [entry.form for entry in written],
        [entry.strength for entry in written],
        [entry.dosage for entry in written],
        [msgspec.json.encode(entry.dose).decode() if entry.dose is not None else None for entry in written],
        [entry.reason for entry in written],
        [entry.kind for entry in written],
        [entry.started_at for entry in written],
        [entry.stopped_at for entry in written],
        [entry.stop_reason for entry in written],
        [entry.prescriber.hpr if entry.prescriber else None for entry in written],
        [entry.prescriber.name if entry.prescriber else None for entry in written],
        at,
        author.hpr,
        author.name,
        author.authorization,
        author.org_number,
        author.org_kind,
    )
    await events.append_event(patient_id, events.EventType.MEDICATIONS_UPDATED, list_id)


# Who may change the list by HPR authorization (prescribing.rights_of): LE everything, JO her list, others read.
PRESCRIBER = Role(
    "only doctors (LE) and, within the midwives' list, midwives (JO) may change the medication list",
    authorizations=frozenset(a for a in AUTHORIZATIONS if rights_of(a) != "none"),
)
READ_LIST = Need(action="read", resource_type=RESOURCE_LIST)
WRITE_LIST = Need(action="write", resource_type=RESOURCE_LIST, role=PRESCRIBER)
RECONCILE = Need(action="write", resource_type=RESOURCE_RECONCILIATION, role=PRESCRIBER)
READ_DISCREPANCIES = Need(action="read", resource_type=RESOURCE_DISCREPANCY)


# --- clinician ----------------------------------------------------------------------------------------


def _clinician_view(
    version: int,
    updated_at: datetime | None,
    entries: Iterable[MedicationEntry],
    last_reconciled: ReconciliationOut | None,
    on: date,
) -> MedicationListOut:
    visible = sorted((entry for entry in entries if is_visible(entry, on)), key=_display_order)
    return MedicationListOut(
        version=version,
        updated_at=updated_at,
        entries=visible,
        warnings=duplicate_warnings(visible, on),
        last_reconciled=last_reconciled,
    )


async def read_list(principal: ClinicianPrincipal, patient_id: uuid.UUID) -> MedicationListOut:
    grant = await authorize(principal, patient_id, READ_LIST)
    on = today()
    async with DB.connection() as connection:
        stored = await _read_list(connection, grant.patient_id)
    return _clinician_view(stored.version, stored.updated_at, stored.entries.values(), stored.last_reconciled, on)


async def replace_list(
    principal: ClinicianPrincipal,
    patient_id: uuid.UUID,
    if_match: str | None,
    data: MedicationListIn,
    *,
    jo_prefixes: tuple[str, ...],
) -> MedicationListOut:
    """Write the whole list read at If-Match's version: 428/412 stale, 409 missing entries, 403 outside rights.

    The list is read and compared without a lock: a version's entries never change, so refusals and
    unchanged lists need no transaction. A change then locks the list row (FOR UPDATE) and writes only
    when the version is still the one compared against; otherwise another writer won and this one gets 412.
    """
    grant = await authorize(principal, patient_id, WRITE_LIST)
    on = today()
    submitted = normalise_entries(data.entries, on)
    async with DB.connection() as connection:
        stored = await _read_list(connection, grant.patient_id)
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
        return _clinician_view(version, stored.updated_at, current.values(), stored.last_reconciled, on)
    now = utcnow()
    async with DB.transaction(), DB.connection() as connection:
        list_id, locked_version = await _lock_list(connection, grant.patient_id)
        # Another writer committed since our read: its version is not the one this change was built on.
        require_if_match(if_match, locked_version, resource="medication list")
        await _store_version(
            connection,
            patient_id=grant.patient_id,
            list_id=list_id,
            version=version + 1,
            author=principal,
            closed=closed,
            written=written,
            at=now,
        )
    merged = {**current, **{entry.id: entry for entry in written}}
    return _clinician_view(version + 1, now, merged.values(), stored.last_reconciled, on)


async def _require_midwife_rights(
    grant: Grant,
    written: Sequence[MedicationEntry],
    current: Mapping[uuid.UUID, MedicationEntry],
    prefixes: tuple[str, ...],
) -> None:
    """A midwife (JO) may add, change or stop only entries whose ATC code, before and after, is on her list."""
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


def diff_versions(
    before: Mapping[uuid.UUID, MedicationEntry], after: Mapping[uuid.UUID, MedicationEntry], *, from_: int, to: int
) -> ListDiff:
    changed: list[EntryDiff] = []
    for entry_id, new in after.items():
        old = before.get(entry_id)
        if old is None or old == new:
            continue
        old_fields = msgspec.to_builtins(old)
        new_fields = msgspec.to_builtins(new)
        fields = [
            FieldChange(field=name, from_=old_fields.get(name), to=new_fields.get(name))
            for name in new_fields
            if old_fields.get(name) != new_fields.get(name)
        ]
        changed.append(EntryDiff(id=entry_id, name=new.name, fields=fields))
    return ListDiff(
        from_=from_,
        to=to,
        added=sorted((entry for key, entry in after.items() if key not in before), key=_display_order),
        removed=sorted((entry for key, entry in before.items() if key not in after), key=_display_order),
        changed=sorted(changed, key=lambda item: (item.name.casefold(), str(item.id))),
    )


class _BeforeVersion(Position):
    before: Int32


async def history(
    patient_id: uuid.UUID,
    *,
    cursor: str | None,
    limit: int | None,
    from_version: int | None,
    to_version: int | None,
) -> MedicationHistory:
    """The versions, newest first, with who made each and what it touched; a diff when from and to are given."""
    size = clamp_limit(limit)
    position = decode_cursor(cursor, _BeforeVersion)
    before = position.before if position else None
    if (from_version is None) != (to_version is None):
        missing = "from" if from_version is None else "to"
        raise BadRequest(f"{missing}: give both from and to to compare two versions", field=missing)
    async with DB.connection() as connection:
        current, _ = await _head(connection, patient_id)
        for name, value in (("from", from_version), ("to", to_version)):
            if value is not None and not 0 <= value <= current:
                raise BadRequest(f"{name}: must be a version between 0 and {current}", field=name)
        rows = await connection.fetch(
            """
            SELECT version, created_at, hpr, name, profession, org_number, org_kind FROM medication_list_version
            WHERE patient_id = $1 AND ($2::int IS NULL OR version < $2) ORDER BY version DESC LIMIT $3
            """,
            patient_id,
            before,
            size + 1,
        )
        page = rows[:size]
        touched = await connection.fetch(
            """
            SELECT e.from_version, e.entry_id, e.name, e.stopped_at, p.id IS NOT NULL AS existed,
                   p.stopped_at AS stopped_before
            FROM medication_entry_version e
            LEFT JOIN medication_entry_version p
                   ON p.patient_id = e.patient_id AND p.entry_id = e.entry_id AND p.to_version = e.from_version
            WHERE e.patient_id = $1 AND e.from_version = ANY($2::int[])
            ORDER BY e.from_version, lower(e.name), e.entry_id
            """,
            patient_id,
            [row["version"] for row in page],
        )
        diff = None
        if from_version is not None and to_version is not None:
            diff = diff_versions(
                await _entries_as_of(connection, patient_id, from_version),
                await _entries_as_of(connection, patient_id, to_version),
                from_=from_version,
                to=to_version,
            )
    changes: dict[int, list[VersionChange]] = {}
    for row in touched:
        kind: EntryChangeKind
        if not row["existed"]:
            kind = "added"
        elif row["stopped_before"] is None and row["stopped_at"] is not None:
            kind = "stopped"
        else:
            kind = "changed"
        changes.setdefault(row["from_version"], []).append(
            VersionChange(id=row["entry_id"], name=row["name"], change=kind)
        )
    return MedicationHistory(
        current_version=current,
        items=[
            ListVersionOut(
                version=row["version"], at=row["created_at"], by=_author(row), changes=changes.get(row["version"], [])
            )
            for row in page
        ],
        next=encode_cursor(_BeforeVersion(before=page[-1]["version"])) if len(rows) > size else None,
        diff=diff,
    )


async def list_version(patient_id: uuid.UUID, version: int) -> ListVersionDetail:
    """Version N of the list, reconstructed from the entry versions (404 beyond the current version)."""
    async with DB.connection() as connection:
        current, _ = await _head(connection, patient_id)
        if not 0 <= version <= current:
            raise NotFound(f"the list has versions 0 to {current}")
        row = await connection.fetchrow(
            """
            SELECT version, created_at, hpr, name, profession, org_number, org_kind FROM medication_list_version
            WHERE patient_id = $1 AND version = $2
            """,
            patient_id,
            version,
        )
        entries = await _entries_as_of(connection, patient_id, version)
    return ListVersionDetail(
        version=version,
        at=row["created_at"] if row is not None else None,
        by=_author(row) if row is not None else None,
        entries=sorted(entries.values(), key=_display_order),
    )


async def clinician_list_version(
    principal: ClinicianPrincipal, patient_id: uuid.UUID, version: int
) -> ListVersionDetail:
    grant = await authorize(principal, patient_id, READ_LIST)
    return await list_version(grant.patient_id, version)


async def clinician_history(
    principal: ClinicianPrincipal,
    patient_id: uuid.UUID,
    *,
    cursor: str | None,
    limit: int | None,
    from_version: int | None,
    to_version: int | None,
) -> MedicationHistory:
    grant = await authorize(principal, patient_id, READ_LIST)
    return await history(grant.patient_id, cursor=cursor, limit=limit, from_version=from_version, to_version=to_version)


async def _insert_reconciliation(
    connection: Any,
    *,
    patient_id: uuid.UUID,
    version: int,
    author: ClinicianPrincipal,
    sources: Sequence[str],
    note: str | None,
    at: datetime,
) -> ReconciliationOut:
    row = await connection.fetchrow(
        """
        INSERT INTO medication_reconciliation (id, patient_id, list_version, reconciled_at, hpr, name, profession,
                                               org_number, org_kind, sources, note)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        RETURNING id, list_version, reconciled_at, hpr, name, profession, org_number, org_kind, sources, note
        """,
        uuid.uuid4(),
        patient_id,
        version,
        at,
        author.hpr,
        author.name,
        author.authorization,
        author.org_number,
        author.org_kind,
        list(sources),
        note,
    )
    reconciliation = _reconciliation_from_row(row)
    await events.append_event(patient_id, events.EventType.MEDICATIONS_RECONCILED, reconciliation.id)
    return reconciliation


async def seed_list(
    patient_id: uuid.UUID,
    author: ClinicianPrincipal,
    versions: Sequence[tuple[datetime, Sequence[MedicationEntry]]],
    reconciliation: tuple[datetime, Sequence[str], str | None] | None = None,
) -> int | None:
    """Demo data and imports: write whole-list versions as `author` without the request checks.

    Does nothing and answers None when the patient already has a list; otherwise the last version.
    """
    async with DB.transaction(), DB.connection() as connection:
        list_id, version = await _lock_list(connection, patient_id)
        if version > 0:
            return None
        current: dict[uuid.UUID, MedicationEntry] = {}
        for at, entries in versions:
            written = [entry for entry in entries if current.get(entry.id) != entry]
            if not written:
                continue
            version += 1
            closed = [entry.id for entry in written if entry.id in current]
            await _store_version(
                connection, patient_id=patient_id, list_id=list_id, version=version, author=author, closed=closed,
                written=written, at=at,
            )  # fmt: skip
            current.update((entry.id, entry) for entry in written)
        if reconciliation is not None:
            at, sources, note = reconciliation
            await _insert_reconciliation(
                connection, patient_id=patient_id, version=version, author=author, sources=sources, note=note, at=at
            )
    return version


async def reconcile(
    principal: ClinicianPrincipal, patient_id: uuid.UUID, if_match: str | None, data: ReconciliationIn
) -> ReconciliationOut:
    """Record a samstemming of the current list (If-Match optional: when sent, it must be the current version)."""
    grant = await authorize(principal, patient_id, RECONCILE)
    if len(set(data.sources)) != len(data.sources):
        raise BadRequest("sources: name each source once", field="sources")
    note = _clean(data.note)
    now = utcnow()
    async with DB.transaction(), DB.connection() as connection:
        _, version = await _lock_list(connection, grant.patient_id)
        if if_match is not None:
            require_if_match(if_match, version, resource="medication list")
        reconciliation = await _insert_reconciliation(
            connection,
            patient_id=grant.patient_id,
            version=version,
            author=principal,
            sources=data.sources,
            note=note,
            at=now,
        )
    return reconciliation  # noqa: RET504 - returned outside the transaction block (mypy: it may swallow errors)


def _discrepancy_from_row(row: Mapping[str, Any]) -> DiscrepancyOut:
    return DiscrepancyOut(
        id=row["id"],
        entry_id=row["entry_id"],
        entry_name=row["entry_name"],
        atc=row["atc"],
        kind=row["kind"],
        note=row["note"],
        reported_at=row["reported_at"],
        list_version=row["list_version"],
    )


async def discrepancies(
    principal: ClinicianPrincipal, patient_id: uuid.UUID, *, cursor: str | None, limit: int | None
) -> DiscrepancyPage:
    """The citizen's reports on her entries, newest first: the GP's discrepancy list."""
    grant = await authorize(principal, patient_id, READ_DISCREPANCIES)
    size = clamp_limit(limit)
    position = decode_cursor(cursor, BeforeTimeAndId)
    before_at = position.at if position else None
    before_id = position.id if position else None
    async with DB.connection() as connection:
        rows = await connection.fetch(
            """
            SELECT d.id, d.entry_id, e.name AS entry_name, e.atc, d.kind, d.note, d.reported_at, d.list_version
            FROM medication_discrepancy d
            LEFT JOIN medication_entry_version e
                   ON e.patient_id = d.patient_id AND e.entry_id = d.entry_id AND e.to_version IS NULL
            WHERE d.patient_id = $1 AND ($2::timestamptz IS NULL OR (d.reported_at, d.id) < ($2, $3))
            ORDER BY d.reported_at DESC, d.id DESC
            LIMIT $4
            """,
            grant.patient_id,
            before_at,
            before_id,
            size + 1,
        )
    items = [_discrepancy_from_row(row) for row in rows[:size]]
    more = len(rows) > size
    return DiscrepancyPage(
        items=items,
        next=encode_cursor(BeforeTimeAndId(at=items[-1].reported_at, id=items[-1].id)) if more else None,
    )


# --- citizen ------------------------------------------------------------------------------------------


async def citizen_list(me: Grant) -> CitizenMedicationList:
    on = today()
    async with DB.connection() as connection:
        stored = await _read_list(connection, me.patient_id)
    version, updated_at, entries, last = stored.version, stored.updated_at, stored.entries, stored.last_reconciled
    current = sorted((entry for entry in entries.values() if is_active(entry, on)), key=_display_order)
    stopped = sorted(
        (entry for entry in entries.values() if not is_active(entry, on) and is_visible(entry, on)),
        key=lambda entry: (entry.stopped_at or on, entry.name.casefold()),
        reverse=True,
    )
    return CitizenMedicationList(
        version=version, updated_at=updated_at, entries=current, recently_stopped=stopped, last_reconciled=last
    )


async def citizen_list_version(me: Grant, version: int) -> ListVersionDetail:
    return await list_version(me.patient_id, version)


async def citizen_history(
    me: Grant, *, cursor: str | None, limit: int | None, from_version: int | None, to_version: int | None
) -> MedicationHistory:
    return await history(me.patient_id, cursor=cursor, limit=limit, from_version=from_version, to_version=to_version)


DISCREPANCY_SEVERITY: dict[str, alerts.Severity] = {"not-taking": "info", "side-effect": "warning", "other": "info"}
DISCREPANCY_WORDS = {
    "not-taking": "does not take",
    "side-effect": "reports a side effect of",
    "other": "has a remark on",
}


async def report_discrepancy(me: Grant, entry_id: uuid.UUID, data: DiscrepancyIn) -> DiscrepancyOut:
    """The citizen's report on one of her entries: stored, on the GP's list and alerts; the list is unchanged."""
    note = _clean(data.note)
    if data.kind == "other" and note is None:
        raise BadRequest("note: say what is wrong", field="note")
    now = utcnow()
    async with DB.transaction(), DB.connection() as connection:
        entry = await connection.fetchrow(
            """
            SELECT e.name, e.atc, l.version FROM medication_entry_version e
            JOIN medication_list l ON l.patient_id = e.patient_id
            WHERE e.patient_id = $1 AND e.entry_id = $2 AND e.to_version IS NULL
            """,
            me.patient_id,
            entry_id,
        )
        if entry is None:
            raise NotFound("no such entry on your medication list")
        discrepancy_id = uuid.uuid4()
        alert_id = await alerts.raise_alert(
            me.patient_id,
            kind="medication-discrepancy",
            severity=DISCREPANCY_SEVERITY[data.kind],
            message=f"The patient {DISCREPANCY_WORDS[data.kind]} {entry['name']} ({entry['atc']}) on the medication list",
            relation_kinds=["gp"],
            resource_type=RESOURCE_DISCREPANCY,
            resource_id=discrepancy_id,
        )
        row = await connection.fetchrow(
            """
            INSERT INTO medication_discrepancy (id, patient_id, entry_id, list_version, kind, note, reported_at, alert_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            RETURNING id, entry_id, $9::text AS entry_name, $10::text AS atc, kind, note, reported_at, list_version
            """,
            discrepancy_id,
            me.patient_id,
            entry_id,
            entry["version"],
            data.kind,
            note,
            now,
            alert_id,
            entry["name"],
            entry["atc"],
        )
        await events.append_event(me.patient_id, events.EventType.MEDICATIONS_DISCREPANCY_REPORTED, discrepancy_id)
    return _discrepancy_from_row(row)
