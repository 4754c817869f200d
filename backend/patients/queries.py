"""Every SQL statement of the patients domain: the citizen's consents and blocks, and the care relations listed.

Functions take a connection and plain values and return typed rows; the rules (which scope, who sees a
midwife relation, which event a change appends) are in service.py. The access log, the change feed and
the care-relation attestation are core's (`backend.core.audit`, `events`, `relations`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, NamedTuple


class BlockRow(NamedTuple):
    hpr: str
    created_at: datetime


class CareRelationRow(NamedTuple):
    id: uuid.UUID
    kind: str
    org_number: str
    org_kind: str
    attested_by_hpr: str
    attested_by_name: str | None
    valid_from: datetime
    valid_until: datetime | None


async def consent_scopes(connection: Any, patient_id: uuid.UUID) -> list[str]:
    rows = await connection.fetch("SELECT scope FROM consent WHERE patient_id = $1 ORDER BY scope", patient_id)
    return [row["scope"] for row in rows]


async def blocks(
    connection: Any, patient_id: uuid.UUID, *, after: tuple[datetime, str] | None, limit: int
) -> list[BlockRow]:
    """Oldest first (then by HPR number), after the (created_at, hpr) position when given."""
    rows = await connection.fetch(
        """
        SELECT hpr, created_at FROM clinician_block
        WHERE patient_id = $1 AND ($2::timestamptz IS NULL OR (created_at, hpr) > ($2, $3::text))
        ORDER BY created_at, hpr LIMIT $4
        """,
        patient_id,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [BlockRow(row["hpr"], row["created_at"]) for row in rows]


# ON CONFLICT names the unique key (patient_id, hpr): it already leads with the patient.
async def insert_block(connection: Any, patient_id: uuid.UUID, hpr: str) -> bool:
    """True when the block is new (a repeated block changes nothing)."""
    inserted = await connection.fetchval(
        """
        INSERT INTO clinician_block (id, patient_id, hpr, created_at) VALUES ($1, $2, $3, now())
        ON CONFLICT (patient_id, hpr) DO NOTHING RETURNING id
        """,
        uuid.uuid4(),
        patient_id,
        hpr,
    )
    return inserted is not None


async def delete_block(connection: Any, patient_id: uuid.UUID, hpr: str) -> bool:
    """True when there was a block to lift."""
    removed: str = await connection.execute(
        "DELETE FROM clinician_block WHERE patient_id = $1 AND hpr = $2", patient_id, hpr
    )
    return removed != "DELETE 0"


# ON CONFLICT names the unique key (patient_id, scope): it already leads with the patient.
async def insert_consent(connection: Any, patient_id: uuid.UUID, scope: str) -> bool:
    """True when the consent is new (giving it again changes nothing)."""
    inserted = await connection.fetchval(
        """
        INSERT INTO consent (id, patient_id, scope, given_at) VALUES ($1, $2, $3, now())
        ON CONFLICT (patient_id, scope) DO NOTHING RETURNING id
        """,
        uuid.uuid4(),
        patient_id,
        scope,
    )
    return inserted is not None


async def delete_consent(connection: Any, patient_id: uuid.UUID, scope: str) -> bool:
    """True when there was a consent to withdraw."""
    removed: str = await connection.execute(
        "DELETE FROM consent WHERE patient_id = $1 AND scope = $2", patient_id, scope
    )
    return removed != "DELETE 0"


def care_relation_row(row: Any) -> CareRelationRow:
    """A care_relation row as returned by this module or by the attestation (`backend.core.relations`)."""
    return CareRelationRow(
        id=row["id"],
        kind=str(row["kind"]),
        org_number=str(row["org_number"]),
        org_kind=str(row["org_kind"]),
        attested_by_hpr=str(row["attested_by_hpr"]),
        attested_by_name=row["attested_by_name"],
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
    )


async def active_care_relations(
    connection: Any,
    patient_id: uuid.UUID,
    *,
    hidden_kind: str | None,
    own_org: str | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[CareRelationRow]:
    """Active relations, oldest first (then by id), after the (valid_from, id) position when given; relations
    of `hidden_kind` are left out unless they are `own_org`'s."""
    rows = await connection.fetch(
        """
        SELECT id, kind, org_number, org_kind, attested_by_hpr, attested_by_name, valid_from, valid_until
        FROM care_relation
        WHERE patient_id = $1 AND (valid_until IS NULL OR valid_until > now())
          AND ($2::text IS NULL OR kind <> $2 OR org_number = $3::text)
          AND ($4::timestamptz IS NULL OR (valid_from, id) > ($4, $5::uuid))
        ORDER BY valid_from, id LIMIT $6
        """,
        patient_id,
        hidden_kind,
        own_org,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [care_relation_row(row) for row in rows]


async def sealed_identity_number(connection: Any, patient_id: uuid.UUID) -> bytes | None:
    """The patient's sealed fødselsnummer or D-nummer (the FHIR Patient's identifier)."""
    sealed: bytes | None = await connection.fetchval("SELECT fnr_sealed FROM patient WHERE id = $1", patient_id)
    return sealed
