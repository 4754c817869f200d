"""Discrepancies: the citizen tells her GP that she does not take an entry, has a side effect, or another remark.

A report changes nothing on the list: it is stored with the list version she saw, raised as an alert to
her GP's organisation, and listed for the clinicians who may read her list.
"""

from __future__ import annotations

import uuid

from backend.core import alerts, events
from backend.core.access import Grant, Need
from backend.core.clock import utcnow
from backend.core.db import DB
from backend.core.errors import BadRequest, NotFound
from backend.core.paging import BeforeTimeAndId, clamp_limit, decode_cursor, keyset_page
from backend.medications import queries
from backend.medications.entries import clean
from backend.medications.schemas import DiscrepancyIn, DiscrepancyOut, DiscrepancyPage

RESOURCE_DISCREPANCY = "medication-discrepancy"
READ_DISCREPANCIES = Need(action="read", resource_type=RESOURCE_DISCREPANCY)

DISCREPANCY_SEVERITY: dict[str, alerts.Severity] = {"not-taking": "info", "side-effect": "warning", "other": "info"}
DISCREPANCY_WORDS = {
    "not-taking": "does not take",
    "side-effect": "reports a side effect of",
    "other": "has a remark on",
}


async def discrepancies(grant: Grant, *, cursor: str | None, limit: int | None) -> DiscrepancyPage:
    """The citizen's reports on her entries, newest first: the GP's discrepancy list."""
    size = clamp_limit(limit)
    position = decode_cursor(cursor, BeforeTimeAndId)
    async with DB.connection() as connection:
        rows = await queries.discrepancies(
            connection,
            grant.patient_id,
            before=(position.at, position.id) if position else None,
            limit=size + 1,
        )
    items, next_cursor = keyset_page(rows, size, lambda item: BeforeTimeAndId(at=item.reported_at, id=item.id))
    return DiscrepancyPage(items=items, next=next_cursor)


async def report_discrepancy(me: Grant, entry_id: uuid.UUID, data: DiscrepancyIn) -> DiscrepancyOut:
    """The citizen's report on one of her entries: stored, on the GP's list and alerts; the list is unchanged."""
    note = clean(data.note)
    if data.kind == "other" and note is None:
        raise BadRequest("note: say what is wrong", field="note")
    now = utcnow()
    async with DB.transaction(), DB.connection() as connection:
        entry = await queries.current_entry(connection, me.patient_id, entry_id)
        if entry is None:
            raise NotFound("no such entry on your medication list")
        discrepancy_id = uuid.uuid4()
        alert_id = await alerts.raise_alert(
            me.patient_id,
            kind="medication-discrepancy",
            severity=DISCREPANCY_SEVERITY[data.kind],
            message=f"The patient {DISCREPANCY_WORDS[data.kind]} {entry.name} ({entry.atc}) on the medication list",
            relation_kinds=["gp"],
            resource_type=RESOURCE_DISCREPANCY,
            resource_id=discrepancy_id,
        )
        reported = await queries.insert_discrepancy(
            connection,
            discrepancy_id=discrepancy_id,
            patient_id=me.patient_id,
            entry_id=entry_id,
            entry=entry,
            kind=data.kind,
            note=note,
            at=now,
            alert_id=alert_id,
        )
        await events.append_event(me.patient_id, events.EventType.MEDICATIONS_DISCREPANCY_REPORTED, discrepancy_id)
    return reported
