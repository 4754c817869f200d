"""The SpO2 target a doctor prescribes (88-92 %): while one is in force, recorded NEWS2 use scale 2 (RCP NEWS2 2017;
CLINICAL.md v1.1). At most one is in force per patient; clearing keeps it, with who cleared it and when."""

from __future__ import annotations

import uuid

from backend.core import events
from backend.core.access import Grant, Need, Role, clinician_of, write_transaction
from backend.core.audit import Author
from backend.core.clock import utcnow
from backend.core.db import DB
from backend.measurements import queries
from backend.measurements.queries import PrescribedTarget
from backend.measurements.schemas import Spo2TargetIn, Spo2TargetOut

RESOURCE = "spo2-target"
# RCP NEWS2 (2017) chart: the 88-92 % target is prescribed by a clinician; here a doctor (LE) prescribes and clears
# it. Nurses (SP) and midwives (JO) record NEWS2 with the scale in force but do not set or clear the target.
PRESCRIBER = Role(
    "an SpO2 target is prescribed and cleared by a doctor (authorization LE)", authorizations=frozenset({"LE"})
)
READ_SPO2_TARGET = Need(action="read", resource_type=RESOURCE)
PRESCRIBE_SPO2_TARGET = Need(action="write", resource_type=RESOURCE, role=PRESCRIBER)


def _target_out(prescribed: PrescribedTarget | None) -> Spo2TargetOut:
    if prescribed is None:
        return Spo2TargetOut(target=None, prescribed_by=None, prescribed_at=None)
    return Spo2TargetOut(
        target=prescribed.target,
        prescribed_by=prescribed.prescribed_by,
        prescribed_at=prescribed.prescribed_at,
    )


def _author(grant: Grant) -> Author:
    # Only a doctor's grant gets here: the route's Need (PRESCRIBE_SPO2_TARGET) refused other roles before it.
    return Author.of(clinician_of(grant))


async def spo2_target(grant: Grant) -> Spo2TargetOut:
    async with DB.connection() as connection:
        return _target_out(await queries.target_in_force(connection, grant.patient_id))


async def prescribe_spo2_target(grant: Grant, data: Spo2TargetIn) -> Spo2TargetOut:
    """Put the target in force. Already in force: unchanged (the first prescription's who and when stay)."""
    patient_id = grant.patient_id
    author = _author(grant)
    async with write_transaction(grant) as connection:
        # Serialise writers for this patient, so two prescriptions at once leave exactly one in force.
        await queries.lock_patient(connection, patient_id)
        current = await queries.target_in_force(connection, patient_id)
        if current is not None and current.target == data.target:
            return _target_out(current)
        now = utcnow()
        if current is not None:
            await queries.clear_target(connection, patient_id, author, now)
        target_id = uuid.uuid4()
        await queries.insert_target(
            connection, target_id, patient_id, target=data.target, author=author, prescribed_at=now
        )
        await events.append_event(patient_id, events.EventType.SPO2_TARGET_PRESCRIBED, target_id)
        current = await queries.target_in_force(connection, patient_id)
    return _target_out(current)


async def clear_spo2_target(grant: Grant) -> None:
    """End the target in force (kept, with who cleared it and when); NEWS2 uses scale 1 from now. None: no-op."""
    async with write_transaction(grant) as connection:
        await queries.lock_patient(connection, grant.patient_id)
        cleared = await queries.clear_target(connection, grant.patient_id, _author(grant), utcnow())
        if cleared is not None:
            await events.append_event(grant.patient_id, events.EventType.SPO2_TARGET_CLEARED, cleared)
