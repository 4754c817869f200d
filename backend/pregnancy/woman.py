"""The woman's own side of her card: her notes and questions, and her own weight, blood pressure and fetal
movements beside the clinicians' values. She acts on herself only (`MeGrant`); a card of anyone else is 404.
"""

from __future__ import annotations

import uuid

from backend.core import events
from backend.core.access import Grant
from backend.core.alerts import raise_pregnancy_blood_pressure_alert
from backend.core.clock import OSLO, utcnow
from backend.core.db import DB
from backend.core.errors import BadRequest
from backend.pregnancy import queries, view
from backend.pregnancy.entries import open_card_for_entry
from backend.pregnancy.rules import check_entry_date, check_self_registration, today
from backend.pregnancy.schemas import NoteIn, NoteOut, SelfRegistrationIn, SelfRegistrationOut


async def add_note(me: Grant, card_id: uuid.UUID, data: NoteIn) -> NoteOut:
    text = data.text.strip()
    if not text:
        raise BadRequest("the note is empty", field="text")
    async with DB.transaction(), DB.connection() as connection:
        await open_card_for_entry(connection, me, card_id, "new notes")
        row = await queries.insert_note(connection, me.patient_id, card_id, kind=data.kind, text=text, at=utcnow())
        await events.append_event(me.patient_id, events.EventType.PREGNANCY_NOTE_ADDED, card_id)
    return view.note_out(row)


async def add_self_registration(me: Grant, card_id: uuid.UUID, data: SelfRegistrationIn) -> SelfRegistrationOut:
    """The woman's own weight, blood pressure or fetal movements, on her card beside the clinicians' values.

    Home blood pressure goes through the same pregnancy rule as uploaded measurements (CLINICAL.md:
    ≥140/90 alerts the midwife and GP, ≥160/110 urgently), in the same transaction as the registration.
    """
    now = utcnow()
    check_self_registration(data, now)
    async with DB.transaction(), DB.connection() as connection:
        card = await open_card_for_entry(connection, me, card_id, "new registrations")
        due = await view.due(connection, card)
        check_entry_date(
            data.effective_at.astimezone(OSLO).date(), due.due_date, today(), "effectiveAt", "registration"
        )
        row = await queries.insert_self_registration(
            connection,
            me.patient_id,
            card_id,
            effective_at=data.effective_at,
            weight_kg=data.weight_kg,
            systolic=data.systolic,
            diastolic=data.diastolic,
            fetal_movements=data.fetal_movements,
            at=now,
        )
        await events.append_event(me.patient_id, events.EventType.PREGNANCY_SELF_REGISTRATION_ADDED, card_id)
        if row.systolic is not None:
            # A reading typed on the card alerts exactly as an uploaded one does (core's one rule).
            await raise_pregnancy_blood_pressure_alert(
                me.patient_id,
                systolic=row.systolic,
                diastolic=row.diastolic,
                at=row.effective_at,
                resource_type="pregnancy-self-registration",
                resource_id=row.id,
            )
    return view.self_registration_out(row, due.due_date)
