"""Rules for identity lookup, care relations, emergency access, blocks, consents, the access log and the change feed."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from backend.core import audit, events
from backend.core.access import (
    Grant,
    Need,
    grant_passes_consent,
    patient_for_identity_number,
)
from backend.core.auth import ClinicianPrincipal
from backend.core.context import PREGNANCY_CONSENT
from backend.core.db import DB
from backend.core.errors import BadRequest
from backend.core.identity import InvalidIdentityNumber, parse_identity_number
from backend.core.paging import AfterSeq, BeforeId, clamp_limit, decode_cursor, encode_cursor, keyset_page
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


async def describe_me(me: Grant) -> Me:
    async with DB.connection() as connection:
        scopes = await connection.fetch("SELECT scope FROM consent WHERE patient_id = $1 ORDER BY scope", me.patient_id)
    return Me(patient_id=me.patient_id, consents=[row["scope"] for row in scopes])


async def access_log(me: Grant, cursor: str | None, limit: int | None) -> AccessLogPage:
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


async def list_blocks(me: Grant) -> BlockList:
    async with DB.connection() as connection:
        rows = await connection.fetch(
            "SELECT hpr, created_at FROM clinician_block WHERE patient_id = $1 ORDER BY created_at", me.patient_id
        )
    return BlockList(items=[Block(hpr=row["hpr"], created_at=row["created_at"]) for row in rows])


async def block_clinician(me: Grant, hpr: str) -> None:
    hpr = _valid_hpr(hpr)
    async with DB.transaction():
        async with DB.connection() as connection:
            inserted = await connection.fetchval(
                """
                INSERT INTO clinician_block (id, patient_id, hpr, created_at) VALUES ($1, $2, $3, now())
                ON CONFLICT (patient_id, hpr) DO NOTHING RETURNING id
                """,
                uuid.uuid4(),
                me.patient_id,
                hpr,
            )
        if inserted is not None:
            await events.append_event(me.patient_id, events.EventType.BLOCK_ADDED, hpr)


async def unblock_clinician(me: Grant, hpr: str) -> None:
    hpr = _valid_hpr(hpr)
    async with DB.transaction():
        async with DB.connection() as connection:
            removed = await connection.execute(
                "DELETE FROM clinician_block WHERE patient_id = $1 AND hpr = $2", me.patient_id, hpr
            )
        if removed != "DELETE 0":
            await events.append_event(me.patient_id, events.EventType.BLOCK_REMOVED, hpr)


def _valid_scope(scope: str) -> str:
    if scope not in CONSENT_SCOPES:
        raise BadRequest(f"unknown consent scope; known: {', '.join(CONSENT_SCOPES)}", field="scope")
    return scope


async def give_consent(me: Grant, scope: str) -> None:
    scope = _valid_scope(scope)
    async with DB.transaction():
        async with DB.connection() as connection:
            inserted = await connection.fetchval(
                """
                INSERT INTO consent (id, patient_id, scope, given_at) VALUES ($1, $2, $3, now())
                ON CONFLICT (patient_id, scope) DO NOTHING RETURNING id
                """,
                uuid.uuid4(),
                me.patient_id,
                scope,
            )
        if inserted is not None:
            await events.append_event(me.patient_id, events.EventType.CONSENT_GIVEN, scope)


async def withdraw_consent(me: Grant, scope: str) -> None:
    scope = _valid_scope(scope)
    async with DB.transaction():
        async with DB.connection() as connection:
            removed = await connection.execute(
                "DELETE FROM consent WHERE patient_id = $1 AND scope = $2", me.patient_id, scope
            )
        if removed != "DELETE 0":
            await events.append_event(me.patient_id, events.EventType.CONSENT_WITHDRAWN, scope)


async def changes(me: Grant, since: str | None, limit: int | None) -> ChangePage:
    size = clamp_limit(limit)
    position = decode_cursor(since, AfterSeq, field="since")
    after = position.seq if position else 0
    items = await events.changes_since(me.patient_id, after, size + 1)
    more = len(items) > size
    items = items[:size]
    last = items[-1].seq if items else after
    return ChangePage(items=items, next=encode_cursor(AfterSeq(seq=last)), has_more=more)


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


def relation_out(row: Mapping[str, Any]) -> CareRelationOut:
    return CareRelationOut(
        id=row["id"],
        kind=str(row["kind"]),
        from_=row["valid_from"],
        until=row["valid_until"],
        attested_by=AttestedBy(
            hpr=str(row["attested_by_hpr"]),
            name=row["attested_by_name"],
            organisation=str(row["org_number"]),
            org_kind=str(row["org_kind"]),
        ),
    )


async def list_care_relations(grant: Grant) -> CareRelationList:
    async with DB.connection() as connection:
        rows = await connection.fetch(
            """
            SELECT id, kind, org_number, org_kind, attested_by_hpr, attested_by_name, valid_from, valid_until
            FROM care_relation WHERE patient_id = $1 AND (valid_until IS NULL OR valid_until > now())
            ORDER BY valid_from
            """,
            grant.patient_id,
        )
    if not await grant_passes_consent(grant, PREGNANCY_CONSENT):
        # Another organisation's midwife relation tells that she is or was pregnant (CLINICAL.md v1.1,
        # "Pregnancy is private"): without her pregnancy-card consent only the caller's own stays listed.
        own = grant.principal.org_number if isinstance(grant.principal, ClinicianPrincipal) else None
        rows = [row for row in rows if row["kind"] != "midwife" or row["org_number"] == own]
    return CareRelationList(items=[relation_out(row) for row in rows])


READ_CARE_RELATIONS = Need(action="read", resource_type="care-relation")
