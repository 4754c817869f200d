"""Who may see which patient (tjenstlig behov): the one decision every service asks before loading patient data.

A citizen sees only herself. A clinician sees a patient through an active care relation of her
organisation, or her own emergency access; a citizen's block of the clinician's HPR number refuses
the care relation but not emergency access; resources that need consent (the pregnancy card) need it
too, except in an emergency. An organisation of kind `laboratorium` may write lab reports for any
existing patient and read nothing, and opens no emergency access. An organisation of kind `apotek` (pharmacy)
may do what a Need marks `pharmacy_may` (read active prescriptions, record dispensings) for any existing
patient, audited with basis `pharmacy`, and nothing else; it opens no emergency access either. A citizen may act
for someone she represents (`Helsekort-Act-For`: a guardian for a child, an attorney for the grantor) on the
routes the representation's scopes cover (core/representation.py): basis `representative`, audited in the
represented person's log.

A route states what it needs as a `Need` (action, resource type, consent, the role that may do it, the
care relation its write may attest) and asks `authorize`, which returns the `Grant` every service
function takes instead of a bare patient id. Every clinician decision is exactly one audit row with its
true outcome — allowed with its basis, or denied with the reason (`role`, `no-patient`, `blocked`,
`no-consent`, `no-relation`) — committed before anything is disclosed or written (a role refusal: before the
decision), outside the write's transaction so that a refused or failed write is still on record. The decision
is one statement (with the read it guards, for a read) and its row goes to the audit log's group commit
(`audit.append_row_durably`): the request waits for its own row to be on disk, and concurrent requests share
one commit. A refusal found
later by a service (a JO changing an entry outside her list) is `refuse(grant, ...)`: its own denied
row. Out of scope is 404, exactly like absent; refused by role is 403.
"""

from __future__ import annotations

import contextlib
import functools
import re
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, Literal, NoReturn, TypeAlias, TypeVar

import asyncpg
from litestar import Request
from litestar.di import NamedDependency
from litestar.params import SkipValidation

from backend.core import events, representation
from backend.core.audit import append_row_durably, clinician_row, record_clinician_action
from backend.core.auth import (
    READ_METHODS,
    CitizenPrincipal,
    ClinicianPrincipal,
    EditorPrincipal,
    Principal,
    SystemPrincipal,
)
from backend.core.change_signals import PatientCache
from backend.core.clock import utcnow
from backend.core.errors import BadRequest, Forbidden, NotFound
from backend.core.identity import sealer
from backend.core.logs import request_id_var
from backend.core.relations import ATTESTABLE, RelationKind, insert_relation, may_attest
from backend.db.engine import DB

__all__ = [
    "ATTESTABLE",
    "Action",
    "Basis",
    "Clinician",
    "Editor",
    "Grant",
    "MeGrant",
    "Need",
    "Read",
    "Role",
    "System",
    "attest",
    "authorize",
    "authorize_cached",
    "authorize_cached_read",
    "authorize_kept_read",
    "authorize_read",
    "citizen_grant",
    "clinician_of",
    "grant_passes_consent",
    "may_attest",
    "may_open_emergency_access",
    "open_emergency_access",
    "patient_for_identity_number",
    "read_decided",
    "read_key",
    "refuse",
    "timeless",
    "write_transaction",
]

# `read-content`: the bytes of a journal document, a row of its own beside the listing's `read` (API.md).
Action = Literal["read", "read-content", "write", "attest", "emergency-access"]
Basis = Literal["self", "care-relation", "emergency", "laboratory", "pharmacy", "representative"]
Refusal = Literal["role", "no-patient", "blocked", "no-consent", "no-relation"]

LABORATORY = "laboratorium"
PHARMACY = "apotek"
_FRAGMENT = re.compile(r"[a-z_]+ WHERE [a-z_]+ = '[a-z-]+'")


@dataclass(frozen=True, slots=True)
class Role:
    """Who may, by HPR authorization and organisation kind (None: any); otherwise 403 with `rule`, audited."""

    rule: str
    authorizations: frozenset[str] | None = None
    org_kinds: frozenset[str] | None = None

    def allows(self, principal: ClinicianPrincipal) -> bool:
        return (self.authorizations is None or principal.authorization in self.authorizations) and (
            self.org_kinds is None or principal.org_kind in self.org_kinds
        )


@dataclass(frozen=True, slots=True)
class Need:
    """What a route needs to touch a patient's data; declared once per resource and action by its domain."""

    action: Action
    resource_type: str
    consent: str | None = None  # a consent scope the patient must have given (emergency access excepted)
    role: Role | None = None
    laboratory_may_write: bool = False  # lab reports: a laboratory may write them for any existing patient
    pharmacy_may: bool = False  # prescriptions: a pharmacy may do this (read or write) for any existing patient
    attests: RelationKind | None = None  # the write may attest this care relation for the caller's organisation
    # …unless a row of the patient's matches this (a constant `table WHERE condition` of the domain's, e.g. an
    # ongoing pregnancy card: creating a second one must not open her record to a new organisation).
    attest_unless: str | None = None
    # A consent scope that changes how the answer is worded, not whether it is given (midwives' relations are
    # hidden from a reader without the pregnancy consent): the decision finds it out in the same statement.
    reveals: str | None = None

    def __post_init__(self) -> None:
        if self.attest_unless is not None and not _FRAGMENT.fullmatch(self.attest_unless):
            raise ValueError(f"attest_unless must be `table WHERE column = 'constant'`: {self.attest_unless!r}")


@dataclass(frozen=True, slots=True)
class Grant:
    """Proof that `principal` may act on `patient_id`; services take it instead of a bare id.

    Made only here, by `authorize`, `attest`, `citizen_grant` and `provide_me`. `attests` is a care relation that
    `write_transaction` writes together with the write that needed it. A representative's grant (basis
    `representative`) names the acting citizen's own patient id (`actor`) and the scopes she holds.
    """

    patient_id: uuid.UUID
    basis: Basis
    principal: Principal
    need: Need | None = None
    attests: RelationKind | None = None
    revealed: bool | None = None  # whether she has given the consent the Need `reveals` (None: not asked)
    actor: uuid.UUID | None = None  # basis `representative`: the representative's own patient id
    scopes: frozenset[str] = frozenset()  # basis `representative`: the scopes she holds for the patient


# The decision's parameters: $1 the clinician's HPR number, $2 her organisation, $3 the patient, $4 the action,
# $5 the consent the Need requires, $6 a laboratory's write, $7 whether she may open emergency access, $8 the care
# relation the write may attest, $9 the consent the Need `reveals`, $10 a pharmacy's Need.
_DECISION_TEMPLATE = """
WITH decision AS MATERIALIZED (
    SELECT
        EXISTS (SELECT 1 FROM patient WHERE id = $3) AS patient_exists,
        EXISTS (SELECT 1 FROM emergency_access
                WHERE patient_id = $3 AND hpr = $1 AND valid_from <= now() AND valid_until > now()) AS emergency,
        EXISTS (SELECT 1 FROM care_relation
                WHERE patient_id = $3 AND org_number = $2 AND valid_from <= now()
                  AND (valid_until IS NULL OR valid_until > now())) AS related,
        ($8::text IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM care_relation
            WHERE patient_id = $3 AND org_number = $2 AND kind = $8 AND valid_from <= now()
              AND (valid_until IS NULL OR valid_until > now()))
         {attest_unless}) AS attests,
        EXISTS (SELECT 1 FROM clinician_block WHERE patient_id = $3 AND hpr = $1) AS blocked,
        ($5::text IS NULL OR EXISTS (SELECT 1 FROM consent WHERE patient_id = $3 AND scope = $5)) AS consented,
        ($9::text IS NOT NULL AND EXISTS (SELECT 1 FROM consent WHERE patient_id = $3 AND scope = $9)) AS revealed
), verdict AS (
    SELECT CASE
        WHEN NOT patient_exists THEN 'denied'
        WHEN emergency AND $7 THEN 'emergency'
        WHEN $6 AND $4 = 'write' THEN 'laboratory'
        WHEN $10 THEN 'pharmacy'
        WHEN blocked THEN 'denied'
        WHEN (related OR attests) AND consented THEN 'care-relation'
        ELSE 'denied'
    END AS basis,
    CASE
        WHEN NOT patient_exists THEN 'no-patient'
        WHEN emergency AND $7 THEN NULL
        WHEN $6 AND $4 = 'write' THEN NULL
        WHEN $10 THEN NULL
        WHEN blocked THEN 'blocked'
        WHEN (related OR attests) AND NOT consented THEN 'no-consent'
        WHEN related OR attests THEN NULL
        ELSE 'no-relation'
    END AS refusal,
    attests AND patient_exists AND NOT blocked AND consented AND NOT (emergency AND $7) AS attests,
    revealed
    FROM decision
)"""
_DECIDE_TEMPLATE = f"""{_DECISION_TEMPLATE}
SELECT basis, refusal, attests, revealed FROM verdict
"""  # noqa: S608 - constant fragments
_DECISION_PARAMETERS = 10  # $1…$10 above; a Read's own parameters follow them

# The decision and a domain's read in one statement (`authorize_read`). The read runs only when the decision
# allows (a one-time filter on the lateral row `access`: a refused read never touches her data), in the same
# snapshot, and its rows come back in the read's own order after the decision's columns. An empty read is one row
# whose `access_ordinal` is NULL.
_DECIDE_AND_READ_TEMPLATE = f"""{_DECISION_TEMPLATE}, access AS (
    SELECT basis, refusal, attests, revealed, $3::uuid AS patient_id,
           basis = 'emergency' AS emergency,
           basis = 'emergency' OR (basis = 'care-relation' AND revealed) AS reveals
    FROM verdict
)
SELECT access.basis AS access_basis, access.refusal AS access_refusal, access.attests AS access_attests,
       access.revealed AS access_revealed, granted_read.*
FROM access LEFT JOIN LATERAL (
    SELECT row_number() OVER () AS access_ordinal, domain_read.* FROM ({{read}}) domain_read
    WHERE access.basis <> 'denied'
) granted_read ON true
ORDER BY granted_read.access_ordinal
"""  # noqa: S608 - constant fragments
_PARAMETER = re.compile(r"\$(\d+)")

# A `Read` run after its decision, alone (`read_decided`): the lateral row `access` holds what the decision found,
# as parameters $1…$3, and the read's own parameters follow them.
_READ_DECIDED_TEMPLATE = """
WITH access AS (SELECT $1::uuid AS patient_id, $2::boolean AS emergency, $3::boolean AS reveals)
SELECT granted_read.*
FROM access CROSS JOIN LATERAL (
    SELECT row_number() OVER () AS access_ordinal, domain_read.* FROM ({read}) domain_read
) granted_read
ORDER BY granted_read.access_ordinal
"""
_READ_DECIDED_PARAMETERS = 3


def bound_to_decision(sql: str, decided: Sequence[str | None], *, offset: int = 0) -> str:
    """A read's SQL written with its own parameters $1…$n, rewritten for a `Read`: parameter k becomes the decision's
    column `decided[k-1]` (e.g. `access.patient_id`, `access.emergency`), or, where that is None, the next of the
    read's arguments after `offset` (in parameter order)."""
    numbers: list[str] = []
    for column in decided:
        if column is None:
            offset += 1
            numbers.append(f"${offset}")
        else:
            numbers.append(column)
    return _PARAMETER.sub(lambda found: numbers[int(found[1]) - 1], sql)


def _attest_unless_clause(attest_unless: str | None) -> str:
    """`attest_unless` is a validated constant of a domain's `Need`, never input."""
    return f"AND NOT EXISTS (SELECT 1 FROM {attest_unless} AND patient_id = $3)" if attest_unless else ""  # noqa: S608 (a validated constant)


@functools.cache
def _decide(attest_unless: str | None) -> str:
    """The decision statement."""
    return _DECIDE_TEMPLATE.replace("{attest_unless}", _attest_unless_clause(attest_unless))


@functools.lru_cache(maxsize=256)
def _decide_and_read(attest_unless: str | None, read: str) -> str:
    """The decision statement with a domain's read (a constant of its queries module: cached per text)."""
    shifted = _PARAMETER.sub(lambda found: f"${int(found[1]) + _DECISION_PARAMETERS}", read)
    statement = _DECIDE_AND_READ_TEMPLATE.replace("{attest_unless}", _attest_unless_clause(attest_unless))
    return statement.replace("{read}", shifted)


@functools.lru_cache(maxsize=256)
def _read_decided(read: str) -> str:
    """A domain's read (a constant of its queries module) as a statement of its own after the decision."""
    shifted = _PARAMETER.sub(lambda found: f"${int(found[1]) + _READ_DECIDED_PARAMETERS}", read)
    return _READ_DECIDED_TEMPLATE.replace("{read}", shifted)


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


def _need(
    need: Need | None,
    action: Action | None,
    resource_type: str | None,
    consent: str | None,
    laboratory_may_write: bool,
) -> Need:
    if need is not None:
        return need
    if action is None or resource_type is None:
        raise TypeError("authorize needs a Need, or action and resource_type")
    return Need(action=action, resource_type=resource_type, consent=consent, laboratory_may_write=laboratory_may_write)


def _role_refusal(principal: ClinicianPrincipal, need: Need) -> str | None:
    """The rule a clinician breaks by role alone (before anything about the patient is asked), or None."""
    if principal.org_kind == LABORATORY and not (need.laboratory_may_write and need.action == "write"):
        return "a laboratory posts lab reports and reads or changes nothing else"
    if principal.org_kind == PHARMACY and not need.pharmacy_may:
        return "a pharmacy reads active prescriptions and records dispensings, and nothing else"
    if need.attests is not None and not may_attest(principal, need.attests):
        return f"an organisation of kind {principal.org_kind} may not attest a {need.attests} care relation"
    if need.role is not None and not need.role.allows(principal):
        return need.role.rule
    return None


async def _record_refusal(
    principal: ClinicianPrincipal,
    patient_id: uuid.UUID | None,
    need: Need,
    resource_id: str | None,
) -> None:
    await record_clinician_action(
        principal,
        patient_id=patient_id,
        action=need.action,
        resource_type=need.resource_type,
        resource_id=resource_id,
        basis="denied",
        refusal="role",
    )


def _outside_transaction() -> None:
    # The decision's audit row must survive a rolled-back write, and a second connection per request
    # could starve the pool: decide first, then open the write's transaction (`write_transaction`).
    if DB.current_transaction.get() is not None:
        raise RuntimeError("authorize() runs before the write's transaction, never inside it")


async def authorize(
    principal: Principal,
    patient_id: uuid.UUID,
    need: Need | None = None,
    *,
    resource_id: str | None = None,
    action: Action | None = None,
    resource_type: str | None = None,
    consent: str | None = None,
    laboratory_may_write: bool = False,
) -> Grant:
    """Decide whether `principal` may do what `need` says to this patient; audit it; 403 by role, 404 out of scope."""
    need = _need(need, action, resource_type, consent, laboratory_may_write)
    if isinstance(principal, CitizenPrincipal):
        own = await citizen_grant(principal)
        if own.patient_id != patient_id:
            raise NotFound("no such patient")
        return Grant(patient_id=own.patient_id, basis="self", principal=principal, need=need)
    if isinstance(principal, EditorPrincipal | SystemPrincipal):
        raise NotFound("no such patient")
    await _refuse_by_role(principal, patient_id, need, resource_id)
    async with DB.connection() as connection:
        row = await connection.fetchrow(_decide(need.attest_unless), *_decision_values(principal, patient_id, need))
    await _audit(principal, patient_id, need, resource_id=resource_id, basis=row["basis"], refusal=row["refusal"])
    return _granted(principal, patient_id, need, row["basis"], attests=row["attests"], revealed=row["revealed"])


async def _refuse_by_role(
    principal: ClinicianPrincipal, patient_id: uuid.UUID, need: Need, resource_id: str | None
) -> None:
    _outside_transaction()
    rule = _role_refusal(principal, need)
    if rule is not None:
        await _record_refusal(principal, patient_id, need, resource_id)
        raise Forbidden(rule)


def _decision_values(principal: ClinicianPrincipal, patient_id: uuid.UUID, need: Need) -> tuple[Any, ...]:
    """$1…$10 of the decision statement."""
    return (
        principal.hpr,
        principal.org_number,
        patient_id,
        need.action,
        need.consent,
        need.laboratory_may_write and principal.org_kind == LABORATORY,
        may_open_emergency_access(principal),
        need.attests,
        need.reveals,
        need.pharmacy_may and principal.org_kind == PHARMACY,
    )


async def _audit(
    principal: ClinicianPrincipal,
    patient_id: uuid.UUID,
    need: Need,
    *,
    resource_id: str | None,
    basis: str,
    refusal: str | None,
) -> None:
    """The decision's one audit row, on disk when this returns (the audit log's group commit)."""
    row = (
        *clinician_row(principal),
        patient_id,
        need.action,
        need.resource_type,
        resource_id,
        basis,
        request_id_var.get(),
        refusal,
    )
    await append_row_durably(row)


def _granted(
    principal: ClinicianPrincipal, patient_id: uuid.UUID, need: Need, basis: Any, *, attests: Any, revealed: Any
) -> Grant:
    if basis == "denied":
        raise NotFound("no such patient")
    return Grant(
        patient_id=patient_id,
        basis=basis,
        principal=principal,
        need=need,
        attests=need.attests if attests else None,
        revealed=revealed if need.reveals is not None else None,
    )


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Read(Generic[T]):
    """A clinician's read that runs in the access decision's own statement (`authorize_read`): one round trip.

    `sql` is a SELECT (a constant of the domain's queries module) whose own parameters are $1…$n (`args`). It
    names the patient and what the decision found through the lateral row `access`, never through an argument:
    `access.patient_id`; `access.emergency` (the basis is emergency access); `access.reveals` (the reader may
    learn what the Need's `reveals` consent protects — the rule of `grant_passes_consent`). `result` makes the
    answer from its rows (in the read's order); it runs only when the decision allowed the read.
    """

    sql: str
    args: tuple[Any, ...]
    result: Callable[[list[Any]], T]
    # What the answer depends on besides her and the decision, for a cache (`read_key`), when `args` hold the
    # clock (a window's start): the same arguments with the window itself in its place.
    key: tuple[Any, ...] | None = None


async def authorize_read(
    principal: ClinicianPrincipal,
    patient_id: uuid.UUID,
    need: Need,
    read: Read[T],
    *,
    resource_id: str | None = None,
) -> tuple[Grant, T]:
    """`authorize` and the read it guards in one statement: the decision, then the read if allowed.

    The same decision and audit row as `authorize` (403 by role, audited first; 404 out of scope, audited as
    denied, and the read never runs). The read sees the snapshot the decision saw, and its answer is returned only
    once the decision's audit row is on disk. When the server refuses the statement (the read timed out), nothing
    is disclosed: the decision is then made and recorded alone, as `authorize` does, and the error answers.
    """
    if need.action != "read":
        raise TypeError("authorize_read is for reads; a write decides first with authorize")
    await _refuse_by_role(principal, patient_id, need, resource_id)
    try:
        async with DB.connection() as connection:
            rows = await connection.fetch(
                _decide_and_read(need.attest_unless, read.sql),
                *_decision_values(principal, patient_id, need),
                *read.args,
            )
    except asyncpg.PostgresError:
        # The server refused the statement as a whole (the read timed out): nothing was decided or read.
        # The decision alone records the attempt, as `authorize` would have, before the error answers.
        with contextlib.suppress(NotFound):
            await authorize(principal, patient_id, need, resource_id=resource_id)
        raise
    first = rows[0]
    basis, attests, revealed = first["access_basis"], first["access_attests"], first["access_revealed"]
    await _audit(principal, patient_id, need, resource_id=resource_id, basis=basis, refusal=first["access_refusal"])
    grant = _granted(principal, patient_id, need, basis, attests=attests, revealed=revealed)
    return grant, read.result([row for row in rows if row["access_ordinal"] is not None])


_DECISION_COLUMN = re.compile(r"\baccess\.(\w+)")


@functools.lru_cache(maxsize=256)
def _beyond_its_patient(sql: str) -> bool:
    """Whether a read names the decision beyond its patient (its SQL is a constant: looked at once)."""
    return bool(set(_DECISION_COLUMN.findall(sql)) - {"patient_id"})


async def authorize_cached_read(
    principal: ClinicianPrincipal,
    patient_id: uuid.UUID,
    need: Need,
    read: Read[T],
    cache: PatientCache[T],
    *,
    resource_id: str | None = None,
) -> tuple[Grant, T]:
    """`authorize_kept_read` for an answer that is the same for every reader the decision allows and that time
    alone never changes: `read.sql` names the decision through `access.patient_id` only (never `access.emergency`
    or `access.reveals`), `result` depends on nothing but the rows, and every write that changes the rows appends
    an event for her. The decision and its audit row are made on every request, kept answer or not."""
    if _beyond_its_patient(read.sql):
        raise TypeError("a read that depends on the decision beyond its patient is not the same for every reader")
    return await authorize_kept_read(principal, patient_id, need, timeless(read), cache, resource_id=resource_id)


def timeless(read: Read[T]) -> Read[tuple[T, datetime | None]]:
    """`read` as a read for `authorize_kept_read` whose answer time alone never changes."""
    result = read.result
    return Read(sql=read.sql, args=read.args, result=lambda rows: (result(rows), None), key=read.key)


def decided(grant: Grant) -> tuple[bool, bool]:
    """What a clinician's decision found that a `Read` may name: (`access.emergency`, `access.reveals`), by the
    rule of `authorize_read`'s lateral row (the basis is emergency access; emergency access, or a care relation
    with the consent the Need `reveals`)."""
    emergency = grant.basis == "emergency"
    return emergency, emergency or (grant.basis == "care-relation" and grant.revealed is True)


def read_key(read: Read[Any]) -> Hashable:
    """A `Read` as a cache key: its statement and its `key`, else its arguments (lists as tuples)."""
    parts = read.key if read.key is not None else read.args
    return read.sql, tuple(tuple(part) if isinstance(part, list) else part for part in parts)


async def read_decided(grant: Grant, read: Read[T]) -> T:
    """`read` for a grant already decided (and audited), as a statement of its own: `access.patient_id`,
    `access.emergency` and `access.reveals` are the grant's (`decided`), exactly as `authorize_read` would have
    bound them in the decision's statement."""
    emergency, reveals = decided(grant)
    async with DB.connection() as connection:
        rows = await connection.fetch(_read_decided(read.sql), grant.patient_id, emergency, reveals, *read.args)
    return read.result(rows)


async def authorize_cached(
    principal: ClinicianPrincipal,
    patient_id: uuid.UUID,
    need: Need,
    *,
    cache: PatientCache[T],
    key: Hashable,
    read: Callable[[Grant], Awaitable[tuple[T, datetime | None]]],
    resource_id: str | None = None,
) -> tuple[Grant, T]:
    """`authorize`, then the answer kept in `cache` for this patient, `key` and what the decision found
    (`decided`), else `read(grant)`: (the answer, until when time alone leaves it unchanged, or None).

    The decision and its audit row are made on every request, kept answer or not, and a refusal (403 audited, 404
    audited as denied) answers before anything kept is looked at. A kept answer is one statement, a new one two.
    For an answer that depends on the reader beyond the decision's findings (her organisation, the look-back of
    its kind, the page asked for): `key` must hold all of it, and `read` may use nothing of the grant but its
    patient and findings; every write that changes the answer appends an event for her, and an answer that
    changes with time alone says when (`read`'s second value; midnight in Norway and 5 minutes bound it anyway).
    """
    grant = await authorize(principal, patient_id, need, resource_id=resource_id)
    value = await cache.get(patient_id, (key, *decided(grant)), lambda: read(grant))
    return grant, value


_FINDINGS = ((False, False), (False, True), (True, True))  # `decided`'s possible values


async def authorize_kept_read(
    principal: ClinicianPrincipal,
    patient_id: uuid.UUID,
    need: Need,
    read: Read[tuple[T, datetime | None]],
    cache: PatientCache[T],
    *,
    resource_id: str | None = None,
) -> tuple[Grant, T]:
    """`authorize_cached` for a `Read` whose answer is (the answer, until when time alone leaves it unchanged or
    None), kept by `read_key(read)` and what the decision found. While nothing is kept of her for this key, the
    decision, its audit row and the read are ONE statement (`authorize_read`), its answer kept under what that
    decision found; once something is, `authorize_cached`: the decision alone, and the read after it only when
    the decision found otherwise than what was kept."""
    key = read_key(read)
    if cache.holds_any(patient_id, [(key, *finding) for finding in _FINDINGS]):
        return await authorize_cached(
            principal, patient_id, need, cache=cache, key=key, read=lambda grant: read_decided(grant, read),
            resource_id=resource_id,
        )  # fmt: skip
    granted: list[Grant] = []

    async def together() -> tuple[T, datetime | None, Hashable]:
        grant, (value, until) = await authorize_read(principal, patient_id, need, read, resource_id=resource_id)
        granted.append(grant)
        return value, until, (key, *decided(grant))

    value = await cache.read_and_keep(patient_id, together)
    return granted[0], value


def clinician_of(grant: Grant) -> ClinicianPrincipal:
    """The clinician a clinician route's grant was given to (403 for any other token: a programming slip, not input)."""
    if not isinstance(grant.principal, ClinicianPrincipal):
        raise Forbidden("this route is for clinician tokens")
    return grant.principal


async def refuse(
    grant: Grant, rule: str, *, resource_id: str | None = None, extra: dict[str, Any] | None = None
) -> NoReturn:
    """A refusal by role that only the service can see (it depends on what is written): audited, then 403."""
    if isinstance(grant.principal, ClinicianPrincipal):
        need = grant.need or Need(action="write", resource_type="patient")
        await _record_refusal(grant.principal, grant.patient_id, need, resource_id)
    raise Forbidden(rule, extra=extra)


@contextlib.asynccontextmanager
async def write_transaction(grant: Grant) -> AsyncIterator[Any]:
    """The write's transaction and connection; a care relation the decision attested commits with it, or not at all."""
    async with DB.transaction(), DB.connection() as connection:
        if grant.attests is not None and isinstance(grant.principal, ClinicianPrincipal):
            await insert_relation(connection, grant.principal, grant.patient_id, grant.attests, None)
        yield connection


MAX_CARE_RELATION_DAYS = 3 * 366
EMERGENCY_ACCESS_HOURS = 4


def _check_until(until: datetime | None, now: datetime) -> None:
    if until is None:
        return
    if until.tzinfo is None:
        raise BadRequest("until needs a time zone offset", field="until")
    if until <= now:
        raise BadRequest("until must be in the future", field="until")
    if until > now + timedelta(days=MAX_CARE_RELATION_DAYS):
        raise BadRequest(f"until may be at most {MAX_CARE_RELATION_DAYS} days ahead", field="until")


async def attest(
    principal: ClinicianPrincipal, patient_id: uuid.UUID, kind: RelationKind, until: datetime | None
) -> tuple[Grant, Any]:
    """The care-relation route: attest (or renew) a relation of `kind` for the caller's organisation.

    The same decision as every access (the organisation kind may attest `kind`, else 403; the patient
    exists and has not blocked him, else 404 — a blocked clinician must not open the door for his
    colleagues), one audit row, and the relation written with its event in one transaction.
    """
    _check_until(until, utcnow())
    need = Need(action="attest", resource_type="care-relation", attests=kind)
    grant = await authorize(principal, patient_id, need)
    async with DB.transaction(), DB.connection() as connection:
        row = await insert_relation(connection, principal, patient_id, kind, until)
    return Grant(patient_id=patient_id, basis=grant.basis, principal=principal, need=need), row


EMERGENCY = Need(action="emergency-access", resource_type="patient")


async def open_emergency_access(principal: ClinicianPrincipal, patient_id: uuid.UUID, reason: str) -> datetime:
    """Open this clinician's own emergency access (nødrett) for a few hours; the citizen is told. Returns its end.

    A laboratory treats no one (403, audited); a patient who does not exist is 404 (audited); a block does
    not stop it. The opening itself is the audit row with basis `emergency`.
    """
    reason = reason.strip()
    if len(reason) < 10:
        raise BadRequest("give the reason for emergency access in at least 10 characters", field="reason")
    if not may_open_emergency_access(principal):
        await _record_refusal(principal, patient_id, EMERGENCY, None)
        raise Forbidden(f"an organisation of kind {principal.org_kind} may not open emergency access")
    _outside_transaction()
    until = utcnow() + timedelta(hours=EMERGENCY_ACCESS_HOURS)
    async with DB.transaction(), DB.connection() as connection:
        access_id = await connection.fetchval(
            """
            INSERT INTO emergency_access (id, patient_id, hpr, org_number, reason, valid_from, valid_until)
            SELECT $1, p.id, $3, $4, $5, now(), $6 FROM patient p WHERE p.id = $2
            RETURNING id
            """,
            uuid.uuid4(),
            patient_id,
            principal.hpr,
            principal.org_number,
            reason,
            until,
        )
        if access_id is not None:
            # The citizen is told through her change feed and a push (the push rules read this event).
            await events.append_event(patient_id, events.EventType.EMERGENCY_ACCESS_OPENED, access_id)
    await record_clinician_action(
        principal,
        patient_id=patient_id,
        action=EMERGENCY.action,
        resource_type=EMERGENCY.resource_type,
        resource_id=str(access_id) if access_id else None,
        basis="emergency" if access_id else "denied",
        refusal=None if access_id else "no-patient",
    )
    if access_id is None:
        raise NotFound("no such patient")
    return until


async def grant_passes_consent(grant: Grant, scope: str) -> bool:
    """Whether the holder of `grant` may learn what consent `scope` protects, without a second audit row.

    The same rule as `authorize(..., consent=scope)`: the patient herself and emergency access always,
    a care relation only while the patient's consent is given. Services use it to word an answer
    (e.g. a NEWS2 not-valid reason) so that nothing the consent protects reaches anyone else.
    """
    if grant.basis in ("self", "emergency"):
        return True
    if grant.basis == "representative":
        # The one consent scope (pregnancy-card) protects what the representation scope `pregnancy` covers.
        return representation.covers(grant.scopes, "pregnancy")
    if grant.basis != "care-relation":
        return False
    if grant.need is not None and scope == grant.need.consent:
        return True  # the decision required it to be given
    if grant.need is not None and scope == grant.need.reveals and grant.revealed is not None:
        return grant.revealed  # the decision looked it up
    async with DB.connection() as connection:
        given: bool = await connection.fetchval(
            "SELECT EXISTS (SELECT 1 FROM consent WHERE patient_id = $1 AND scope = $2)", grant.patient_id, scope
        )
    return given


def may_open_emergency_access(principal: ClinicianPrincipal) -> bool:
    """A laboratory posts results and a pharmacy dispenses for anyone, but neither treats anyone: neither has an
    emergency to open access for."""
    return principal.org_kind not in (LABORATORY, PHARMACY)


# --- dependencies for the routers (request.user is set by RequirePrincipal) ---------------------------


async def provide_me(request: Request[Any, Any, Any]) -> Grant:
    """The patient a /citizen/v1/me route acts on: the caller herself, or with `Helsekort-Act-For` someone she
    represents, when the route's scope (`representation.act_for` in its opt) is one she holds for that person.

    Not a UUID: 400 naming the header. A route that is the person's own business: 403. No representation in
    force, or one that does not cover the route: 404, as for anyone else's data. Each decision is an audit row
    in the represented person's log (core/representation.py).
    """
    principal = request.user
    if not isinstance(principal, CitizenPrincipal):
        raise Forbidden("this route is for citizen tokens")
    own = await citizen_grant(principal)
    raw = request.headers.get(representation.ACT_FOR_HEADER)
    if raw is None:
        return own
    try:
        patient_id = uuid.UUID(raw.strip())
    except ValueError:
        raise BadRequest(
            f"{representation.ACT_FOR_HEADER} must be the patient id (a UUID) of someone you represent",
            field=representation.ACT_FOR_HEADER,
        ) from None
    if patient_id == own.patient_id:
        return own
    needed = request.route_handler.opt.get("act_for", representation.OWN)
    if needed == representation.OWN:
        raise Forbidden("this is managed only by the person herself, never by someone acting for her")
    _outside_transaction()
    scopes = await representation.decide(
        principal,
        own.patient_id,
        patient_id,
        needed,
        action="read" if request.method in READ_METHODS else "write",
        resource_id=_resource_id(request.path_params),
        now=utcnow(),
    )
    if scopes is None:
        raise NotFound("no such patient")
    return Grant(
        patient_id=patient_id, basis="representative", principal=principal, actor=own.patient_id, scopes=scopes
    )


def _resource_id(path_params: dict[str, Any]) -> str | None:
    """The route's resource id for the audit row: its last path parameter (ids, codes; never an identity number)."""
    values = [str(value) for value in path_params.values()]
    return values[-1][:64] if values else None


def provide_system(request: Request[Any, Any, Any]) -> SystemPrincipal:
    """A machine client whose token grants the scope the route names (`opt={"system_scope": ...}`), else 403."""
    principal = request.user
    if not isinstance(principal, SystemPrincipal):
        raise Forbidden("this route is for system tokens")
    needed = request.route_handler.opt.get("system_scope")
    if needed is None or needed not in principal.scopes:
        raise Forbidden(f"this route needs the scope {needed}")
    return principal


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
System: TypeAlias = NamedDependency[SkipValidation[SystemPrincipal]]
