"""Clinical alerts: raised by any domain in its write transaction, read and acknowledged by the clinicians of
the patient's care relations.

An alert may name the consent it needs (`requires_consent`, e.g. `pregnancy-card` for a home blood pressure
alert in pregnancy): it is shown, and may be acknowledged, only while the patient's consent is given, so
nothing the consent protects reaches a clinician without it, and a withdrawn consent takes the alert out of
every list (CLINICAL.md v1.1, "Pregnancy is private"). Giving the consent again shows it again.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from backend.core import events
from backend.core.access import authorize
from backend.core.audit import Author
from backend.core.auth import ClinicianPrincipal
from backend.core.context import PREGNANCY_CONSENT
from backend.core.errors import BadRequest, Conflict, NotFound
from backend.core.paging import BeforeTimeAndId, clamp_limit, decode_cursor, keyset_page
from backend.db.engine import DB

Severity = Literal["info", "warning", "urgent"]
AlertStatus = Literal["open", "acknowledged"]
ALERT_STATUSES: tuple[AlertStatus, ...] = ("open", "acknowledged")
RESOURCE = "alert"


class AlertOut(msgspec.Struct, kw_only=True, rename="camel"):
    id: uuid.UUID
    patient_id: uuid.UUID
    kind: str
    severity: str
    message: str
    resource_type: str
    resource_id: str
    created_at: datetime
    status: AlertStatus
    acknowledged_by: Author | None
    acknowledged_at: datetime | None
    note: str | None
    """The acknowledging clinician's note, if she wrote one."""


class AlertPage(msgspec.Struct, kw_only=True, rename="camel"):
    items: list[AlertOut]
    next: str | None


class AcknowledgeIn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    note: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)] | None = None


async def raise_alert(
    patient_id: uuid.UUID,
    *,
    kind: str,
    severity: Severity,
    message: str,
    relation_kinds: Sequence[str],
    resource_type: str,
    resource_id: str | uuid.UUID,
    requires_consent: str | None = None,
) -> uuid.UUID:
    """Raise an alert for the clinicians whose organisation has a care relation of one of `relation_kinds`.

    Must run in the domain's write transaction; appends an `alert.raised` event in the same transaction.
    The message is for clinicians only: it never goes into a push. `requires_consent` names the patient's
    consent without which no clinician sees the alert (use it whenever the alert itself tells what the
    consent protects).
    """
    alert_id = uuid.uuid4()
    async with DB.connection() as connection:
        await connection.execute(
            """
            INSERT INTO alert (id, patient_id, kind, severity, message, relation_kinds, resource_type, resource_id,
                               requires_consent, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())
            """,
            alert_id,
            patient_id,
            kind,
            severity,
            message,
            ",".join(relation_kinds),
            resource_type,
            str(resource_id),
            requires_consent,
        )
    await events.append_event(patient_id, events.EventType.ALERT_RAISED, alert_id)
    return alert_id


# --- home blood pressure in pregnancy (CLINICAL.md: ≥140/90 → alert to midwife and GP; ≥160/110 → urgent) ---

PREGNANCY_BP_RELATIONS = ("midwife", "gp")


def pregnancy_blood_pressure_severity(systolic: float, diastolic: float | None) -> Severity | None:
    """CLINICAL.md: home blood pressure in pregnancy ≥160/110 is urgent, ≥140/90 a warning (either number)."""
    dia = diastolic if diastolic is not None else 0.0
    if systolic >= 160 or dia >= 110:
        return "urgent"
    if systolic >= 140 or dia >= 90:
        return "warning"
    return None


async def raise_pregnancy_blood_pressure_alert(
    patient_id: uuid.UUID,
    *,
    systolic: float,
    diastolic: float | None,
    at: datetime,
    resource_type: str,
    resource_id: uuid.UUID,
) -> uuid.UUID | None:
    """The one rule for a home reading in pregnancy, whether uploaded as a measurement or typed on the card.

    The alert tells that she is pregnant, so only clinicians who may see her card see it (CLINICAL.md v1.1,
    "Pregnancy is private"). Runs in the writer's transaction; returns None when the reading is not high.
    """
    severity = pregnancy_blood_pressure_severity(systolic, diastolic)
    if severity is None:
        return None
    threshold = "160/110" if severity == "urgent" else "140/90"
    shown_diastolic = "?" if diastolic is None else f"{diastolic:g}"
    return await raise_alert(
        patient_id,
        kind="pregnancy-blood-pressure",
        severity=severity,
        message=(
            f"Home blood pressure {systolic:g}/{shown_diastolic} mmHg at {at.isoformat()} "
            f"during pregnancy (at or above {threshold})"
        ),
        relation_kinds=PREGNANCY_BP_RELATIONS,
        resource_type=resource_type,
        resource_id=resource_id,
        requires_consent=PREGNANCY_CONSENT,
    )


# Who sees an alert: an active care relation of her organisation of one of the alert's kinds, no block of her
# HPR number, and the patient's consent where the alert needs one. $1 org number, $2 HPR.
_VISIBLE = """
    EXISTS (
        SELECT 1 FROM care_relation r
        WHERE r.patient_id = a.patient_id AND r.org_number = $1
          AND r.valid_from <= now() AND (r.valid_until IS NULL OR r.valid_until > now())
          AND r.kind = ANY(string_to_array(a.relation_kinds, ','))
    )
    AND NOT EXISTS (SELECT 1 FROM clinician_block b WHERE b.patient_id = a.patient_id AND b.hpr = $2)
    AND (a.requires_consent IS NULL
         OR EXISTS (SELECT 1 FROM consent c WHERE c.patient_id = a.patient_id AND c.scope = a.requires_consent))
"""

_COLUMNS = """
    a.id, a.patient_id, a.kind, a.severity, a.message, a.resource_type, a.resource_id, a.created_at,
    a.acknowledged_at, a.acknowledged_by_hpr, a.acknowledged_by_name, a.acknowledged_by_authorization,
    a.acknowledged_by_org, a.acknowledged_by_org_kind, a.acknowledged_note
"""


def _alert_out(row: Any) -> AlertOut:
    acknowledged = row["acknowledged_at"] is not None
    return AlertOut(
        id=row["id"],
        patient_id=row["patient_id"],
        kind=row["kind"],
        severity=row["severity"],
        message=row["message"],
        resource_type=row["resource_type"],
        resource_id=row["resource_id"],
        created_at=row["created_at"],
        status="acknowledged" if acknowledged else "open",
        acknowledged_by=Author.from_row(row, "acknowledged_by_") if acknowledged else None,
        acknowledged_at=row["acknowledged_at"],
        note=row["acknowledged_note"],
    )


def _status(raw: str | None) -> AlertStatus:
    if raw is None or raw == "open":
        return "open"
    if raw == "acknowledged":
        return "acknowledged"
    raise BadRequest("status must be one of: open, acknowledged", field="status")


async def alerts_for(
    principal: ClinicianPrincipal, cursor: str | None, limit: int | None, status: str | None = None
) -> AlertPage:
    """Alerts of one status (default open) that the caller may see (`_VISIBLE`), newest first.

    The organisation's patients come from `care_relation_by_org` (keyed by the organisation); the alerts are then
    read patient by patient's key, never by scanning every patient's alerts.
    """
    wanted = _status(status)
    size = clamp_limit(limit)
    position = decode_cursor(cursor, BeforeTimeAndId)
    before_at = position.at if position else None
    before_id = position.id if position else None
    async with DB.connection() as connection:
        rows = await connection.fetch(
            f"""
            SELECT {_COLUMNS}
            FROM alert a
            WHERE a.patient_id IN (SELECT patient_id FROM care_relation_by_org WHERE org_number = $1)
              AND (a.acknowledged_at IS NULL) = $3
              AND {_VISIBLE}
              AND ($4::timestamptz IS NULL OR (a.created_at, a.id) < ($4, $5))
            ORDER BY a.created_at DESC, a.id DESC
            LIMIT $6
            """,  # noqa: S608 - only the static fragments above are interpolated
            principal.org_number,
            principal.hpr,
            wanted == "open",
            before_at,
            before_id,
            size + 1,
        )
    items, following = keyset_page([_alert_out(row) for row in rows], size, _alert_position)
    return AlertPage(items=items, next=following)


OVERVIEW_ALERTS = 50  # the overview shows the newest open alerts; the alert list has them all


# One patient's open alerts as the grant's clinician may see them (the legevakt overview's section), newest first:
# $1 organisation, $2 hpr, $3 patient, $4 emergency, $5 limit. Through a care relation: the same rule as the alert
# list (`_VISIBLE`). Through emergency access: every open alert, as emergency access overrides blocks and consent.
OPEN_ALERTS = f"""
SELECT {_COLUMNS}
FROM alert a
WHERE a.patient_id = $3 AND a.acknowledged_at IS NULL
  AND ($4 OR ({_VISIBLE}))
ORDER BY a.created_at DESC, a.id DESC
LIMIT $5
"""  # noqa: S608 - only the static fragments above are interpolated


class OpenAlertRow(msgspec.Struct, kw_only=True, frozen=True):
    """A row of `OPEN_ALERTS`, by its column names (the overview reads it as JSON)."""

    id: uuid.UUID
    patient_id: uuid.UUID
    kind: str
    severity: str
    message: str
    resource_type: str
    resource_id: str
    created_at: datetime
    acknowledged_at: datetime | None = None
    acknowledged_by_hpr: str | None = None
    acknowledged_by_name: str | None = None
    acknowledged_by_authorization: str | None = None
    acknowledged_by_org: str | None = None
    acknowledged_by_org_kind: str | None = None
    acknowledged_note: str | None = None


def open_alerts_out(rows: list[OpenAlertRow]) -> list[AlertOut]:
    return [_alert_out(msgspec.structs.asdict(row)) for row in rows]


def _alert_position(alert: AlertOut) -> BeforeTimeAndId:
    return BeforeTimeAndId(at=alert.created_at, id=alert.id)


async def acknowledge_alert(principal: ClinicianPrincipal, alert_id: uuid.UUID, data: AcknowledgeIn) -> AlertOut:
    """Record who acknowledged the alert and when; the other clinicians of the patient see it as acknowledged.

    The access decision (audited) is the core's, with the alert's consent; beyond it the caller must be one
    the alert is for (or hold emergency access). A second acknowledgement is a 409 that names the first:
    the first clinician's note is never overwritten, and a retry is safe with an Idempotency-Key.
    """
    async with DB.connection() as connection:
        # The route names the alert only: the one read by id across patients (index alert_by_id).
        target = await connection.fetchrow("SELECT patient_id, requires_consent FROM alert WHERE id = $1", alert_id)
    if target is None:
        raise NotFound("no such alert")
    grant = await authorize(
        principal,
        target["patient_id"],
        action="write",
        resource_type=RESOURCE,
        resource_id=str(alert_id),
        consent=target["requires_consent"],
    )
    async with DB.transaction(), DB.connection() as connection:
        row = await connection.fetchrow(
            f"""
            SELECT {_COLUMNS}, ({_VISIBLE}) AS visible
            FROM alert a WHERE a.patient_id = $4 AND a.id = $3
            FOR UPDATE
            """,  # noqa: S608 - only the static fragments above are interpolated
            principal.org_number,
            principal.hpr,
            alert_id,
            grant.patient_id,
        )
        if row is None or not (row["visible"] or grant.basis == "emergency"):
            raise NotFound("no such alert")
        if row["acknowledged_at"] is not None:
            first = _alert_out(row)
            raise Conflict(
                "this alert is already acknowledged",
                extra={
                    "acknowledgedBy": msgspec.to_builtins(first.acknowledged_by),
                    "acknowledgedAt": first.acknowledged_at.isoformat() if first.acknowledged_at else None,
                },
            )
        author = Author.of(principal)
        updated = await connection.fetchrow(
            f"""
            UPDATE alert a SET acknowledged_at = now(), acknowledged_by_hpr = $2, acknowledged_by_name = $3,
                acknowledged_by_authorization = $4, acknowledged_by_org = $5, acknowledged_by_org_kind = $6,
                acknowledged_note = $7
            WHERE a.patient_id = $8 AND a.id = $1
            RETURNING {_COLUMNS}
            """,  # noqa: S608 - only the static fragment above is interpolated
            alert_id,
            author.hpr,
            author.name,
            author.authorization,
            author.organisation,
            author.org_kind,
            data.note,
            grant.patient_id,
        )
        await events.append_event(grant.patient_id, events.EventType.ALERT_ACKNOWLEDGED, alert_id)
    return _alert_out(updated)
