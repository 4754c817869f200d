"""Dispensing at the pharmacy (utlevering): an `apotek` records what it hands out on an active prescription.

Only a pharmacy dispenses (the Need's role; any other clinician 403, audited), for any existing patient (core's
decision, basis `pharmacy`). A dispensing counts one of the prescription's dispensings by one conditional UPDATE
(`queries_prescriptions.take_dispensing`): of concurrent dispensings of the last one exactly one wins, the others
get 409, as does a dispensing on a completed, expired or cancelled prescription.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from backend.core import events
from backend.core.access import PHARMACY, Grant, Need, Role, clinician_of, write_transaction
from backend.core.audit import Author
from backend.core.clock import utcnow
from backend.core.errors import BadRequest, Conflict, NotFound
from backend.medications import queries_prescriptions
from backend.medications.entries import today
from backend.medications.schemas import DispensingIn, DispensingOut, PrescriberOut, Quantity

RESOURCE = "prescription-dispensing"
DISPENSE = Need(
    action="write",
    resource_type=RESOURCE,
    role=Role("only a pharmacy (apotek) records dispensings", org_kinds=frozenset({PHARMACY})),
    pharmacy_may=True,
)
# A pharmacy's clock may run a little ahead of ours; a dispensing further in the future is a mistake.
CLOCK_SKEW = timedelta(minutes=5)


async def dispense(grant: Grant, prescription_id: uuid.UUID, data: DispensingIn) -> DispensingOut:
    """Record one dispensing: 404 unknown, 400 for more than prescribed or another unit, 409 when not active."""
    pharmacy = Author.of(clinician_of(grant))
    now = utcnow()
    on = today()
    if data.at.tzinfo is None:
        raise BadRequest("at: give the time with its offset", field="at")
    if data.at > now + CLOCK_SKEW:
        raise BadRequest("at: a dispensing cannot be in the future", field="at")
    async with write_transaction(grant) as connection:
        found = await queries_prescriptions.prescription(connection, grant.patient_id, on, prescription_id)
        if found is None:
            raise NotFound("no such prescription")
        if data.quantity.unit.strip() != found.quantity.unit:
            raise BadRequest(f"quantity.unit: the prescription is in {found.quantity.unit}", field="quantity.unit")
        if data.quantity.amount > found.quantity.amount:
            raise BadRequest(
                f"quantity.amount: at most {found.quantity.amount:g} {found.quantity.unit} a dispensing is prescribed",
                field="quantity.amount",
            )
        if data.at < found.created_at:
            raise BadRequest("at: the dispensing is earlier than the prescription", field="at")
        left = await queries_prescriptions.take_dispensing(connection, grant.patient_id, on, prescription_id)
        if left is None:
            # Re-read: a concurrent dispensing may have taken the last one since the read above.
            now_is = await queries_prescriptions.prescription(connection, grant.patient_id, on, prescription_id)
            status = now_is.status if now_is is not None else found.status
            raise Conflict(
                f"nothing can be dispensed: the prescription is {status}",
                extra={"status": status, "prescriptionId": str(prescription_id)},
            )
        dispensing_id = uuid.uuid4()
        quantity = Quantity(amount=data.quantity.amount, unit=found.quantity.unit)
        await queries_prescriptions.insert_dispensing(
            connection,
            patient_id=grant.patient_id,
            dispensing_id=dispensing_id,
            prescription_id=prescription_id,
            quantity=quantity,
            at=data.at,
            recorded_at=now,
            pharmacy=pharmacy,
        )
        await events.append_event(grant.patient_id, events.EventType.PRESCRIPTION_DISPENSED, prescription_id)
    return DispensingOut(
        id=dispensing_id,
        prescription_id=prescription_id,
        quantity=quantity,
        at=data.at,
        pharmacy=PrescriberOut(hpr=pharmacy.hpr, name=pharmacy.name, organisation=pharmacy.organisation),
        dispensings_left=left,
    )
