"""Representation managed: the population register's guardianships (a machine client) and the citizen's powers of
attorney (given from 16 to an adult, with scopes and an optional end, revoked at once), and whom she represents.

Acting for someone is decided in core (`access.provide_me`, `core/representation.py`); these are only the
person's own business (the routes say `act_for("own")`). Identity numbers arrive only in bodies, are checked
here and never echoed back or logged.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from backend.core import audit, representation
from backend.core.access import Grant, patient_for_identity_number
from backend.core.auth import CitizenPrincipal, SystemPrincipal
from backend.core.clock import OSLO, utcnow
from backend.core.context import age_on
from backend.core.db import DB
from backend.core.errors import BadRequest, Forbidden, NotFound
from backend.core.identity import IdentityNumber, InvalidIdentityNumber, parse_identity_number
from backend.core.paging import Instant, Position, clamp_limit, decode_cursor, keyset_page
from backend.core.representation import Basis as RepresentationBasis
from backend.patients import queries
from backend.patients.schemas import (
    GuardianshipIn,
    PowerOfAttorneyCreated,
    PowerOfAttorneyIn,
    Representative,
    RepresentativeList,
    Represented,
)


def _number(raw: str, field: str, *, allow_synthetic: bool) -> IdentityNumber:
    try:
        return parse_identity_number(raw, allow_synthetic=allow_synthetic)
    except InvalidIdentityNumber:
        raise BadRequest("not a valid fødselsnummer or D-nummer", field=field) from None


def _age(number: IdentityNumber, now: datetime) -> int:
    return age_on(number.birth_date, now.astimezone(OSLO).date())


async def register_guardianship(system: SystemPrincipal, data: GuardianshipIn, *, allow_synthetic: bool) -> None:
    """The register's parent–child link as it now stands (`active` false ends it); audited in the child's log."""
    now = utcnow()
    guardian = _number(data.guardian_fnr, "guardianFnr", allow_synthetic=allow_synthetic)
    child = _number(data.child_fnr, "childFnr", allow_synthetic=allow_synthetic)
    if guardian.value == child.value:
        raise BadRequest("a person is not her own guardian", field="childFnr")
    if data.active and _age(child, now) >= representation.ADULT:
        raise BadRequest(f"a guardianship is for a child under {representation.ADULT}", field="childFnr")
    guardian_id = await patient_for_identity_number(guardian.value)
    child_id = await patient_for_identity_number(child.value)
    async with DB.transaction(), DB.connection() as connection:
        await queries.upsert_guardianship(connection, child_id, guardian_id, data.active, now)
        await audit.record_system_action(
            connection, system, patient_id=child_id, action="write", resource_type="guardianship", basis="registry"
        )


async def give_power_of_attorney(
    me: Grant, data: PowerOfAttorneyIn, *, allow_synthetic: bool
) -> PowerOfAttorneyCreated:
    """Her power of attorney to an adult: from 16, never to herself or a minor, scopes from the list, an end ahead."""
    now = utcnow()
    principal = me.principal
    if not isinstance(principal, CitizenPrincipal) or me.basis != "self":  # the route is `own`: never acted for
        raise Forbidden("power of attorney is given by the person herself")
    if _age(parse_identity_number(principal.pid, allow_synthetic=True), now) < representation.GRANTOR_FROM:
        raise Forbidden(f"power of attorney can be given from the age of {representation.GRANTOR_FROM}")
    attorney = _number(data.fnr, "fnr", allow_synthetic=allow_synthetic)
    if attorney.value == principal.pid:
        raise BadRequest("power of attorney goes to someone else, not to yourself", field="fnr")
    if _age(attorney, now) < representation.ADULT:
        raise BadRequest(f"power of attorney goes to an adult ({representation.ADULT} or older)", field="fnr")
    if data.until is not None:
        if data.until.tzinfo is None:
            raise BadRequest("until needs a time zone offset", field="until")
        if data.until <= now:
            raise BadRequest("until must be in the future", field="until")
    scopes: list[str] = sorted(set(data.scopes))
    attorney_id = await patient_for_identity_number(attorney.value)
    async with DB.transaction(), DB.connection() as connection:
        created = await queries.insert_power_of_attorney(
            connection, me.patient_id, attorney_id, scopes, valid_from=now, valid_until=data.until
        )
    return PowerOfAttorneyCreated(id=created)


class _AfterGiven(Position):
    at: Instant
    id: uuid.UUID


async def representatives(me: Grant, cursor: str | None, limit: int | None) -> RepresentativeList:
    """Her powers of attorney in force, oldest first."""
    size = clamp_limit(limit)
    position = decode_cursor(cursor, _AfterGiven)
    async with DB.connection() as connection:
        rows = await queries.powers_of_attorney(
            connection, me.patient_id, utcnow(), after=(position.at, position.id) if position else None, limit=size + 1
        )
    kept, following = keyset_page(rows, size, lambda row: _AfterGiven(at=row.valid_from, id=row.id))
    items = [
        Representative(
            id=row.id, patient_id=row.attorney_id, scopes=row.scopes, valid_from=row.valid_from, until=row.valid_until
        )
        for row in kept
    ]
    return RepresentativeList(items=items, next=following)


async def revoke(me: Grant, attorney_row_id: uuid.UUID) -> None:
    async with DB.transaction(), DB.connection() as connection:
        if not await queries.revoke_power_of_attorney(connection, me.patient_id, attorney_row_id, utcnow()):
            raise NotFound("no such power of attorney")


async def represented(me: Grant) -> list[Represented]:
    """Whom she may act for now, by basis, with the scopes in force today (a guardian's by the child's age)."""
    now = utcnow()
    today = now.astimezone(OSLO).date()
    async with DB.connection() as connection:
        rows = await queries.represented(connection, me.patient_id, now)
    found: list[Represented] = []
    for row in rows:
        if row.basis == "guardian":
            scopes = representation.scopes_held(row.fnr_sealed, row.guardian, (), today)
            until = None
        else:
            scopes = frozenset(row.attorney_scopes)
            until = row.attorney_until
        if scopes:
            basis: RepresentationBasis = "guardian" if row.basis == "guardian" else "power-of-attorney"
            found.append(Represented(patient_id=row.patient_id, basis=basis, scopes=sorted(scopes), until=until))
    return found
