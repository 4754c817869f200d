"""Every SQL statement of the medication list: functions of a connection and plain values, typed results.

Reached only with `grant.patient_id` (the services take the `Grant`) or by the demo loader; every statement
names the patient. The list of a patient is one `medication_list` row (the head, locked by every writer)
and entry versions valid from one list version to another (tables.py says why); version N is the rows
with `from_version <= N AND (to_version IS NULL OR to_version > N)`.

A statement that names a key the schema may change to `(patient_id, id)`: `lock_list`
(`ON CONFLICT (patient_id)`, the one list per patient).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

import msgspec

from backend.core.audit import Author
from backend.medications.prescription_status import status_sql
from backend.medications.schemas import (
    DiscrepancyOut,
    Dose,
    MedicationEntry,
    Prescriber,
    PrescriptionSummary,
    ReconciliationOut,
)

Connection = Any  # an asyncpg connection (or the transaction's)

_ENTRY_COLUMNS = (
    "entry_id",
    "name",
    "atc",
    "form",
    "strength",
    "dosage",
    "dose",
    "reason",
    "kind",
    "started_at",
    "stopped_at",
    "stop_reason",
    "prescriber_hpr",
    "prescriber_name",
)
# Who wrote a list version or a samstemming, named as `Author.from_row(row, "by_")` reads it.
_BY = "hpr AS by_hpr, name AS by_name, profession AS by_authorization, org_number AS by_org, org_kind AS by_org_kind"


def _author_values(author: Author) -> tuple[str, str | None, str, str, str]:
    """The author as the tables store it: hpr, name, profession, org_number, org_kind."""
    return (author.hpr, author.name, author.authorization, author.organisation, author.org_kind)


def _entry(row: Mapping[str, Any]) -> MedicationEntry:
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


def _reconciliation(row: Mapping[str, Any], id_column: str = "id") -> ReconciliationOut:
    return ReconciliationOut(
        id=row[id_column],
        version=row["list_version"],
        reconciled_at=row["reconciled_at"],
        by=Author.from_row(row, "by_"),
        sources=list(row["sources"]),
        note=row["note"],
    )


def _discrepancy(row: Mapping[str, Any]) -> DiscrepancyOut:
    return DiscrepancyOut(**row)  # the statements name their columns as the struct's fields


# --- the list: head, current entries, one version ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredList:
    """The current list as one statement saw it: version, entries of that version, last samstemming, and each
    entry's current prescription (kept apart from the entries: a list write compares entries as stored)."""

    version: int
    updated_at: datetime | None
    entries: dict[uuid.UUID, MedicationEntry]
    last_reconciled: ReconciliationOut | None
    prescriptions: dict[uuid.UUID, PrescriptionSummary]


def _read_list_sql(patient: str, on: str) -> str:
    return f"""
SELECT l.version, l.updated_at, {", ".join("e." + column for column in _ENTRY_COLUMNS)},
       r.id AS reconciliation_id, r.list_version, r.reconciled_at, r.sources, r.note, r.hpr AS by_hpr,
       r.name AS by_name, r.profession AS by_authorization, r.org_number AS by_org, r.org_kind AS by_org_kind,
       rx.id AS rx_id, rx.valid_until AS rx_valid_until, rx.status AS rx_status
FROM medication_list l
LEFT JOIN medication_entry_version e  -- the head's version is the open rows (medication_entry_current), however
       ON e.patient_id = l.patient_id AND e.to_version IS NULL  -- many closed ones the list's history has
LEFT JOIN LATERAL (  -- the entry's current prescription: its newest
    SELECT p.id, p.valid_until, {status_sql("p", on)} AS status FROM prescription p
    WHERE p.patient_id = e.patient_id AND p.entry_id = e.entry_id ORDER BY p.created_at DESC, p.id DESC LIMIT 1
) rx ON true
LEFT JOIN LATERAL (
    SELECT * FROM medication_reconciliation
    WHERE patient_id = l.patient_id ORDER BY reconciled_at DESC, id LIMIT 1
) r ON true
WHERE l.patient_id = {patient}
"""  # noqa: S608 - constant column names and placeholders


_READ_LIST = _read_list_sql("$1", "$2::date")
# The same statement as a read in the access decision's (core.access.Read): the decision's patient; $1 the date.
READ_LIST_IN_DECISION = _read_list_sql("access.patient_id", "$1::date")


async def read_list(connection: Connection, patient_id: uuid.UUID, on: date) -> StoredList:
    """The head, its entries, the last reconciliation and the entries' prescriptions (their status on the date
    `on`) in one statement, so they are one consistent snapshot."""
    return stored_list(await connection.fetch(_READ_LIST, patient_id, on))


def stored_list(rows: Sequence[Mapping[str, Any]]) -> StoredList:
    """The list from the rows of `read_list`'s statement (or READ_LIST_IN_DECISION's)."""
    if not rows:
        return StoredList(version=0, updated_at=None, entries={}, last_reconciled=None, prescriptions={})
    first = rows[0]
    return StoredList(
        version=first["version"],
        updated_at=first["updated_at"],
        entries={row["entry_id"]: _entry(row) for row in rows if row["entry_id"] is not None},
        last_reconciled=_reconciliation(first, "reconciliation_id") if first["reconciliation_id"] is not None else None,
        prescriptions={
            row["entry_id"]: PrescriptionSummary(
                id=row["rx_id"], status=row["rx_status"], valid_until=row["rx_valid_until"]
            )
            for row in rows
            if row["rx_id"] is not None
        },
    )


_ENTRIES_AS_OF = f"""
SELECT {", ".join(_ENTRY_COLUMNS)} FROM medication_entry_version
WHERE patient_id = $1 AND from_version <= $2 AND (to_version IS NULL OR to_version > $2)
"""  # noqa: S608 - a constant column list


async def entries_as_of(
    connection: Connection, patient_id: uuid.UUID, version: int
) -> dict[uuid.UUID, MedicationEntry]:
    """Version N of the list. Committed rows of version ≤ N never change, so no snapshot is needed."""
    if version == 0:
        return {}
    rows = await connection.fetch(_ENTRIES_AS_OF, patient_id, version)
    return {row["entry_id"]: _entry(row) for row in rows}


class Head(NamedTuple):
    version: int
    updated_at: datetime | None


async def head(connection: Connection, patient_id: uuid.UUID) -> Head:
    """The current version (0 for a patient without a list)."""
    row = await connection.fetchrow("SELECT version, updated_at FROM medication_list WHERE patient_id = $1", patient_id)
    return Head(row["version"], row["updated_at"]) if row is not None else Head(0, None)


class LockedList(NamedTuple):
    id: uuid.UUID
    version: int


_LOCK = "SELECT id, version FROM medication_list WHERE patient_id = $1 FOR UPDATE"


async def lock_list(connection: Connection, patient_id: uuid.UUID) -> LockedList:
    """Lock the patient's list row for this transaction (creating it at version 0): writers queue here."""
    row = await connection.fetchrow(_LOCK, patient_id)
    if row is None:
        await connection.execute(
            """
            INSERT INTO medication_list (id, patient_id, version, updated_at) VALUES ($1, $2, 0, NULL)
            ON CONFLICT (patient_id) DO NOTHING
            """,
            uuid.uuid4(),
            patient_id,
        )
        row = await connection.fetchrow(_LOCK, patient_id)
    return LockedList(row["id"], row["version"])


# One list version: close the changed entries' rows, add their new rows, name the author, move the head. Every
# write below is guarded by `at_version`: the head, locked here (FOR UPDATE, so writers of this list queue), is
# still at $2 - 1. Under READ COMMITTED the lock returns the newest committed head, so a writer that got in
# first leaves `at_version` empty and this statement writes nothing (the caller answers 412).
_STORE_VERSION = """
WITH locked AS (
    SELECT id, version FROM medication_list WHERE patient_id = $1 FOR UPDATE
), at_version AS (
    SELECT id FROM locked WHERE version = $2 - 1
), closed AS (
    UPDATE medication_entry_version SET to_version = $2
    WHERE patient_id = $1 AND entry_id = ANY($3::uuid[]) AND to_version IS NULL AND EXISTS (SELECT FROM at_version)
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
    FROM closed_count, at_version,
         unnest($4::uuid[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],
                $12::text[], $13::date[], $14::date[], $15::text[], $16::text[], $17::text[])
         AS u(entry_id, name, atc, form, strength, dosage, dose, reason, kind, started_at, stopped_at,
              stop_reason, prescriber_hpr, prescriber_name)
    RETURNING 1
), author AS (
    INSERT INTO medication_list_version (patient_id, version, created_at, hpr, name, profession, org_number, org_kind)
    SELECT $1, $2, $18, $19, $20, $21, $22, $23 FROM at_version
    RETURNING 1
), head AS (
    UPDATE medication_list SET version = $2, updated_at = $18
    WHERE patient_id = $1 AND id IN (SELECT id FROM at_version)
      AND (SELECT count(*) FROM added) >= 0 AND (SELECT count(*) FROM author) = 1
    RETURNING 1
)
SELECT l.id, l.version, (SELECT count(*) FROM head) AS stored FROM locked l
"""


async def store_version(
    connection: Connection,
    *,
    patient_id: uuid.UUID,
    version: int,
    author: Author,
    closed: Sequence[uuid.UUID],
    written: Sequence[MedicationEntry],
    at: datetime,
) -> LockedList:
    """Lock the list and, when it is still at `version - 1`, store version `version` in the same statement: close
    the changed entries' rows, add their new rows, name the author. The head as locked (its version before this
    write when stored; a newer one, with nothing written, when another writer got in first).

    The list row must exist (`lock_list` creates it); runs in the write's transaction, which holds the lock.
    """
    row = await connection.fetchrow(
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
        *_author_values(author),
    )
    if row is None:
        raise LookupError("the medication list row is missing; lock_list creates it")
    return LockedList(row["id"], row["version"])


# --- history --------------------------------------------------------------------------------------------


class ListVersion(NamedTuple):
    """A `medication_list_version` row: who made version N, and when."""

    version: int
    at: datetime
    by: Author


def _list_version(row: Mapping[str, Any]) -> ListVersion:
    return ListVersion(row["version"], row["created_at"], Author.from_row(row, "by_"))


async def list_versions(
    connection: Connection, patient_id: uuid.UUID, *, before: int | None, limit: int
) -> list[ListVersion]:
    """Versions newest first, below `before` when given (a keyset page: the caller asks for one more than it shows)."""
    rows = await connection.fetch(
        f"""
        SELECT version, created_at, {_BY} FROM medication_list_version
        WHERE patient_id = $1 AND ($2::int IS NULL OR version < $2) ORDER BY version DESC LIMIT $3
        """,  # noqa: S608 - constant column names
        patient_id,
        before,
        limit,
    )
    return [_list_version(row) for row in rows]


async def list_version(connection: Connection, patient_id: uuid.UUID, version: int) -> ListVersion | None:
    """Who made this version (None for version 0, which nobody wrote)."""
    row = await connection.fetchrow(
        f"""
        SELECT version, created_at, {_BY} FROM medication_list_version WHERE patient_id = $1 AND version = $2
        """,  # noqa: S608 - constant column names
        patient_id,
        version,
    )
    return _list_version(row) if row is not None else None


class TouchedEntry(NamedTuple):
    """An entry row a version wrote, with what the entry was just before (`existed`, `stopped_before`)."""

    version: int
    entry_id: uuid.UUID
    name: str
    stopped_at: date | None
    existed: bool
    stopped_before: date | None


async def touched_entries(connection: Connection, patient_id: uuid.UUID, versions: Sequence[int]) -> list[TouchedEntry]:
    """The entries each of these versions wrote, by version and then name."""
    rows = await connection.fetch(
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
        list(versions),
    )
    return [
        TouchedEntry(
            row["from_version"], row["entry_id"], row["name"], row["stopped_at"], row["existed"], row["stopped_before"]
        )
        for row in rows
    ]


# --- samstemming ----------------------------------------------------------------------------------------


async def insert_reconciliation(
    connection: Connection,
    *,
    patient_id: uuid.UUID,
    version: int,
    author: Author,
    sources: Sequence[str],
    note: str | None,
    at: datetime,
) -> ReconciliationOut:
    row = await connection.fetchrow(
        f"""
        INSERT INTO medication_reconciliation (id, patient_id, list_version, reconciled_at, hpr, name, profession,
                                               org_number, org_kind, sources, note)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        RETURNING id, list_version, reconciled_at, sources, note, {_BY}
        """,  # noqa: S608 - constant column names
        uuid.uuid4(),
        patient_id,
        version,
        at,
        *_author_values(author),
        list(sources),
        note,
    )
    return _reconciliation(row)


# --- discrepancies --------------------------------------------------------------------------------------


async def discrepancies(
    connection: Connection,
    patient_id: uuid.UUID,
    *,
    before: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[DiscrepancyOut]:
    """The citizen's reports newest first, below `before` (reported_at, id) when given, with the entry's current name."""
    before_at, before_id = before if before is not None else (None, None)
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
        patient_id,
        before_at,
        before_id,
        limit,
    )
    return [_discrepancy(row) for row in rows]


class CurrentEntry(NamedTuple):
    """An entry as the current list has it, and the list's version."""

    name: str
    atc: str
    list_version: int


async def current_entry(connection: Connection, patient_id: uuid.UUID, entry_id: uuid.UUID) -> CurrentEntry | None:
    row = await connection.fetchrow(
        """
        SELECT e.name, e.atc, l.version FROM medication_entry_version e
        JOIN medication_list l ON l.patient_id = e.patient_id
        WHERE e.patient_id = $1 AND e.entry_id = $2 AND e.to_version IS NULL
        """,
        patient_id,
        entry_id,
    )
    return CurrentEntry(row["name"], row["atc"], row["version"]) if row is not None else None


async def insert_discrepancy(
    connection: Connection,
    *,
    discrepancy_id: uuid.UUID,
    patient_id: uuid.UUID,
    entry_id: uuid.UUID,
    entry: CurrentEntry,
    kind: str,
    note: str | None,
    at: datetime,
    alert_id: uuid.UUID,
) -> DiscrepancyOut:
    row = await connection.fetchrow(
        """
        INSERT INTO medication_discrepancy (id, patient_id, entry_id, list_version, kind, note, reported_at, alert_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        RETURNING id, entry_id, $9::text AS entry_name, $10::text AS atc, kind, note, reported_at, list_version
        """,
        discrepancy_id,
        patient_id,
        entry_id,
        entry.list_version,
        kind,
        note,
        at,
        alert_id,
        entry.name,
        entry.atc,
    )
    return _discrepancy(row)
