"""Care relations: the one declaration of their kinds, of which organisation kind may attest which, and the
one place that writes an attestation (inside the caller's transaction, with its event).

API.md "Care relations": a clinician attests that her organisation treats the patient; the relation then
opens the patient's record to every clinician of that organisation until it ends. Who may attest what is
decided here and nowhere else; whether the patient may be reached at all (exists, has not blocked the
clinician, has given the consent a resource needs) is the access decision's (`backend.core.access`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Final, Literal, get_args

from backend.core import events
from backend.core.auth import ORG_KINDS, ClinicianPrincipal

RelationKind = Literal["gp", "midwife", "hospital", "legevakt", "homecare"]
RELATION_KINDS: Final[tuple[RelationKind, ...]] = get_args(RelationKind)

# Which organisation kinds may attest which kind of care relation (API.md). A laboratory treats no one; a
# pharmacy (apotek) dispenses what others prescribed and attests nothing.
ATTESTABLE: Final[dict[str, frozenset[RelationKind]]] = {
    "fastlege": frozenset({"gp"}),
    "helsestasjon": frozenset({"midwife"}),
    "sykehus": frozenset({"hospital", "midwife"}),
    "legevakt": frozenset({"legevakt"}),
    "hjemmetjeneste": frozenset({"homecare"}),
    "laboratorium": frozenset(),
    "apotek": frozenset(),
}
assert set(ATTESTABLE) == set(ORG_KINDS), "every organisation kind has a row in the attestation matrix"


def may_attest(principal: ClinicianPrincipal, kind: str) -> bool:
    """Whether the clinician's organisation kind may attest a care relation of `kind`."""
    return kind in ATTESTABLE.get(principal.org_kind, frozenset())


async def insert_relation(
    connection: Any, principal: ClinicianPrincipal, patient_id: uuid.UUID, kind: RelationKind, until: datetime | None
) -> Any:
    """Write the attestation and its event on `connection`, which must be inside the caller's transaction.

    Only `backend.core.access` calls this, after the access decision allowed the attestation: the
    relation and the write that needed it commit or roll back together.
    """
    row = await connection.fetchrow(
        """
        WITH by_org AS (  -- the organisation's patients, keyed by the organisation (its alert list)
            INSERT INTO care_relation_by_org (org_number, patient_id) VALUES ($4, $2) ON CONFLICT DO NOTHING
        )
        INSERT INTO care_relation (id, patient_id, kind, org_number, org_kind, attested_by_hpr,
                                   attested_by_name, valid_from, valid_until)
        VALUES ($1, $2, $3, $4, $5, $6, $7, now(), $8)
        RETURNING id, kind, org_number, org_kind, attested_by_hpr, attested_by_name, valid_from, valid_until
        """,
        uuid.uuid4(),
        patient_id,
        kind,
        principal.org_number,
        principal.org_kind,
        principal.hpr,
        principal.name,
        until,
    )
    await events.append_event(patient_id, events.EventType.CARE_RELATION_ATTESTED, row["id"])
    return row
