"""The clinicians' entries on a card: consultations (corrected as new versions), ultrasounds, vaccines, tests and
earlier pregnancies.

Each write takes the Grant of `rules.WRITE`, locks the card FOR SHARE (entries are written side by side, but not
while the card is being closed), checks the entry against the due date in force, and writes it with its event
in one transaction.
"""

from __future__ import annotations

import uuid
from typing import Any

from backend.core import events
from backend.core.access import Grant
from backend.core.clock import utcnow
from backend.core.concurrency import require_if_match
from backend.core.db import DB
from backend.core.errors import BadRequest, NotFound
from backend.core.paging import BeforeNumber, clamp_limit, decode_cursor, keyset_page
from backend.pregnancy import queries, view
from backend.pregnancy.card import check_nothing_predates
from backend.pregnancy.queries import CardRow
from backend.pregnancy.rules import (
    CheckedTest,
    check_consultation,
    check_earlier,
    check_entry_date,
    require_open,
    today,
    writer_of,
)
from backend.pregnancy.schemas import (
    ConsultationCorrectionIn,
    ConsultationHistory,
    ConsultationIn,
    ConsultationOut,
    ConsultationVersionOut,
    EarlierPregnancyIn,
    EarlierPregnancyOut,
    TestOut,
    UltrasoundIn,
    UltrasoundOut,
    VaccineIn,
    VaccineOut,
)


async def open_card_for_entry(connection: Any, grant: Grant, card_id: uuid.UUID, what: str) -> CardRow:
    """Her card, locked FOR SHARE: entries may be written side by side, but not while the card is being closed."""
    card = await view.card_row(connection, grant, card_id, lock="share")
    require_open(card, what)
    return card


# --- consultations -----------------------------------------------------------------------------------


async def add_consultation(grant: Grant, card_id: uuid.UUID, data: ConsultationIn) -> ConsultationOut:
    writer = writer_of(grant)
    now, on = utcnow(), today()
    async with DB.transaction(), DB.connection() as connection:
        card = await open_card_for_entry(connection, grant, card_id, "new consultations")
        due = await view.due(connection, card)
        check_consultation(data, due.due_date, on)
        row = await queries.insert_consultation(
            connection,
            grant.patient_id,
            card_id,
            entry_id=uuid.uuid4(),
            version=1,
            data=data,
            reason=None,
            author=writer,
            at=now,
        )
        await events.append_event(grant.patient_id, events.EventType.PREGNANCY_CONSULTATION_ADDED, card_id)
    return view.consultation_out(row, due.due_date)


async def correct_consultation(
    grant: Grant, card_id: uuid.UUID, *, entry_id: uuid.UUID, data: ConsultationCorrectionIn, if_match: str | None
) -> ConsultationOut:
    """A corrected row is a new version; the old one is kept, marked superseded, in the history."""
    writer = writer_of(grant)
    now, on = utcnow(), today()
    async with DB.transaction(), DB.connection() as connection:
        card = await view.card_row(connection, grant, card_id, lock="share")
        current = await queries.lock_current_consultation(connection, grant.patient_id, card_id, entry_id)
        if current is None:
            raise NotFound("no such consultation on this card")
        require_if_match(if_match, current.version, resource="consultation")
        require_open(card, "corrections")
        due = await view.due(connection, card)
        check_consultation(data, due.due_date, on)
        await queries.supersede_consultation(connection, grant.patient_id, current.id, now)
        fields = {name: getattr(data, name) for name in ConsultationIn.__struct_fields__}
        row = await queries.insert_consultation(
            connection,
            grant.patient_id,
            card_id,
            entry_id=entry_id,
            version=current.version + 1,
            data=ConsultationIn(**fields),
            reason=data.reason,
            author=writer,
            at=now,
        )
        await events.append_event(grant.patient_id, events.EventType.PREGNANCY_CONSULTATION_CORRECTED, card_id)
    return view.consultation_out(row, due.due_date)


def _version_position(item: ConsultationVersionOut) -> BeforeNumber:
    return BeforeNumber(n=item.version)


async def consultation_history(
    grant: Grant, card_id: uuid.UUID, entry_id: uuid.UUID, cursor: str | None = None, limit: int | None = None
) -> ConsultationHistory:
    """Every version of a consultation, newest first, a page at a time."""
    size = clamp_limit(limit)
    position = decode_cursor(cursor, BeforeNumber)
    async with DB.connection() as connection:
        card = await view.card_row(connection, grant, card_id)
        due = await view.due(connection, card)
        rows = await queries.consultation_versions(
            connection,
            grant.patient_id,
            card_id,
            entry_id,
            before=position.n if position else None,
            limit=size + 1,
        )
    if not rows and position is None:
        raise NotFound("no such consultation on this card")
    items = [view.consultation_version_out(row, due.due_date) for row in rows]
    kept, following = keyset_page(items, size, _version_position)
    return ConsultationHistory(items=kept, next=following)


# --- ultrasounds, vaccines, tests, earlier pregnancies -----------------------------------------------


async def add_ultrasound(grant: Grant, card_id: uuid.UUID, data: UltrasoundIn) -> UltrasoundOut:
    writer = writer_of(grant)
    now, on = utcnow(), today()
    async with DB.transaction(), DB.connection() as connection:
        card = await open_card_for_entry(connection, grant, card_id, "new ultrasounds")
        due = await view.due(connection, card)
        check_entry_date(data.date, due.due_date, on, "date", "ultrasound")
        if data.due_date is not None:
            scan_age = view.age(data.due_date, data.date)
            if scan_age is None or not 5 <= scan_age.weeks <= 42:
                raise BadRequest(
                    "this due date would put the scan outside weeks 5 to 42 of the pregnancy", field="dueDate"
                )
        row = await queries.insert_ultrasound(
            connection,
            grant.patient_id,
            card_id,
            on=data.date,
            kind=data.kind,
            due_date=data.due_date,
            fetuses=data.fetuses,
            placenta=data.placenta,
            findings=data.findings,
            author=writer,
            at=now,
        )
        due, dating_id = view.dating(
            card.last_menstrual_period, await queries.ultrasounds(connection, grant.patient_id, card_id)
        )
        # Rolled back with the scan if it would date the pregnancy after entries already on the card.
        await check_nothing_predates(connection, card, due.due_date, field="dueDate")
        await events.append_event(grant.patient_id, events.EventType.PREGNANCY_ULTRASOUND_ADDED, card_id)
    return view.ultrasound_out(row, due.due_date, dating_id)


async def add_vaccine(grant: Grant, card_id: uuid.UUID, data: VaccineIn) -> VaccineOut:
    writer = writer_of(grant)
    now, on = utcnow(), today()
    async with DB.transaction(), DB.connection() as connection:
        card = await open_card_for_entry(connection, grant, card_id, "new vaccines")
        due = await view.due(connection, card)
        check_entry_date(data.given_on, due.due_date, on, "givenOn", "vaccination")
        row = await queries.insert_vaccine(
            connection,
            grant.patient_id,
            card_id,
            vaccine=data.vaccine,
            given_on=data.given_on,
            note=data.note,
            author=writer,
            at=now,
        )
        await events.append_event(grant.patient_id, events.EventType.PREGNANCY_VACCINE_ADDED, card_id)
    return view.vaccine_out(row)


async def add_test(grant: Grant, card_id: uuid.UUID, data: CheckedTest) -> TestOut:
    """A test result that passed `rules.check_test` (unit fixed per test, value or result in range)."""
    writer = writer_of(grant)
    now, on = utcnow(), today()
    async with DB.transaction(), DB.connection() as connection:
        card = await open_card_for_entry(connection, grant, card_id, "new test results")
        due = await view.due(connection, card)
        check_entry_date(data.taken_on, due.due_date, on, "takenOn", "test")
        row = await queries.insert_test(
            connection,
            grant.patient_id,
            card_id,
            test=data.test,
            taken_on=data.taken_on,
            value=data.value,
            unit=data.unit,
            result=data.result,
            note=data.note,
            author=writer,
            at=now,
        )
        await events.append_event(grant.patient_id, events.EventType.PREGNANCY_TEST_ADDED, card_id)
    return view.test_out(row)


def check_earlier_pregnancy(data: EarlierPregnancyIn) -> EarlierPregnancyIn:
    """The checks of an earlier pregnancy that need no patient data, before the decision."""
    check_earlier([data], today())
    return data


async def add_earlier_pregnancy(grant: Grant, card_id: uuid.UUID, data: EarlierPregnancyIn) -> EarlierPregnancyOut:
    writer = writer_of(grant)
    now = utcnow()
    async with DB.transaction(), DB.connection() as connection:
        await open_card_for_entry(connection, grant, card_id, "new entries")
        row = await queries.insert_earlier(connection, grant.patient_id, card_id, data, author=writer, at=now)
        await events.append_event(grant.patient_id, events.EventType.PREGNANCY_EARLIER_PREGNANCY_ADDED, card_id)
    return view.earlier_out(row)
