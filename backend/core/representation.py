"""Representation: a citizen acting for someone else with `Helsekort-Act-For` (guardians, power of attorney).

A guardian (the population register's parent–child link) has every scope for a child under 12, only
`medications` and `prescriptions` from 12 to 15, and nothing from 16, the age computed from the child's
fødselsnummer on the day of the request. A power of attorney, given by a citizen aged 16+ to an adult (18+),
has the scopes the grantor chose, until its end or until revoked. Every `/citizen/v1/me…` route declares the
scope a representative needs (`act_for(...)` as the handler's or controller's `opt`): a data scope, `all`
(only a representative with `all`), `any` (any representation; the answer is filtered to its scopes: the change
feed) or `own` (the person's own business — consents, blocks, representatives, devices: never for someone
else, 403). `access.provide_me` asks `decide` once per request; each decision is one audit row in the
represented person's log (basis `representative` and the acting citizen, or `denied` with the refusal).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, Final, Literal, get_args

from backend.core import audit
from backend.core.auth import CitizenPrincipal, display_name
from backend.core.clock import OSLO
from backend.core.context import age_on, birth_date_of_sealed
from backend.core.logs import request_id_var
from backend.db.engine import DB

ACT_FOR_HEADER: Final = "Helsekort-Act-For"
# The audit row's actor while acting for someone: the representative's own patient id, which the represented
# person also sees in GET /me/representatives (core/audit.py shows it in her access log).
REPRESENTATIVE_ACTOR: Final = audit.REPRESENTATIVE_ACTOR

Scope = Literal[
    "lab-results", "medications", "prescriptions", "pregnancy", "measurements", "documents", "municipal-services", "all"
]
SCOPES: Final[tuple[Scope, ...]] = get_args(Scope)
# What a route needs beyond the data scopes: any representation at all (its answer filtered to the scopes), or
# none, because the route is the person's own business.
ANY: Final = "any"
OWN: Final = "own"
RouteScope = Scope | Literal["any", "own"]
ROUTE_SCOPES: Final[frozenset[str]] = frozenset((*SCOPES, ANY, OWN))

Basis = Literal["guardian", "power-of-attorney"]

CHILD_ALL_UNDER: Final = 12  # a guardian has every scope for a child under 12
CHILD_NONE_FROM: Final = 16  # …only medications and prescriptions from 12 to 15, nothing from 16
ADULT: Final = 18  # an attorney is an adult; a guardianship ends at 18 at the latest
GRANTOR_FROM: Final = 16  # a citizen gives power of attorney from 16
GUARDIAN_12_TO_15: Final[frozenset[str]] = frozenset({"medications", "prescriptions"})

# The change-feed resource types each scope lets a representative follow (prefixes of `event.resource_type`).
FEED_RESOURCE_TYPES: Final[dict[str, tuple[str, ...]]] = {
    "lab-results": ("lab-result", "lab-report"),
    "medications": ("medication-",),
    "prescriptions": ("prescription", "renewal-request"),
    "pregnancy": ("pregnancy-card",),
    "measurements": ("measurement", "news2-score", "spo2-target"),
    "documents": ("document",),
    "municipal-services": ("municipal-service",),
}


def act_for(scope: RouteScope) -> dict[str, Any]:
    """A route's (or controller's) `opt`: the scope a representative needs to use it for someone else."""
    if scope not in ROUTE_SCOPES:
        raise ValueError(f"unknown representation scope {scope!r}")
    return {"act_for": scope}


def guardian_scopes(age: int) -> frozenset[str]:
    if age < CHILD_ALL_UNDER:
        return frozenset({"all"})
    if age < CHILD_NONE_FROM:
        return GUARDIAN_12_TO_15
    return frozenset()


def covers(scopes: Iterable[str], needed: str) -> bool:
    """Whether a representative holding `scopes` may use a route that needs `needed`."""
    held = frozenset(scopes)
    if needed == ANY:
        return bool(held)
    if needed == OWN:
        return False
    return "all" in held or needed in held


def covers_resource_type(scopes: Iterable[str], resource_type: str) -> bool:
    """Whether a representative holding `scopes` may follow events about `resource_type` (her feed, her pushes)."""
    held = frozenset(scopes)
    return "all" in held or any(
        resource_type.startswith(prefix) for scope in held for prefix in FEED_RESOURCE_TYPES.get(scope, ())
    )


def feed_patterns(scopes: Iterable[str]) -> list[str] | None:
    """LIKE patterns of the change-feed resource types `scopes` cover (None: every type, for `all`)."""
    held = frozenset(scopes)
    if "all" in held:
        return None
    return sorted(f"{prefix}%" for scope in held for prefix in FEED_RESOURCE_TYPES.get(scope, ()))


_REPRESENTATION = """
SELECT p.fnr_sealed,
       EXISTS (SELECT 1 FROM guardianship g WHERE g.patient_id = p.id AND g.guardian_id = $2 AND g.active) AS guardian,
       ARRAY(SELECT DISTINCT unnest(a.scopes) FROM power_of_attorney a
             WHERE a.patient_id = p.id AND a.attorney_id = $2 AND a.revoked_at IS NULL
               AND (a.valid_until IS NULL OR a.valid_until > $3)) AS attorney_scopes
FROM patient p WHERE p.id = $1
"""

_AUDIT = """
INSERT INTO audit_log (actor_kind, actor, hpr, name, "authorization", org_number, org_kind,
                       patient_id, action, resource_type, resource_id, basis, request_id, refusal)
VALUES ('citizen', $1, NULL, $2, NULL, NULL, NULL, $3, $4, $5, $6, $7, $8, $9)
"""


def scopes_held(sealed: bytes | None, guardian: bool, attorney_scopes: Iterable[str], on: date) -> frozenset[str]:
    """Every scope a representative holds: the guardian's by the child's age on `on`, and the attorney's."""
    held = set(attorney_scopes)
    if guardian and sealed is not None:
        born = birth_date_of_sealed(sealed)
        if born is not None:
            held |= guardian_scopes(age_on(born, on))
    return frozenset(held)


async def decide(
    principal: CitizenPrincipal,
    representative_id: uuid.UUID,
    patient_id: uuid.UUID,
    needed: RouteScope,
    *,
    action: str,
    resource_id: str | None,
    now: datetime,
) -> frozenset[str] | None:
    """The scopes `representative_id` holds for `patient_id` when they cover `needed`, else None; audited.

    One row in the represented person's log: basis `representative` with the acting citizen, or `denied`
    (`not-represented`: no representation in force; `out-of-scope`: one that does not cover the route). A
    patient id that does not exist leaves no row (there is no log to put it in) and is refused the same way.
    """
    async with DB.connection() as connection:
        row = await connection.fetchrow(_REPRESENTATION, patient_id, representative_id, now)
        if row is None:
            return None
        held = scopes_held(row["fnr_sealed"], row["guardian"], row["attorney_scopes"], now.astimezone(OSLO).date())
        allowed = covers(held, needed)
        refusal = None if allowed else ("out-of-scope" if held else "not-represented")
        await connection.execute(
            _AUDIT,
            f"{REPRESENTATIVE_ACTOR}{representative_id}",
            display_name(principal.name),
            patient_id,
            action,
            needed,
            resource_id,
            "representative" if allowed else "denied",
            request_id_var.get(),
            refusal,
        )
    return held if allowed else None


_REPRESENTATIVES = """
SELECT p.id AS patient_id, p.fnr_sealed, r.representative_id, r.guardian, r.scopes
FROM patient p
JOIN LATERAL (
    SELECT g.guardian_id AS representative_id, true AS guardian, '{}'::text[] AS scopes
    FROM guardianship g WHERE g.patient_id = p.id AND g.active
    UNION ALL
    SELECT a.attorney_id, false, a.scopes
    FROM power_of_attorney a
    WHERE a.patient_id = p.id AND a.revoked_at IS NULL AND (a.valid_until IS NULL OR a.valid_until > $2)
) r ON true
WHERE p.id = ANY ($1::uuid[])
"""


async def representatives_of(
    patient_ids: Iterable[uuid.UUID], now: datetime
) -> dict[uuid.UUID, dict[uuid.UUID, frozenset[str]]]:
    """For each patient, who represents her now and with which scopes (the push worker's fan-out; no locks)."""
    ids = sorted(set(patient_ids))
    if not ids:
        return {}
    async with DB.connection() as connection:
        rows = await connection.fetch(_REPRESENTATIVES, ids, now)
    today = now.astimezone(OSLO).date()
    found: dict[uuid.UUID, dict[uuid.UUID, frozenset[str]]] = {}
    for row in rows:
        held = scopes_held(row["fnr_sealed"], row["guardian"], row["scopes"], today)
        if held:
            of_patient = found.setdefault(row["patient_id"], {})
            of_patient[row["representative_id"]] = of_patient.get(row["representative_id"], frozenset()) | held
    return found
