"""Rules for identity lookup, care relations, emergency access, blocks, consents, the access log and the change feed."""

from __future__ import annotations

import uuid
from datetime import timedelta

from backend.core import audit, events
from backend.core.access import (
    Grant,
    authorize,
    grant_passes_consent,
    is_blocked,
    may_attest,
    may_open_emergency_access,
    patient_for_identity_number,
)
from backend.core.auth import ClinicianPrincipal
from backend.core.clock import utcnow
from backend.core.context import PREGNANCY_CONSENT
from backend.core.errors import BadRequest, Forbidden, NotFound
from backend.core.identity import InvalidIdentityNumber, parse_identity_number
from backend.core.paging import AfterSeq, BeforeId, clamp_limit, decode_cursor, encode_cursor
from backend.db.engine import DB
from backend.patients.schemas import (
    CONSENT_SCOPES,
    AccessLogPage,
    AttestedBy,
    Block,
    BlockList,
    CareRelationIn,
    CareRelationList,
    CareRelationOut,
    ChangePage,
    EmergencyAccessIn,
    EmergencyAccessOut,
    Me,
)

EMERGENCY_ACCESS_HOURS = 4
MAX_CARE_RELATION_DAYS = 3 * 366


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
    more = len(rows) > size
    rows = rows[:size]
    return AccessLogPage(
        items=[entry for _, entry in rows],
        next=encode_cursor(BeforeId(before=rows[-1][0])) if more else None,
    )


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


async def _refuse(principal: ClinicianPrincipal, patient_id: uuid.UUID, *, action: str, resource_type: str) -> None:
    """A refusal is an access attempt like any other: one audit row with basis `denied`, outside any transaction."""
    await audit.record_clinician_action(
        principal, patient_id=patient_id, action=action, resource_type=resource_type, resource_id=None,
        basis="denied",
    )  # fmt: skip


async def _require_patient(
    principal: ClinicianPrincipal, patient_id: uuid.UUID, *, action: str, resource_type: str
) -> None:
    """404 (audited as denied, outside any transaction so the row survives) when the patient does not exist."""
    async with DB.connection() as connection:
        exists = await connection.fetchval("SELECT 1 FROM patient WHERE id = $1", patient_id)
    if exists is None:
        await _refuse(principal, patient_id, action=action, resource_type=resource_type)
        raise NotFound("no such patient")


def _relation_out(row: dict[str, object]) -> CareRelationOut:
    return CareRelationOut(
        id=row["id"],  # type: ignore[arg-type]
        kind=str(row["kind"]),
        from_=row["valid_from"],  # type: ignore[arg-type]
        until=row["valid_until"],  # type: ignore[arg-type]
        attested_by=AttestedBy(
            hpr=str(row["attested_by_hpr"]),
            name=row["attested_by_name"],  # type: ignore[arg-type]
            organisation=str(row["org_number"]),
            org_kind=str(row["org_kind"]),
        ),
    )


async def attest_care_relation(
    principal: ClinicianPrincipal, patient_id: uuid.UUID, data: CareRelationIn
) -> CareRelationOut:
    if not may_attest(principal, data.kind):
        await _refuse(principal, patient_id, action="attest", resource_type="care-relation")
        raise Forbidden(f"an organisation of kind {principal.org_kind} may not attest a {data.kind} care relation")
    now = utcnow()
    if data.until is not None:
        if data.until.tzinfo is None:
            raise BadRequest("until needs a time zone offset", field="until")
        if data.until <= now:
            raise BadRequest("until must be in the future", field="until")
        if data.until > now + timedelta(days=MAX_CARE_RELATION_DAYS):
            raise BadRequest(f"until may be at most {MAX_CARE_RELATION_DAYS} days ahead", field="until")
    await _require_patient(principal, patient_id, action="attest", resource_type="care-relation")
    if await is_blocked(principal, patient_id):
        # A clinician she has blocked must not open the door for his colleagues; out of scope is 404.
        await _refuse(principal, patient_id, action="attest", resource_type="care-relation")
        raise NotFound("no such patient")
    async with DB.transaction():
        async with DB.connection() as connection:
            row = await connection.fetchrow(
                """
                WITH by_org AS (
                    INSERT INTO care_relation_by_org (org_number, patient_id) VALUES ($4, $2) ON CONFLICT DO NOTHING
                )
                INSERT INTO care_relation (id, patient_id, kind, org_number, org_kind, attested_by_hpr,
                                           attested_by_name, valid_from, valid_until)
                VALUES ($1, $2, $3, $4, $5, $6, $7, now(), $8)
                RETURNING id, kind, org_number, org_kind, attested_by_hpr, attested_by_name, valid_from, valid_until
                """,
                uuid.uuid4(),
                patient_id,
                data.kind,
                principal.org_number,
                principal.org_kind,
                principal.hpr,
                principal.name,
                data.until,
            )
        await events.append_event(patient_id, events.EventType.CARE_RELATION_ATTESTED, row["id"])
    await audit.record_clinician_action(
        principal, patient_id=patient_id, action="attest", resource_type="care-relation",
        resource_id=str(row["id"]), basis="care-relation",
    )  # fmt: skip
    return _relation_out(dict(row))


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
    return CareRelationList(items=[_relation_out(dict(row)) for row in rows])


async def open_emergency_access(
    principal: ClinicianPrincipal, patient_id: uuid.UUID, data: EmergencyAccessIn
) -> EmergencyAccessOut:
    if not data.reason.strip() or len(data.reason.strip()) < 10:
        raise BadRequest("give the reason for emergency access in at least 10 characters", field="reason")
    if not may_open_emergency_access(principal):
        await _refuse(principal, patient_id, action="emergency-access", resource_type="patient")
        raise Forbidden(f"an organisation of kind {principal.org_kind} may not open emergency access")
    until = utcnow() + timedelta(hours=EMERGENCY_ACCESS_HOURS)
    await _require_patient(principal, patient_id, action="emergency-access", resource_type="patient")
    async with DB.transaction():
        async with DB.connection() as connection:
            access_id = await connection.fetchval(
                """
                INSERT INTO emergency_access (id, patient_id, hpr, org_number, reason, valid_from, valid_until)
                VALUES ($1, $2, $3, $4, $5, now(), $6) RETURNING id
                """,
                uuid.uuid4(),
                patient_id,
                principal.hpr,
                principal.org_number,
                data.reason.strip(),
                until,
            )
        # The citizen is told through her change feed and a push (the push capability reads this event).
        await events.append_event(patient_id, events.EventType.EMERGENCY_ACCESS_OPENED, access_id)
    await audit.record_clinician_action(
        principal, patient_id=patient_id, action="emergency-access", resource_type="patient",
        resource_id=str(access_id), basis="emergency",
    )  # fmt: skip
    return EmergencyAccessOut(until=until)


async def care_relations_grant(principal: ClinicianPrincipal, patient_id: uuid.UUID) -> Grant:
    return await authorize(principal, patient_id, action="read", resource_type="care-relation")
