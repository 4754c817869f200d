"""Samstemming (legemiddelsamstemming): a prescriber records that the current list was checked against its sources."""

from __future__ import annotations

from backend.core import events
from backend.core.access import Grant, Need, clinician_of
from backend.core.audit import Author
from backend.core.clock import utcnow
from backend.core.concurrency import require_if_match
from backend.core.db import DB
from backend.core.errors import BadRequest
from backend.medications import queries
from backend.medications.entries import clean
from backend.medications.prescribing import PRESCRIBER
from backend.medications.schemas import ReconciliationIn, ReconciliationOut

RESOURCE_RECONCILIATION = "medication-reconciliation"
RECONCILE = Need(action="write", resource_type=RESOURCE_RECONCILIATION, role=PRESCRIBER)


async def reconcile(grant: Grant, if_match: str | None, data: ReconciliationIn) -> ReconciliationOut:
    """Record a samstemming of the current list (If-Match optional: when sent, it must be the current version)."""
    author = Author.of(clinician_of(grant))
    if len(set(data.sources)) != len(data.sources):
        raise BadRequest("sources: name each source once", field="sources")
    note = clean(data.note)
    now = utcnow()
    async with DB.transaction(), DB.connection() as connection:
        locked = await queries.lock_list(connection, grant.patient_id)
        if if_match is not None:
            require_if_match(if_match, locked.version, resource="medication list")
        reconciliation = await queries.insert_reconciliation(
            connection,
            patient_id=grant.patient_id,
            version=locked.version,
            author=author,
            sources=data.sources,
            note=note,
            at=now,
        )
        await events.append_event(grant.patient_id, events.EventType.MEDICATIONS_RECONCILED, reconciliation.id)
    return reconciliation
