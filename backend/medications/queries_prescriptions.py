"""Every SQL statement of the prescriptions (SFM): prescriptions, dispensings, renewal requests, the reminder job.

Reached only with `grant.patient_id` (the services take the `Grant`), by the reminder job one patient at a time,
or by the demo loader; every statement names the patient but two reads that cannot start from one: the request id
→ patient lookup (`renewal_request_key`, keyed by the request id) and the GP's inbox (the organisation's patients,
as core's alert list finds them). Statuses come from `prescription_status`, never from a stored column.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from backend.core.audit import Author
from backend.core.rows import typed_row_or_none
from backend.medications.prescription_status import is_active_sql, status_sql
from backend.medications.schemas import (
    CatalogueItem,
    PrescribedMedication,
    Prescriber,
    PrescriberOut,
    PrescriptionEvent,
    PrescriptionOut,
    PrescriptionWarning,
    Quantity,
    RenewalRequestOut,
)

Connection = Any  # an asyncpg connection (or the transaction's)

# `$1` is always the patient and `$2` the date in Norway (today) in the statements that select a status.
_COLUMNS = f"""
p.id, p.entry_id, p.name, p.atc, p.form, p.strength, p.dosage_text, p.quantity_amount, p.quantity_unit,
p.dispensings, p.dispensed, p.valid_until, p.reimbursement_code, p.note, p.prescriber_hpr, p.prescriber_name,
p.prescriber_org, p.created_at, p.cancelled_at, p.cancel_reason, p.replaced_by, p.replaces,
{status_sql("p", "$2::date")} AS status
"""


def _medication(row: Mapping[str, Any]) -> PrescribedMedication:
    return PrescribedMedication(name=row["name"], atc=row["atc"], form=row["form"], strength=row["strength"])


def _prescription(row: Mapping[str, Any]) -> PrescriptionOut:
    return PrescriptionOut(
        id=row["id"],
        entry_id=row["entry_id"],
        medication=_medication(row),
        dosage_text=row["dosage_text"],
        quantity=Quantity(amount=row["quantity_amount"], unit=row["quantity_unit"]),
        dispensings=row["dispensings"],
        dispensings_left=row["dispensings"] - row["dispensed"],
        valid_until=row["valid_until"],
        status=row["status"],
        prescriber=PrescriberOut(
            hpr=row["prescriber_hpr"], name=row["prescriber_name"], organisation=row["prescriber_org"]
        ),
        created_at=row["created_at"],
        reimbursement_code=row["reimbursement_code"],
        note=row["note"],
        cancelled_at=row["cancelled_at"],
        cancel_reason=row["cancel_reason"],
        replaced_by=row["replaced_by"],
        replaces=row["replaces"],
    )


# --- the list entry a prescription is for ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PrescribableEntry:
    """The entry as the current list has it (`to_version IS NULL`)."""

    name: str
    atc: str
    form: str | None
    strength: str | None
    stopped_at: date | None


async def current_entry(connection: Connection, patient_id: uuid.UUID, entry_id: uuid.UUID) -> PrescribableEntry | None:
    row = await connection.fetchrow(
        """
        SELECT name, atc, form, strength, stopped_at FROM medication_entry_version
        WHERE patient_id = $1 AND entry_id = $2 AND to_version IS NULL
        """,
        patient_id,
        entry_id,
    )
    return typed_row_or_none(PrescribableEntry, row)


# --- prescriptions --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewPrescription:
    """What a prescription is written with (the entry's medicine is copied as prescribed)."""

    id: uuid.UUID
    entry_id: uuid.UUID
    entry: PrescribableEntry
    dosage_text: str
    quantity: Quantity
    dispensings: int
    valid_until: date
    reimbursement_code: str | None
    note: str | None
    prescriber: Author
    replaces: uuid.UUID | None = None


async def insert_prescription(
    connection: Connection, patient_id: uuid.UUID, today: date, new: NewPrescription, at: datetime
) -> PrescriptionOut | None:
    """The stored prescription, or None when the id is taken (the caller compares: a replay or a conflict)."""
    row = await connection.fetchrow(
        f"""
        INSERT INTO prescription AS p (id, patient_id, entry_id, name, atc, form, strength, dosage_text,
                                       quantity_amount, quantity_unit, dispensings, dispensed, valid_until,
                                       reimbursement_code, note, prescriber_hpr, prescriber_name,
                                       prescriber_authorization, prescriber_org, prescriber_org_kind, created_at,
                                       replaces)
        VALUES ($3, $1, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)
        ON CONFLICT (patient_id, id) DO NOTHING
        RETURNING {_COLUMNS}
        """,  # noqa: S608 - constant fragments
        patient_id,
        today,
        new.id,
        new.entry_id,
        new.entry.name,
        new.entry.atc,
        new.entry.form,
        new.entry.strength,
        new.dosage_text,
        new.quantity.amount,
        new.quantity.unit,
        new.dispensings,
        new.valid_until,
        new.reimbursement_code,
        new.note,
        new.prescriber.hpr,
        new.prescriber.name,
        new.prescriber.authorization,
        new.prescriber.organisation,
        new.prescriber.org_kind,
        at,
        new.replaces,
    )
    return _prescription(row) if row is not None else None


async def prescription(
    connection: Connection, patient_id: uuid.UUID, today: date, prescription_id: uuid.UUID, *, lock: bool = False
) -> PrescriptionOut | None:
    row = await connection.fetchrow(
        f"SELECT {_COLUMNS} FROM prescription p WHERE p.patient_id = $1 AND p.id = $3"  # noqa: S608 - constant
        + (" FOR UPDATE" if lock else ""),
        patient_id,
        today,
        prescription_id,
    )
    return _prescription(row) if row is not None else None


async def active_prescription_of_entry(
    connection: Connection, patient_id: uuid.UUID, today: date, entry_id: uuid.UUID
) -> uuid.UUID | None:
    found: uuid.UUID | None = await connection.fetchval(
        f"""
        SELECT p.id FROM prescription p
        WHERE p.patient_id = $1 AND p.entry_id = $3 AND {is_active_sql("p", "$2::date")}
        LIMIT 1
        """,  # noqa: S608 - constant fragments
        patient_id,
        today,
        entry_id,
    )
    return found


async def prescriptions(
    connection: Connection,
    patient_id: uuid.UUID,
    today: date,
    *,
    status: str | None,
    before: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[PrescriptionOut]:
    """Newest first, of one status when given, below `before` (created_at, id) when given."""
    before_at, before_id = before if before is not None else (None, None)
    rows = await connection.fetch(
        f"""
        SELECT {_COLUMNS} FROM prescription p
        WHERE p.patient_id = $1 AND ($3::text IS NULL OR {status_sql("p", "$2::date")} = $3)
          AND ($4::timestamptz IS NULL OR (p.created_at, p.id) < ($4, $5))
        ORDER BY p.created_at DESC, p.id DESC
        LIMIT $6
        """,  # noqa: S608 - constant fragments
        patient_id,
        today,
        status,
        before_at,
        before_id,
        limit,
    )
    return [_prescription(row) for row in rows]


async def cancel_prescription(
    connection: Connection,
    patient_id: uuid.UUID,
    today: date,
    prescription_id: uuid.UUID,
    *,
    reason: str,
    by_hpr: str,
    at: datetime,
    replaced_by: uuid.UUID | None = None,
) -> PrescriptionOut:
    """Cancel (or, with `replaced_by`, replace) a prescription the caller has locked."""
    row = await connection.fetchrow(
        f"""
        UPDATE prescription p SET cancelled_at = $4, cancel_reason = $5, cancelled_by_hpr = $6, replaced_by = $7
        WHERE p.patient_id = $1 AND p.id = $3
        RETURNING {_COLUMNS}
        """,  # noqa: S608 - constant fragments
        patient_id,
        today,
        prescription_id,
        at,
        reason,
        by_hpr,
        replaced_by,
    )
    return _prescription(row)


async def cancel_active_of_entries(
    connection: Connection,
    patient_id: uuid.UUID,
    today: date,
    entry_ids: Sequence[uuid.UUID],
    *,
    reason: str,
    by_hpr: str,
    at: datetime,
) -> list[uuid.UUID]:
    """Cancel every active prescription of these entries (their entries were stopped); the ids cancelled."""
    if not entry_ids:
        return []
    rows = await connection.fetch(
        f"""
        UPDATE prescription p SET cancelled_at = $4, cancel_reason = $5, cancelled_by_hpr = $6
        WHERE p.patient_id = $1 AND p.entry_id = ANY($3::uuid[]) AND {is_active_sql("p", "$2::date")}
        RETURNING p.id
        """,  # noqa: S608 - constant fragments
        patient_id,
        today,
        list(entry_ids),
        at,
        reason,
        by_hpr,
    )
    return [row["id"] for row in rows]


async def prescription_events(
    connection: Connection, patient_id: uuid.UUID, *, after: datetime | None, until: datetime | None, limit: int
) -> list[PrescriptionEvent]:
    """What happened to the patient's prescriptions in (after, until], newest first."""
    rows = await connection.fetch(
        """
        SELECT * FROM (
            SELECT p.created_at AS at, 'prescribed' AS kind, p.id AS prescription_id, p.entry_id, p.name,
                   p.prescriber_hpr AS by_hpr, p.prescriber_name AS by_name
            FROM prescription p WHERE p.patient_id = $1
            UNION ALL
            SELECT p.cancelled_at, CASE WHEN p.replaced_by IS NULL THEN 'cancelled' ELSE 'replaced' END, p.id,
                   p.entry_id, p.name, p.cancelled_by_hpr, NULL
            FROM prescription p WHERE p.patient_id = $1 AND p.cancelled_at IS NOT NULL
            UNION ALL
            SELECT d.dispensed_at, 'dispensed', p.id, p.entry_id, p.name, d.pharmacist_hpr, d.pharmacist_name
            FROM prescription_dispensing d
            JOIN prescription p ON p.patient_id = d.patient_id AND p.id = d.prescription_id
            WHERE d.patient_id = $1
        ) e
        WHERE ($2::timestamptz IS NULL OR e.at > $2) AND ($3::timestamptz IS NULL OR e.at <= $3)
        ORDER BY e.at DESC, e.prescription_id, e.kind
        LIMIT $4
        """,
        patient_id,
        after,
        until,
        limit,
    )
    return [PrescriptionEvent(**row) for row in rows]


# --- dispensings ----------------------------------------------------------------------------------------


async def take_dispensing(
    connection: Connection, patient_id: uuid.UUID, today: date, prescription_id: uuid.UUID
) -> int | None:
    """Count one dispensing if the prescription is active: the dispensings left after it, or None (not active).

    One conditional UPDATE: concurrent dispensings queue on the row lock and each re-checks the rule on the row
    the previous one committed, so of twenty for the last dispensing exactly one counts.
    """
    left: int | None = await connection.fetchval(
        f"""
        UPDATE prescription p SET dispensed = p.dispensed + 1
        WHERE p.patient_id = $1 AND p.id = $3 AND {is_active_sql("p", "$2::date")}
        RETURNING p.dispensings - p.dispensed
        """,  # noqa: S608 - constant fragments
        patient_id,
        today,
        prescription_id,
    )
    return left


async def insert_dispensing(
    connection: Connection,
    *,
    patient_id: uuid.UUID,
    dispensing_id: uuid.UUID,
    prescription_id: uuid.UUID,
    quantity: Quantity,
    at: datetime,
    recorded_at: datetime,
    pharmacy: Author,
) -> None:
    await connection.execute(
        """
        INSERT INTO prescription_dispensing (id, patient_id, prescription_id, quantity_amount, quantity_unit,
                                             dispensed_at, recorded_at, pharmacy_org, pharmacist_hpr, pharmacist_name)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        """,
        dispensing_id,
        patient_id,
        prescription_id,
        quantity.amount,
        quantity.unit,
        at,
        recorded_at,
        pharmacy.organisation,
        pharmacy.hpr,
        pharmacy.name,
    )


# --- renewal requests -----------------------------------------------------------------------------------

_RENEWAL_COLUMNS = """
r.id, r.patient_id, r.prescription_id, r.status, r.note, r.requested_at, r.answered_at, r.answered_by_hpr,
r.answered_by_name, r.decline_reason, r.new_prescription_id, p.name, p.atc, p.form, p.strength
"""
_RENEWAL_FROM = "renewal_request r JOIN prescription p ON p.patient_id = r.patient_id AND p.id = r.prescription_id"


def _renewal(row: Mapping[str, Any]) -> RenewalRequestOut:
    return RenewalRequestOut(
        id=row["id"],
        patient_id=row["patient_id"],
        prescription_id=row["prescription_id"],
        medication=_medication(row),
        status=row["status"],
        note=row["note"],
        requested_at=row["requested_at"],
        answered_at=row["answered_at"],
        answered_by=(
            Prescriber(hpr=row["answered_by_hpr"], name=row["answered_by_name"])
            if row["answered_by_hpr"] is not None
            else None
        ),
        decline_reason=row["decline_reason"],
        new_prescription_id=row["new_prescription_id"],
    )


async def insert_renewal(
    connection: Connection,
    *,
    patient_id: uuid.UUID,
    request_id: uuid.UUID,
    prescription_id: uuid.UUID,
    note: str | None,
    at: datetime,
) -> bool:
    """Store a pending request (and its id → patient key); False when one is already pending for the prescription."""
    stored = await connection.fetchval(
        """
        WITH request AS (
            INSERT INTO renewal_request (id, patient_id, prescription_id, note, status, requested_at)
            VALUES ($1, $2, $3, $4, 'pending', $5)
            ON CONFLICT (patient_id, prescription_id) WHERE status = 'pending' DO NOTHING
            RETURNING id, patient_id
        ), key AS (
            INSERT INTO renewal_request_key (id, patient_id) SELECT id, patient_id FROM request
        )
        SELECT count(*) FROM request
        """,
        request_id,
        patient_id,
        prescription_id,
        note,
        at,
    )
    return bool(stored)


async def renewal_patient(connection: Connection, request_id: uuid.UUID) -> uuid.UUID | None:
    """Whose request this is (the approve and decline routes name the request only)."""
    found: uuid.UUID | None = await connection.fetchval(
        "SELECT patient_id FROM renewal_request_key WHERE id = $1", request_id
    )
    return found


async def renewal(
    connection: Connection, patient_id: uuid.UUID, request_id: uuid.UUID, *, lock: bool = False
) -> RenewalRequestOut | None:
    row = await connection.fetchrow(
        f"SELECT {_RENEWAL_COLUMNS} FROM {_RENEWAL_FROM} WHERE r.patient_id = $1 AND r.id = $2"  # noqa: S608
        + (" FOR UPDATE OF r" if lock else ""),
        patient_id,
        request_id,
    )
    return _renewal(row) if row is not None else None


async def renewals_of_patient(
    connection: Connection, patient_id: uuid.UUID, *, before: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[RenewalRequestOut]:
    before_at, before_id = before if before is not None else (None, None)
    rows = await connection.fetch(
        f"""
        SELECT {_RENEWAL_COLUMNS} FROM {_RENEWAL_FROM}
        WHERE r.patient_id = $1 AND ($2::timestamptz IS NULL OR (r.requested_at, r.id) < ($2, $3))
        ORDER BY r.requested_at DESC, r.id DESC
        LIMIT $4
        """,  # noqa: S608 - constant fragments
        patient_id,
        before_at,
        before_id,
        limit,
    )
    return [_renewal(row) for row in rows]


async def gp_inbox(
    connection: Connection,
    *,
    org_number: str,
    hpr: str,
    status: str,
    before: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[RenewalRequestOut]:
    """Requests of one status from the patients with an active `gp` relation of the organisation, newest first.

    The organisation's patients come from core's `care_relation_by_org` (as its alert list finds them); a patient
    who has blocked this clinician is left out, exactly as the access decision would refuse her record.
    """
    before_at, before_id = before if before is not None else (None, None)
    rows = await connection.fetch(
        f"""
        SELECT {_RENEWAL_COLUMNS} FROM {_RENEWAL_FROM}
        WHERE r.patient_id IN (SELECT patient_id FROM care_relation_by_org WHERE org_number = $1)
          AND EXISTS (SELECT 1 FROM care_relation c
                      WHERE c.patient_id = r.patient_id AND c.org_number = $1 AND c.kind = 'gp'
                        AND c.valid_from <= now() AND (c.valid_until IS NULL OR c.valid_until > now()))
          AND NOT EXISTS (SELECT 1 FROM clinician_block b WHERE b.patient_id = r.patient_id AND b.hpr = $2)
          AND r.status = $3
          AND ($4::timestamptz IS NULL OR (r.requested_at, r.id) < ($4, $5))
        ORDER BY r.requested_at DESC, r.id DESC
        LIMIT $6
        """,  # noqa: S608 - constant fragments
        org_number,
        hpr,
        status,
        before_at,
        before_id,
        limit,
    )
    return [_renewal(row) for row in rows]


async def answer_renewal(
    connection: Connection,
    *,
    patient_id: uuid.UUID,
    request_id: uuid.UUID,
    status: str,
    by: Author,
    at: datetime,
    decline_reason: str | None,
    new_prescription_id: uuid.UUID | None,
) -> RenewalRequestOut:
    """Record the answer on a request the caller has locked while pending."""
    row = await connection.fetchrow(
        f"""
        WITH r AS (
            UPDATE renewal_request SET status = $3, answered_at = $4, answered_by_hpr = $5, answered_by_name = $6,
                                       decline_reason = $7, new_prescription_id = $8
            WHERE patient_id = $1 AND id = $2
            RETURNING *
        )
        SELECT {_RENEWAL_COLUMNS} FROM r JOIN prescription p ON p.patient_id = r.patient_id AND p.id = r.prescription_id
        """,  # noqa: S608 - constant fragments
        patient_id,
        request_id,
        status,
        at,
        by.hpr,
        by.name,
        decline_reason,
        new_prescription_id,
    )
    return _renewal(row)


# --- the expiry reminder --------------------------------------------------------------------------------


async def patients_to_remind(connection: Connection, today: date, last_day: date, limit: int) -> list[uuid.UUID]:
    """Patients with an active prescription expiring by `last_day` of which she was not reminded; no locks."""
    rows = await connection.fetch(
        f"""
        SELECT p.patient_id FROM prescription p
        WHERE p.reminded_at IS NULL AND p.cancelled_at IS NULL AND p.valid_until <= $2
          AND {is_active_sql("p", "$1::date")}
        ORDER BY p.valid_until
        LIMIT $3
        """,  # noqa: S608 - constant fragments
        today,
        last_day,
        limit,
    )
    return list(dict.fromkeys(row["patient_id"] for row in rows))


async def mark_reminded(
    connection: Connection, patient_id: uuid.UUID, today: date, last_day: date, at: datetime
) -> list[uuid.UUID]:
    """Claim one patient's due reminders: the ids this call marked. A second worker's UPDATE waits on the row lock,
    re-checks `reminded_at IS NULL` on the committed row and marks nothing, so each reminder is sent once."""
    rows = await connection.fetch(
        f"""
        UPDATE prescription p SET reminded_at = $4
        WHERE p.patient_id = $1 AND p.reminded_at IS NULL AND p.valid_until <= $3
          AND {is_active_sql("p", "$2::date")}
        RETURNING p.id
        """,  # noqa: S608 - constant fragments
        patient_id,
        today,
        last_day,
        at,
    )
    return [row["id"] for row in rows]


# --- the drug catalogue (FEST) ------------------------------------------------------------------------


async def replace_catalogue(connection: Connection, items: Sequence[CatalogueItem], source: str) -> int:
    """The whole catalogue replaced by `items` (in the caller's transaction); how many rows it now has."""
    await connection.execute("DELETE FROM drug_catalogue")
    await connection.executemany(
        "INSERT INTO drug_catalogue (atc, name, pregnancy_warning, interacts_with, source) VALUES ($1, $2, $3, $4, $5)",
        [(item.atc, item.name, item.pregnancy_warning, item.interacts_with, source) for item in items],
    )
    count: int = await connection.fetchval("SELECT count(*) FROM drug_catalogue")
    return count


async def pregnancy_warnings(connection: Connection, atcs: Sequence[str]) -> dict[str, list[PrescriptionWarning]]:
    """The catalogue's pregnancy warnings for these ATC codes (a warning on a group covers every code in it)."""
    rows = await connection.fetch(
        """
        SELECT a.atc AS prescribed, c.atc, c.name, c.pregnancy_warning
        FROM unnest($1::text[]) AS a(atc)
        JOIN drug_catalogue c ON a.atc LIKE c.atc || '%'
        WHERE c.pregnancy_warning IS NOT NULL
        ORDER BY a.atc, c.atc
        """,
        sorted(set(atcs)),
    )
    found: dict[str, list[PrescriptionWarning]] = {}
    for row in rows:
        found.setdefault(row["prescribed"], []).append(
            PrescriptionWarning(code="pregnancy", atc=row["atc"], message=f"{row['name']}: {row['pregnancy_warning']}")
        )
    return found


async def interaction_warnings(
    connection: Connection, patient_id: uuid.UUID, today: date, prescribed: Sequence[tuple[str, uuid.UUID]]
) -> dict[str, list[PrescriptionWarning]]:
    """Interactions between each prescribed (ATC, entry) and the other current entries of the list, as the
    catalogue names them from either side (a row's `interacts_with` are ATC groups)."""
    rows = await connection.fetch(
        """
        SELECT DISTINCT a.atc AS prescribed, c.atc, c.name, e.name AS other_name, e.atc AS other_atc
        FROM unnest($2::text[], $3::uuid[]) AS a(atc, entry_id)
        JOIN medication_entry_version e
          ON e.patient_id = $1 AND e.to_version IS NULL AND e.entry_id <> a.entry_id
         AND (e.stopped_at IS NULL OR e.stopped_at > $4)
        JOIN drug_catalogue c
          ON (a.atc LIKE c.atc || '%' AND EXISTS (SELECT 1 FROM unnest(c.interacts_with) i WHERE e.atc LIKE i || '%'))
          OR (e.atc LIKE c.atc || '%' AND EXISTS (SELECT 1 FROM unnest(c.interacts_with) i WHERE a.atc LIKE i || '%'))
        ORDER BY a.atc, e.atc, c.atc
        """,
        patient_id,
        [atc for atc, _ in prescribed],
        [entry_id for _, entry_id in prescribed],
        today,
    )
    found: dict[str, list[PrescriptionWarning]] = {}
    for row in rows:
        warnings = found.setdefault(row["prescribed"], [])
        if any(warning.atc == row["other_atc"] for warning in warnings):
            continue  # one warning per other medicine, whichever catalogue row names the pair
        warnings.append(
            PrescriptionWarning(
                code="interaction",
                atc=row["other_atc"],
                message=f"interaction with {row['other_name']} ({row['other_atc']}) on the list: {row['name']}",
            )
        )
    return found
