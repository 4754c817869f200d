"""Clinical alerts: raised by any domain in its write transaction, read by the clinicians of the patient's care relations."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

import msgspec

from backend.core import events
from backend.core.auth import ClinicianPrincipal
from backend.core.paging import BeforeTimeAndId, clamp_limit, decode_cursor, encode_cursor
from backend.db.engine import DB

Severity = Literal["info", "warning", "urgent"]


class AlertOut(msgspec.Struct, kw_only=True, rename="camel"):
    id: uuid.UUID
    patient_id: uuid.UUID
    kind: str
    severity: str
    message: str
    resource_type: str
    resource_id: str
    created_at: datetime


class AlertPage(msgspec.Struct, kw_only=True, rename="camel"):
    items: list[AlertOut]
    next: str | None


async def raise_alert(
    patient_id: uuid.UUID,
    *,
    kind: str,
    severity: Severity,
    message: str,
    relation_kinds: Sequence[str],
    resource_type: str,
    resource_id: str | uuid.UUID,
) -> uuid.UUID:
    """Raise an alert for the clinicians whose organisation has a care relation of one of `relation_kinds`.

    Must run in the domain's write transaction; appends an `alert.raised` event in the same transaction.
    The message is for clinicians only: it never goes into a push.
    """
    alert_id = uuid.uuid4()
    async with DB.connection() as connection:
        await connection.execute(
            """
            INSERT INTO alert (id, patient, kind, severity, message, relation_kinds, resource_type, resource_id,
                               created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())
            """,
            alert_id,
            patient_id,
            kind,
            severity,
            message,
            ",".join(relation_kinds),
            resource_type,
            str(resource_id),
        )
    await events.append_event(patient_id, "alert.raised", "alert", alert_id)
    return alert_id


async def alerts_for(principal: ClinicianPrincipal, cursor: str | None, limit: int | None) -> AlertPage:
    """Open alerts for patients with an active care relation of the caller's organisation (blocks respected)."""
    size = clamp_limit(limit)
    position = decode_cursor(cursor, BeforeTimeAndId)
    before_at = position.at if position else None
    before_id = position.id if position else None
    async with DB.connection() as connection:
        rows = await connection.fetch(
            """
            SELECT a.id, a.patient, a.kind, a.severity, a.message, a.resource_type, a.resource_id, a.created_at
            FROM alert a
            WHERE a.acknowledged_at IS NULL
              AND EXISTS (
                  SELECT 1 FROM care_relation r
                  WHERE r.patient = a.patient AND r.org_number = $1
                    AND r.valid_from <= now() AND (r.valid_until IS NULL OR r.valid_until > now())
                    AND r.kind = ANY(string_to_array(a.relation_kinds, ','))
              )
              AND NOT EXISTS (SELECT 1 FROM clinician_block b WHERE b.patient = a.patient AND b.hpr = $2)
              AND ($3::timestamptz IS NULL OR (a.created_at, a.id) < ($3, $4))
            ORDER BY a.created_at DESC, a.id DESC
            LIMIT $5
            """,
            principal.org_number,
            principal.hpr,
            before_at,
            before_id,
            size + 1,
        )
    items = [
        AlertOut(
            id=row["id"],
            patient_id=row["patient"],
            kind=row["kind"],
            severity=row["severity"],
            message=row["message"],
            resource_type=row["resource_type"],
            resource_id=row["resource_id"],
            created_at=row["created_at"],
        )
        for row in rows[:size]
    ]
    more = len(rows) > size
    return AlertPage(
        items=items,
        next=encode_cursor(BeforeTimeAndId(at=items[-1].created_at, id=items[-1].id)) if more else None,
    )
