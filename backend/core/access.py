"""Who may see which patient (tjenstlig behov): the one decision every service asks before loading patient data.

A citizen sees only herself. A clinician sees a patient through an active care relation of her
organisation, or her own emergency access; a citizen's block of the clinician's HPR number refuses
the care relation but not emergency access; resources that need consent (the pregnancy card) need it
too, except in an emergency. An organisation of kind `laboratorium` may write lab reports for any
existing patient and read nothing. Every clinician decision, allowed or denied, is one audit row,
written in the same statement as the decision. Out of scope is always 404, exactly like absent.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from litestar import Request
from litestar.di import NamedDependency
from litestar.params import SkipValidation

from backend.core.audit import clinician_row
from backend.core.auth import CitizenPrincipal, ClinicianPrincipal, EditorPrincipal, Principal
from backend.core.errors import Forbidden, NotFound
from backend.core.identity import sealer
from backend.core.logs import request_id_var
from backend.db.engine import DB

Action = Literal["read", "write"]
Basis = Literal["self", "care-relation", "emergency", "laboratory"]

# Which organisation kinds may attest which kind of care relation (API.md).
ATTESTABLE: dict[str, frozenset[str]] = {
    "fastlege": frozenset({"gp"}),
    "helsestasjon": frozenset({"midwife"}),
    "sykehus": frozenset({"hospital", "midwife"}),
    "legevakt": frozenset({"legevakt"}),
    "hjemmetjeneste": frozenset({"homecare"}),
    "laboratorium": frozenset(),
}


@dataclass(frozen=True, slots=True)
class Grant:
    """Proof that `principal` may act on `patient_id`; services take it instead of a bare id."""

    patient_id: uuid.UUID
    basis: Basis
    principal: Principal


_DECIDE_AND_AUDIT = """
WITH decision AS (
    SELECT
        EXISTS (SELECT 1 FROM patient WHERE id = $8) AS patient_exists,
        EXISTS (SELECT 1 FROM emergency_access
                WHERE patient_id = $8 AND hpr = $3 AND valid_from <= now() AND valid_until > now()) AS emergency,
        EXISTS (SELECT 1 FROM care_relation
                WHERE patient_id = $8 AND org_number = $6 AND valid_from <= now()
                  AND (valid_until IS NULL OR valid_until > now())) AS related,
        EXISTS (SELECT 1 FROM clinician_block WHERE patient_id = $8 AND hpr = $3) AS blocked,
        ($13::text IS NULL OR EXISTS (SELECT 1 FROM consent WHERE patient_id = $8 AND scope = $13)) AS consented
), verdict AS (
    SELECT CASE
        WHEN NOT patient_exists THEN 'denied'
        WHEN emergency AND $15 THEN 'emergency'
        WHEN $14 AND $9 = 'write' THEN 'laboratory'
        WHEN blocked THEN 'denied'
        WHEN related AND consented THEN 'care-relation'
        ELSE 'denied'
    END AS basis
    FROM decision
)
INSERT INTO audit_log (actor_kind, actor, hpr, name, "authorization", org_number, org_kind,
                       patient_id, action, resource_type, resource_id, basis, request_id)
SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, verdict.basis, $12 FROM verdict
RETURNING basis
"""

_CACHE_SIZE = 50_000
_citizen_patients: OrderedDict[bytes, uuid.UUID] = OrderedDict()


async def patient_for_identity_number(number: str) -> uuid.UUID:
    """The patient id for a validated identity number, creating the patient on first sight."""
    digest = sealer().digest(number)
    cached = _citizen_patients.get(digest)
    if cached is not None:
        return cached
    async with DB.connection() as connection:
        patient_id: uuid.UUID | None = await connection.fetchval(
            "SELECT patient_id FROM patient_identity WHERE fnr_digest = $1", digest
        )
        if patient_id is None:
            patient_id = await connection.fetchval(
                """
                WITH identity AS (
                    INSERT INTO patient_identity (fnr_digest, patient_id, created_at) VALUES ($2, $1, now())
                    ON CONFLICT (fnr_digest) DO UPDATE SET fnr_digest = EXCLUDED.fnr_digest
                    RETURNING patient_id, xmax = 0 AS created
                ), created AS (
                    INSERT INTO patient (id, fnr_sealed, event_seq, created_at)
                    SELECT patient_id, $3, 0, now() FROM identity WHERE created
                )
                SELECT patient_id FROM identity
                """,
                uuid.uuid4(),
                digest,
                sealer().seal(number),
            )
    assert patient_id is not None
    _citizen_patients[digest] = patient_id
    if len(_citizen_patients) > _CACHE_SIZE:
        _citizen_patients.popitem(last=False)
    return patient_id


async def citizen_grant(principal: CitizenPrincipal) -> Grant:
    """The citizen's own patient record (created on first use)."""
    return Grant(patient_id=await patient_for_identity_number(principal.pid), basis="self", principal=principal)


async def authorize(
    principal: Principal,
    patient_id: uuid.UUID,
    *,
    action: Action,
    resource_type: str,
    resource_id: str | None = None,
    consent: str | None = None,
    laboratory_may_write: bool = False,
) -> Grant:
    """Decide whether `principal` may `action` this patient's `resource_type`; audit it; 404 when not."""
    if isinstance(principal, CitizenPrincipal):
        own = await citizen_grant(principal)
        if own.patient_id != patient_id:
            raise NotFound("no such patient")
        return own
    if isinstance(principal, EditorPrincipal):
        raise NotFound("no such patient")
    lab_write = laboratory_may_write and principal.org_kind == "laboratorium"
    async with DB.connection() as connection:
        basis = await connection.fetchval(
            _DECIDE_AND_AUDIT,
            *clinician_row(principal),
            patient_id,
            action,
            resource_type,
            resource_id,
            request_id_var.get(),
            consent,
            lab_write,
            may_open_emergency_access(principal),
        )
    if basis == "denied":
        raise NotFound("no such patient")
    return Grant(patient_id=patient_id, basis=basis, principal=principal)


async def grant_passes_consent(grant: Grant, scope: str) -> bool:
    """Whether the holder of `grant` may learn what consent `scope` protects, without a second audit row.

    The same rule as `authorize(..., consent=scope)`: the patient herself and emergency access always,
    a care relation only while the patient's consent is given. Services use it to word an answer
    (e.g. a NEWS2 not-valid reason) so that nothing the consent protects reaches anyone else.
    """
    if grant.basis in ("self", "emergency"):
        return True
    if grant.basis != "care-relation":
        return False
    async with DB.connection() as connection:
        given: bool = await connection.fetchval(
            "SELECT EXISTS (SELECT 1 FROM consent WHERE patient_id = $1 AND scope = $2)", grant.patient_id, scope
        )
    return given


def may_open_emergency_access(principal: ClinicianPrincipal) -> bool:
    """A laboratory posts results for anyone but treats no one: it has no emergency to open access for."""
    return principal.org_kind != "laboratorium"


async def is_blocked(principal: ClinicianPrincipal, patient_id: uuid.UUID) -> bool:
    """Whether the patient has blocked this clinician's HPR number (then he may not attest a relation either)."""
    async with DB.connection() as connection:
        blocked: bool = await connection.fetchval(
            "SELECT EXISTS (SELECT 1 FROM clinician_block WHERE patient_id = $1 AND hpr = $2)",
            patient_id,
            principal.hpr,
        )
    return blocked


def may_attest(principal: ClinicianPrincipal, kind: str) -> bool:
    return kind in ATTESTABLE.get(principal.org_kind, frozenset())


async def relation_is_missing(
    principal: ClinicianPrincipal, patient_id: uuid.UUID, *, kind: str, consent: str | None = None
) -> bool:
    """True when the patient exists, has given `consent` (if named), has not blocked this clinician, and the
    clinician's organisation has no active care relation of `kind`: the case in which a domain may attest one
    as part of its own write (a midwife creating a pregnancy card). The access decision stays `authorize`."""
    async with DB.connection() as connection:
        missing: bool | None = await connection.fetchval(
            """
            SELECT ($3::text IS NULL OR EXISTS (SELECT 1 FROM consent WHERE patient_id = p.id AND scope = $3))
               AND NOT EXISTS (SELECT 1 FROM clinician_block WHERE patient_id = p.id AND hpr = $4)
               AND NOT EXISTS (SELECT 1 FROM care_relation
                               WHERE patient_id = p.id AND org_number = $2 AND kind = $5
                                 AND valid_from <= now() AND (valid_until IS NULL OR valid_until > now()))
            FROM patient p WHERE p.id = $1
            """,
            patient_id,
            principal.org_number,
            consent,
            principal.hpr,
            kind,
        )
    return bool(missing)


# --- dependencies for the routers (request.user is set by RequirePrincipal) ---------------------------


async def provide_me(request: Request[Any, Any, Any]) -> Grant:
    """The calling citizen's own patient record: routes under /citizen/v1/me take this."""
    principal = request.user
    if not isinstance(principal, CitizenPrincipal):
        raise Forbidden("this route is for citizen tokens")
    return await citizen_grant(principal)


def provide_clinician(request: Request[Any, Any, Any]) -> ClinicianPrincipal:
    principal = request.user
    if not isinstance(principal, ClinicianPrincipal):
        raise Forbidden("this route is for clinician tokens")
    return principal


def provide_editor(request: Request[Any, Any, Any]) -> EditorPrincipal:
    principal = request.user
    if not isinstance(principal, EditorPrincipal):
        raise Forbidden("this route is for editor tokens")
    return principal


# Handler parameter types: injected by name, not re-validated (the providers above built them).
MeGrant: TypeAlias = NamedDependency[SkipValidation[Grant]]
Clinician: TypeAlias = NamedDependency[SkipValidation[ClinicianPrincipal]]
Editor: TypeAlias = NamedDependency[SkipValidation[EditorPrincipal]]
