"""Rules for identity lookup, care relations, emergency access, blocks, consents, the access log and the change feed."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec

from backend.core import audit, events, representation
from backend.core.access import (
    Grant,
    Need,
    Read,
    patient_for_identity_number,
)
from backend.core.auth import ClinicianPrincipal
from backend.core.change_signals import PatientCache
from backend.core.clock import OSLO, utcnow
from backend.core.context import PREGNANCY_CONSENT, age_on, birth_date
from backend.core.db import DB
from backend.core.errors import BadRequest, Forbidden
from backend.core.identity import InvalidIdentityNumber, parse_identity_number
from backend.core.paging import (
    AfterSeq,
    BeforeId,
    Instant,
    Position,
    clamp_limit,
    decode_cursor,
    encode_cursor,
    keyset_page,
)
from backend.patients import queries
from backend.patients.schemas import (
    CONSENT_SCOPES,
    AccessLogPage,
    AttestedBy,
    Block,
    BlockList,
    CareRelationList,
    CareRelationOut,
    ChangePage,
    Me,
)

# --- citizen ------------------------------------------------------------------------------------------


# Her consents, kept per patient until she changes (each consent given or withdrawn appends an event).
_CONSENTS: PatientCache[tuple[str, ...]] = PatientCache()


async def describe_me(me: Grant) -> Me:
    async def read() -> tuple[tuple[str, ...], None]:
        async with DB.connection() as connection:
            return tuple(await queries.consent_scopes(connection, me.patient_id)), None

    scopes = await _CONSENTS.get(me.patient_id, "consents", read)
    return Me(patient_id=me.patient_id, consents=list(scopes))


# A child's access log is hers to read from 16 (API.md "Representation"); until then her guardian reads it for her.
OWN_ACCESS_LOG_FROM_AGE = 16


async def access_log(me: Grant, cursor: str | None, limit: int | None) -> AccessLogPage:
    if me.basis == "self":
        born = await birth_date(me.patient_id)
        if born is not None and age_on(born, utcnow().astimezone(OSLO).date()) < OWN_ACCESS_LOG_FROM_AGE:
            raise Forbidden("your access log is shown to you from the age of 16; until then your guardian sees it")
    size = clamp_limit(limit)
    position = decode_cursor(cursor, BeforeId)
    before = position.before if position else None
    rows = await audit.access_log_page(me.patient_id, before_id=before, limit=size + 1)
    kept, following = keyset_page(rows, size, lambda row: BeforeId(before=row[0]))
    return AccessLogPage(items=[entry for _, entry in kept], next=following)


def _valid_hpr(hpr: str) -> str:
    if not hpr.isdigit() or not 1 <= len(hpr) <= 12:
        raise BadRequest("an HPR number is 1 to 12 digits", field="hpr")
    return hpr


class _AfterBlock(Position):
    at: Instant
    hpr: Annotated[str, msgspec.Meta(max_length=12)]


async def list_blocks(me: Grant, cursor: str | None, limit: int | None) -> BlockList:
    size = clamp_limit(limit)
    position = decode_cursor(cursor, _AfterBlock)
    async with DB.connection() as connection:
        rows = await queries.blocks(
            connection, me.patient_id, after=(position.at, position.hpr) if position else None, limit=size + 1
        )
    kept, following = keyset_page(rows, size, lambda row: _AfterBlock(at=row.created_at, hpr=row.hpr))
    return BlockList(items=[Block(hpr=row.hpr, created_at=row.created_at) for row in kept], next=following)


async def block_clinician(me: Grant, hpr: str) -> None:
    """Block a clinician by HPR number; the care relation no longer opens her record to him (emergency access does)."""
    hpr = _valid_hpr(hpr)
    async with DB.transaction(), DB.connection() as connection:
        if await queries.insert_block(connection, me.patient_id, hpr):
            await events.append_event(me.patient_id, events.EventType.BLOCK_ADDED, hpr)


async def unblock_clinician(me: Grant, hpr: str) -> None:
    hpr = _valid_hpr(hpr)
    async with DB.transaction(), DB.connection() as connection:
        if await queries.delete_block(connection, me.patient_id, hpr):
            await events.append_event(me.patient_id, events.EventType.BLOCK_REMOVED, hpr)


def _valid_scope(scope: str) -> str:
    if scope not in CONSENT_SCOPES:
        raise BadRequest(f"unknown consent scope; known: {', '.join(CONSENT_SCOPES)}", field="scope")
    return scope


async def give_consent(me: Grant, scope: str) -> None:
    scope = _valid_scope(scope)
    async with DB.transaction(), DB.connection() as connection:
        if await queries.insert_consent(connection, me.patient_id, scope):
            await events.append_event(me.patient_id, events.EventType.CONSENT_GIVEN, scope)


async def withdraw_consent(me: Grant, scope: str) -> None:
    scope = _valid_scope(scope)
    async with DB.transaction(), DB.connection() as connection:
        if await queries.delete_consent(connection, me.patient_id, scope):
            await events.append_event(me.patient_id, events.EventType.CONSENT_WITHDRAWN, scope)


async def changes(me: Grant, since: str | None, limit: int | None) -> ChangePage:
    """Her change feed after `since`; `next` is always a cursor to poll from, `hasMore` says whether to go on now."""
    size = clamp_limit(limit)
    position = decode_cursor(since, AfterSeq, field="since")
    after = position.seq if position else 0
    # A representative's feed: only the resource types her scopes cover (every type for `all`).
    patterns = representation.feed_patterns(me.scopes) if me.basis == "representative" else None
    items = await events.changes_since(me.patient_id, after, size + 1, resource_patterns=patterns)
    kept, following = keyset_page(items, size, lambda item: AfterSeq(seq=item.seq))
    polling = following or encode_cursor(AfterSeq(seq=kept[-1].seq if kept else after))
    return ChangePage(items=kept, next=polling, has_more=following is not None)


# --- clinician ----------------------------------------------------------------------------------------


async def lookup_patient(principal: ClinicianPrincipal, fnr: str, *, allow_synthetic: bool) -> uuid.UUID:
    try:
        number = parse_identity_number(fnr, allow_synthetic=allow_synthetic)
    except InvalidIdentityNumber as exc:
        # The message describes the problem without echoing the number.
        raise BadRequest(f"not a valid fødselsnummer or D-nummer: {exc}", field="fnr") from exc
    patient_id = await patient_for_identity_number(number.value)
    await audit.record_clinician_action(
        principal, patient_id=patient_id, action="lookup", resource_type="patient", resource_id=None, basis="lookup"
    )
    return patient_id


def _relation_out(row: queries.CareRelationRow) -> CareRelationOut:
    return CareRelationOut(
        id=row.id,
        kind=row.kind,
        from_=row.valid_from,
        until=row.valid_until,
        attested_by=AttestedBy(
            hpr=row.attested_by_hpr,
            name=row.attested_by_name,
            organisation=row.org_number,
            org_kind=row.org_kind,
        ),
    )


def relation_out(attested: Any) -> CareRelationOut:
    """The answer for the relation core's attestation wrote (`backend.core.access.attest`)."""
    return _relation_out(queries.care_relation_row(attested))


class _AfterRelation(Position):
    at: Instant
    id: uuid.UUID


def care_relations_read(clinician: ClinicianPrincipal, cursor: str | None, limit: int | None) -> Read[CareRelationList]:
    """The active care relations, a page, read in the access decision's statement (`authorize_read`, with
    READ_CARE_RELATIONS): cursor and limit are checked first (a 400 is no reason to read her record)."""
    size = clamp_limit(limit)
    position = decode_cursor(cursor, _AfterRelation)

    def page(rows: list[Any]) -> CareRelationList:
        found = queries.care_relation_rows(rows)
        kept, following = keyset_page(found, size, lambda row: _AfterRelation(at=row.valid_from, id=row.id))
        return CareRelationList(items=[_relation_out(row) for row in kept], next=following)

    # Another organisation's midwife relation tells that she is or was pregnant (CLINICAL.md v1.1,
    # "Pregnancy is private"): without her pregnancy-card consent (READ_CARE_RELATIONS reveals it, emergency
    # access passes it: `access.reveals`) only the caller's own stays listed.
    after = (position.at, position.id) if position else (None, None)
    args = ("midwife", clinician.org_number, *after, size + 1)
    return Read(sql=queries.ACTIVE_CARE_RELATIONS_READ, args=args, result=page)


READ_CARE_RELATIONS = Need(action="read", resource_type="care-relation", reveals=PREGNANCY_CONSENT)
