"""Every SQL statement of the journal documents: functions of a connection and plain values, typed results.

Reached only with `grant.patient_id` (the services take the `Grant`) or by the demo loader; every statement
names the patient. What a clinician may see is one SQL predicate (`_SEEN_BY_CLINICIAN`), shared by the list,
the count of what the citizen's restrictions hide, and the single document, so they cannot disagree.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from backend.core.access import bound_to_decision
from backend.core.rows import typed_row, typed_row_or_none
from backend.documents.schemas import CitizenDocument, ClinicianDocument, DocumentAuthor, DocumentMetadataIn

Connection = Any  # an asyncpg connection (or the transaction's)

_COLUMNS = """
d.id, d.type, d.title, d.date, d.department, d.visible_to_patient, d.hidden_reason, d.replaces, d.superseded_by,
d.organisation, d.org_kind, d.author_hpr, d.author_name, d.author_authorization, d.content_type, d.size, d.sha256,
d.status, d.restricted, d.entered_in_error_reason, d.created_at
"""


@dataclass(frozen=True, slots=True)
class Reader:
    """Who reads, as the visibility predicate needs it: her organisation, emergency access, the look-back."""

    organisation: str
    emergency: bool
    today: date
    lookback: Sequence[tuple[str, int]]  # (type, days) for other organisations' documents; unnamed: unlimited


# $2 organisation, $3 emergency, $4 today, $5/$6 look-back types and days. Own organisation: always. Another's:
# within the look-back of its type, and not restricted by the citizen unless read under emergency access.
_WITHIN_LOOKBACK = """
(d.organisation = $2 OR NOT EXISTS (
    SELECT 1 FROM unnest($5::text[], $6::int[]) AS l(type, days) WHERE l.type = d.type AND d.date < $4::date - l.days))
"""
_SEEN_BY_CLINICIAN = f"({_WITHIN_LOOKBACK} AND (d.organisation = $2 OR NOT d.restricted OR $3))"
_HIDDEN_BY_RESTRICTION = f"({_WITHIN_LOOKBACK} AND d.organisation <> $2 AND d.restricted AND NOT $3)"
_FILTERS = (
    "($7::text IS NULL OR d.type = $7) AND ($8::date IS NULL OR d.date >= $8) AND ($9::date IS NULL OR d.date <= $9)"
)


def reader_values(reader: Reader) -> tuple[Any, ...]:
    return (
        reader.organisation,
        reader.emergency,
        reader.today,
        [kind for kind, _ in reader.lookback],
        [days for _, days in reader.lookback],
    )


def _author(row: Any) -> DocumentAuthor:
    return DocumentAuthor(hpr=row["author_hpr"], name=row["author_name"], authorization=row["author_authorization"])


def _clinician_document(row: Any) -> ClinicianDocument:
    return typed_row(ClinicianDocument, row, author=_author(row))


def _citizen_document(row: Any) -> CitizenDocument:
    return typed_row(CitizenDocument, row, author=_author(row))


@dataclass(frozen=True, slots=True)
class Filters:
    type: str | None
    from_date: date | None
    to_date: date | None
    before: tuple[date, uuid.UUID] | None


# One statement: the page (the lateral join keeps one row with NULL columns when it is empty) and how many
# documents the citizen's restrictions hide from this reader, which the list reports beside it.
_CLINICIAN_LIST = f"""
SELECT hidden.count AS restricted_count, page.*
FROM (
    SELECT count(*) FROM document d
    WHERE d.patient_id = $1 AND d.status <> 'entered-in-error' AND {_HIDDEN_BY_RESTRICTION} AND {_FILTERS}
) hidden
LEFT JOIN LATERAL (
    SELECT {_COLUMNS} FROM document d
    WHERE d.patient_id = $1 AND d.status <> 'entered-in-error' AND {_SEEN_BY_CLINICIAN} AND {_FILTERS}
      AND ($10::date IS NULL OR (d.date, d.id) < ($10::date, $11::uuid))
    ORDER BY d.date DESC, d.id DESC
    LIMIT $12
) page ON true
ORDER BY page.date DESC, page.id DESC
"""  # noqa: S608 - constant fragments


async def clinician_documents(
    connection: Connection, patient_id: uuid.UUID, reader: Reader, filters: Filters, *, limit: int
) -> tuple[list[ClinicianDocument], int]:
    """A page of what this reader may see, newest first, and how many the citizen's restrictions hide."""
    values = (patient_id, *reader_values(reader), filters.type, filters.from_date, filters.to_date)
    before = filters.before or (None, None)
    return clinician_documents_of(await connection.fetch(_CLINICIAN_LIST, *values, *before, limit))


def clinician_documents_of(rows: Sequence[Any]) -> tuple[list[ClinicianDocument], int]:
    """The page and the restricted count from the rows of the list statement (or CLINICIAN_LIST_IN_DECISION's)."""
    hidden: int = rows[0]["restricted_count"]
    return [_clinician_document(row) for row in rows if row["id"] is not None], hidden


# The legevakt overview's newest documents: $1 patient, $2-$6 the reader (`reader_values`), $7 how many. Columns
# named as the overview's `OverviewDocument` fields, which the overview decodes its JSON rows into.
NEWEST_SEEN = f"""
SELECT d.id, d.type, d.title, d.date, d.organisation, d.content_type AS "contentType" FROM document d
WHERE d.patient_id = $1 AND d.status <> 'entered-in-error' AND {_SEEN_BY_CLINICIAN}
ORDER BY d.date DESC, d.id DESC
LIMIT $7
"""  # noqa: S608 - constant fragments


# The list statement as a read in the access decision's (core.access.Read): the patient ($1) and emergency access
# ($3) are the decision's; the others are `clinician_list_args`, in order.
_LIST_PARAMETERS = max(int(number) for number in re.findall(r"\$(\d+)", _CLINICIAN_LIST))
CLINICIAN_LIST_IN_DECISION = bound_to_decision(
    _CLINICIAN_LIST,
    ["access.patient_id", None, "access.emergency", *[None] * (_LIST_PARAMETERS - 3)],
)


def clinician_list_args(
    organisation: str, today: date, lookback: Sequence[tuple[str, int]], filters: Filters, *, limit: int
) -> tuple[Any, ...]:
    """The parameters of CLINICIAN_LIST_IN_DECISION: the reader but her emergency access (the decision's)."""
    kinds, days = [kind for kind, _ in lookback], [days for _, days in lookback]
    before = filters.before or (None, None)
    return (organisation, today, kinds, days, filters.type, filters.from_date, filters.to_date, *before, limit)


@dataclass(frozen=True, slots=True)
class StoredContent:
    """Where a document's bytes are and what they are."""

    blob_id: uuid.UUID
    sha256: str
    size: int
    content_type: str


_CLINICIAN_ONE = f"""
SELECT {_COLUMNS}, b.id AS blob_id FROM document d
JOIN document_blob b ON b.patient_id = d.patient_id AND b.sha256 = d.sha256
WHERE d.patient_id = $1 AND d.id = $7 AND {_SEEN_BY_CLINICIAN}
"""  # noqa: S608 - constant fragments


async def clinician_document(
    connection: Connection, patient_id: uuid.UUID, reader: Reader, document_id: uuid.UUID
) -> tuple[ClinicianDocument, StoredContent] | None:
    row = await connection.fetchrow(_CLINICIAN_ONE, patient_id, *reader_values(reader), document_id)
    if row is None:
        return None
    return _clinician_document(row), StoredContent(row["blob_id"], row["sha256"], row["size"], row["content_type"])


_CITIZEN_LIST = f"""
SELECT {_COLUMNS} FROM document d
WHERE d.patient_id = $1 AND d.visible_to_patient AND d.status <> 'entered-in-error'
  AND ($2::date IS NULL OR (d.date, d.id) < ($2::date, $3::uuid))
ORDER BY d.date DESC, d.id DESC
LIMIT $4
"""  # noqa: S608 - constant fragments


async def citizen_documents(
    connection: Connection, patient_id: uuid.UUID, *, before: tuple[date, uuid.UUID] | None, limit: int
) -> list[CitizenDocument]:
    """Her documents, newest first: never one the author hid from her, nor one entered in error."""
    rows = await connection.fetch(_CITIZEN_LIST, patient_id, *(before or (None, None)), limit)
    return [_citizen_document(row) for row in rows]


_CITIZEN_ONE = f"""
SELECT {_COLUMNS}, b.id AS blob_id FROM document d
JOIN document_blob b ON b.patient_id = d.patient_id AND b.sha256 = d.sha256
WHERE d.patient_id = $1 AND d.id = $2 AND d.visible_to_patient AND d.status <> 'entered-in-error'
"""  # noqa: S608 - constant fragments


async def citizen_document(
    connection: Connection, patient_id: uuid.UUID, document_id: uuid.UUID
) -> tuple[CitizenDocument, StoredContent] | None:
    row = await connection.fetchrow(_CITIZEN_ONE, patient_id, document_id)
    if row is None:
        return None
    return _citizen_document(row), StoredContent(row["blob_id"], row["sha256"], row["size"], row["content_type"])


# --- writes --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Existing:
    """What a write needs to know of a document already there."""

    id: uuid.UUID
    sha256: str
    organisation: str
    status: str
    visible_to_patient: bool


async def lock_document(connection: Connection, patient_id: uuid.UUID, document_id: uuid.UUID) -> Existing | None:
    row = await connection.fetchrow(
        """
        SELECT id, sha256, organisation, status, visible_to_patient FROM document
        WHERE patient_id = $1 AND id = $2 FOR UPDATE
        """,
        patient_id,
        document_id,
    )
    return typed_row_or_none(Existing, row)


@dataclass(frozen=True, slots=True)
class NewDocument:
    metadata: DocumentMetadataIn
    organisation: str
    org_kind: str
    author_hpr: str
    author_name: str | None
    author_authorization: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime


async def insert_document(connection: Connection, patient_id: uuid.UUID, new: NewDocument) -> bool:
    """The document row; False when one with this id was there first (a concurrent upload of the same id)."""
    meta = new.metadata
    inserted: uuid.UUID | None = await connection.fetchval(
        """
        INSERT INTO document (patient_id, id, type, title, date, department, visible_to_patient, hidden_reason,
                              replaces, organisation, org_kind, author_hpr, author_name, author_authorization,
                              content_type, size, sha256, status, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 'current', $18)
        ON CONFLICT (patient_id, id) DO NOTHING
        RETURNING id
        """,
        patient_id,
        meta.id,
        meta.type,
        meta.title,
        meta.date,
        meta.department,
        meta.visible_to_patient,
        meta.hidden_reason,
        meta.replaces,
        new.organisation,
        new.org_kind,
        new.author_hpr,
        new.author_name,
        new.author_authorization,
        new.content_type,
        new.size,
        new.sha256,
        new.created_at,
    )
    return inserted is not None


async def supersede(connection: Connection, patient_id: uuid.UUID, old_id: uuid.UUID, new_id: uuid.UUID) -> None:
    await connection.execute(
        "UPDATE document SET status = 'superseded', superseded_by = $3 WHERE patient_id = $1 AND id = $2",
        patient_id,
        old_id,
        new_id,
    )


async def enter_in_error(
    connection: Connection, patient_id: uuid.UUID, document_id: uuid.UUID, reason: str, at: datetime
) -> None:
    await connection.execute(
        """
        UPDATE document SET status = 'entered-in-error', entered_in_error_reason = $3, entered_in_error_at = $4
        WHERE patient_id = $1 AND id = $2
        """,
        patient_id,
        document_id,
        reason,
        at,
    )


async def set_restricted(
    connection: Connection, patient_id: uuid.UUID, document_id: uuid.UUID, restricted: bool
) -> bool | None:
    """Her restriction on one of her documents: whether it changed, or None when she cannot see that document."""
    changed: bool | None = await connection.fetchval(
        """
        WITH old AS (
            SELECT restricted FROM document
            WHERE patient_id = $1 AND id = $2 AND visible_to_patient AND status <> 'entered-in-error'
            FOR UPDATE
        )
        UPDATE document d SET restricted = $3, restricted_at = CASE WHEN $3 THEN now() END
        FROM old WHERE d.patient_id = $1 AND d.id = $2
        RETURNING old.restricted IS DISTINCT FROM $3
        """,
        patient_id,
        document_id,
        restricted,
    )
    return changed


# --- blobs: content by SHA-256, the PostgreSQL store's chunks ------------------------------------------------------


async def lock_content(connection: Connection, patient_id: uuid.UUID, sha256: str) -> None:
    """Serialise, until this transaction ends, everyone placing or removing this content of this patient."""
    await connection.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1::uuid::text || ':' || $2::text, 7408))", patient_id, sha256
    )


async def blob_id(connection: Connection, patient_id: uuid.UUID, sha256: str) -> uuid.UUID | None:
    found: uuid.UUID | None = await connection.fetchval(
        "SELECT id FROM document_blob WHERE patient_id = $1 AND sha256 = $2", patient_id, sha256
    )
    return found


async def insert_blob(connection: Connection, patient_id: uuid.UUID, blob: uuid.UUID, sha256: str, size: int) -> None:
    await connection.execute(
        "INSERT INTO document_blob (patient_id, id, sha256, size, created_at) VALUES ($1, $2, $3, $4, now())",
        patient_id,
        blob,
        sha256,
        size,
    )


async def insert_chunk(connection: Connection, patient_id: uuid.UUID, blob: uuid.UUID, seq: int, data: bytes) -> None:
    await connection.execute(
        "INSERT INTO document_blob_chunk (patient_id, blob_id, seq, data) VALUES ($1, $2, $3, $4)",
        patient_id,
        blob,
        seq,
        data,
    )


async def delete_chunks(connection: Connection, patient_id: uuid.UUID, blob: uuid.UUID) -> None:
    await connection.execute("DELETE FROM document_blob_chunk WHERE patient_id = $1 AND blob_id = $2", patient_id, blob)


async def chunk(connection: Connection, patient_id: uuid.UUID, blob: uuid.UUID, seq: int) -> bytes | None:
    data: bytes | None = await connection.fetchval(
        "SELECT data FROM document_blob_chunk WHERE patient_id = $1 AND blob_id = $2 AND seq = $3",
        patient_id,
        blob,
        seq,
    )
    return data
