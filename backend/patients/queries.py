"""Every SQL statement of the patients domain: the citizen's consents and blocks, and the care relations listed.

Functions take a connection and plain values and return typed rows; the rules (which scope, who sees a
midwife relation, which event a change appends) are in service.py. The access log, the change feed and
the care-relation attestation are core's (`backend.core.audit`, `events`, `relations`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from backend.core.rows import typed_rows


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


# A read in the access decision's statement (core.access.Read): the patient is the decision's, `access.patient_id`.
# Relations of the kind $1 are left out unless they are the organisation $2's or the reader may learn what the
# Need's `reveals` consent protects (`access.reveals`). Active only, oldest first (then by id), after ($3, $4).
ACTIVE_CARE_RELATIONS_READ = """
SELECT id, kind, org_number, org_kind, attested_by_hpr, attested_by_name, valid_from, valid_until
FROM care_relation
WHERE patient_id = access.patient_id AND (valid_until IS NULL OR valid_until > now())
  AND (access.reveals OR kind <> $1::text OR org_number = $2::text)
  AND ($3::timestamptz IS NULL OR (valid_from, id) > ($3, $4::uuid))
ORDER BY valid_from, id LIMIT $5
"""


def care_relation_rows(rows: list[Any]) -> list[CareRelationRow]:
    return [care_relation_row(row) for row in rows]


async def sealed_identity_number(connection: Any, patient_id: uuid.UUID) -> bytes | None:
    """The patient's sealed fødselsnummer or D-nummer (the FHIR Patient's identifier)."""
    sealed: bytes | None = await connection.fetchval("SELECT fnr_sealed FROM patient WHERE id = $1", patient_id)
    return sealed


# --- representation: guardianships (the register's), powers of attorney, whom a citizen represents ------------


@dataclass(frozen=True, slots=True)
class PowerOfAttorneyRow:
    id: uuid.UUID
    attorney_id: uuid.UUID
    scopes: list[str]
    valid_from: datetime
    valid_until: datetime | None


@dataclass(frozen=True, slots=True)
class RepresentedRow:
    patient_id: uuid.UUID
    basis: str
    fnr_sealed: bytes | None
    guardian: bool
    attorney_scopes: list[str]
    attorney_until: datetime | None


async def upsert_guardianship(
    connection: Any, child_id: uuid.UUID, guardian_id: uuid.UUID, active: bool, at: datetime
) -> None:
    """The register's link as it now stands, and the guardian's lookup row (kept after it ends: read through)."""
    await connection.execute(
        """
        INSERT INTO guardianship (id, patient_id, guardian_id, active, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $5)
        ON CONFLICT (patient_id, guardian_id) DO UPDATE SET active = EXCLUDED.active, updated_at = EXCLUDED.updated_at
        """,
        uuid.uuid4(),
        child_id,
        guardian_id,
        active,
        at,
    )
    await _remember_representation(connection, guardian_id, child_id, "guardian")


async def _remember_representation(
    connection: Any, representative_id: uuid.UUID, patient_id: uuid.UUID, basis: str
) -> None:
    await connection.execute(
        """
        INSERT INTO representation_by_representative (representative_id, patient_id, basis) VALUES ($1, $2, $3)
        ON CONFLICT DO NOTHING
        """,
        representative_id,
        patient_id,
        basis,
    )


async def insert_power_of_attorney(
    connection: Any,
    grantor_id: uuid.UUID,
    attorney_id: uuid.UUID,
    scopes: list[str],
    *,
    valid_from: datetime,
    valid_until: datetime | None,
) -> uuid.UUID:
    attorney_row_id = uuid.uuid4()
    await connection.execute(
        """
        INSERT INTO power_of_attorney (id, patient_id, attorney_id, scopes, valid_from, valid_until, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $5)
        """,
        attorney_row_id,
        grantor_id,
        attorney_id,
        scopes,
        valid_from,
        valid_until,
    )
    await _remember_representation(connection, attorney_id, grantor_id, "power-of-attorney")
    return attorney_row_id


async def powers_of_attorney(
    connection: Any, grantor_id: uuid.UUID, now: datetime, *, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[PowerOfAttorneyRow]:
    """The grantor's powers of attorney in force, oldest first, after the (valid_from, id) position when given."""
    rows = await connection.fetch(
        """
        SELECT id, attorney_id, scopes, valid_from, valid_until FROM power_of_attorney
        WHERE patient_id = $1 AND revoked_at IS NULL AND (valid_until IS NULL OR valid_until > $2)
          AND ($3::timestamptz IS NULL OR (valid_from, id) > ($3, $4::uuid))
        ORDER BY valid_from, id
        LIMIT $5
        """,
        grantor_id,
        now,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return typed_rows(PowerOfAttorneyRow, rows)


async def revoke_power_of_attorney(
    connection: Any, grantor_id: uuid.UUID, attorney_row_id: uuid.UUID, at: datetime
) -> bool:
    """Revoked at once; False when she has no such power of attorney in force."""
    revoked: uuid.UUID | None = await connection.fetchval(
        """
        UPDATE power_of_attorney SET revoked_at = $3
        WHERE patient_id = $1 AND id = $2 AND revoked_at IS NULL AND (valid_until IS NULL OR valid_until > $3)
        RETURNING id
        """,
        grantor_id,
        attorney_row_id,
        at,
    )
    return revoked is not None


async def represented(connection: Any, representative_id: uuid.UUID, now: datetime) -> list[RepresentedRow]:
    """Everyone the citizen has represented, with what is in force now (the lookup, then each person's own rows)."""
    rows = await connection.fetch(
        """
        SELECT r.patient_id, r.basis, p.fnr_sealed,
               EXISTS (SELECT 1 FROM guardianship g
                       WHERE g.patient_id = r.patient_id AND g.guardian_id = $1 AND g.active) AS guardian,
               ARRAY(SELECT DISTINCT unnest(a.scopes) FROM power_of_attorney a
                     WHERE a.patient_id = r.patient_id AND a.attorney_id = $1 AND a.revoked_at IS NULL
                       AND (a.valid_until IS NULL OR a.valid_until > $2)) AS attorney_scopes,
               (SELECT CASE WHEN bool_or(a.valid_until IS NULL) THEN NULL ELSE max(a.valid_until) END
                FROM power_of_attorney a
                WHERE a.patient_id = r.patient_id AND a.attorney_id = $1 AND a.revoked_at IS NULL
                  AND (a.valid_until IS NULL OR a.valid_until > $2)) AS attorney_until
        FROM representation_by_representative r JOIN patient p ON p.id = r.patient_id
        WHERE r.representative_id = $1
        ORDER BY r.patient_id, r.basis
        """,
        representative_id,
        now,
    )
    return typed_rows(RepresentedRow, rows)
