"""The card itself: creating it, reading and listing it, its header (versioned as a whole) and its outcome.

Each write takes the Grant of `rules.WRITE` (creation: `rules.create_need`) and runs in one transaction that
also appends the event; the body checks that need no patient data (`check_new_card`, `check_header_patch`)
run in the route before the access decision, so a bad body is a 400 before anything about the patient is asked.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg
import msgspec

from backend.core import events
from backend.core.access import Grant, write_transaction
from backend.core.change_signals import PatientCache
from backend.core.clock import utcnow
from backend.core.concurrency import require_if_match
from backend.core.context import PREGNANCY, record_pregnancy_outcome, set_context
from backend.core.db import DB
from backend.core.errors import BadRequest, Conflict
from backend.core.paging import BeforeNumber, BeforeTimeAndId, clamp_limit, decode_cursor, keyset_page
from backend.pregnancy import queries, view
from backend.pregnancy.queries import CardRow
from backend.pregnancy.rules import (
    check_earlier,
    check_entry_date,
    check_header,
    check_lmp,
    check_outcome_fits_age,
    require_open,
    today,
    writer_of,
    zero,
)
from backend.pregnancy.schedule import ONGOING
from backend.pregnancy.schemas import (
    CardHeader,
    CardHeaderPatch,
    CardIn,
    CardList,
    CardSummary,
    EarlierPregnancyIn,
    HeaderHistory,
    HeaderVersionOut,
    OutcomeIn,
    PregnancyCard,
)


@dataclass(frozen=True, slots=True)
class NewCard:
    """A card body that passed the checks that need no patient data (`check_new_card`), before the decision."""

    last_menstrual_period: date
    header: CardHeader
    earlier_pregnancies: Sequence[EarlierPregnancyIn]


def check_new_card(data: CardIn) -> NewCard:
    on = today()
    check_lmp(data.last_menstrual_period, on)
    header = CardHeader(**{f: getattr(data, f) for f in CardHeader.__struct_fields__})
    check_header(header)
    check_earlier(data.earlier_pregnancies, on, prefix="earlierPregnancies")
    return NewCard(data.last_menstrual_period, header, data.earlier_pregnancies)


async def create_card(grant: Grant, data: NewCard) -> PregnancyCard:
    """The card, under the decision of `rules.create_need`; a midwife's attested relation commits with it."""
    writer = writer_of(grant)
    now = utcnow()
    card_id = uuid.uuid4()
    try:
        async with write_transaction(grant) as connection:
            ongoing = await queries.lock_ongoing_card(connection, grant.patient_id)
            if ongoing is not None:
                raise Conflict(
                    "this patient already has an ongoing pregnancy card; record its outcome first",
                    extra={"ongoingCardId": str(ongoing)},
                )
            await queries.insert_card(
                connection,
                grant.patient_id,
                card_id,
                lmp=data.last_menstrual_period,
                header=data.header,
                author=writer,
                at=now,
            )
            for item in data.earlier_pregnancies:
                await queries.insert_earlier(connection, grant.patient_id, card_id, item, author=writer, at=now)
            await set_context(grant.patient_id, PREGNANCY, ONGOING)
            await events.append_event(grant.patient_id, events.EventType.PREGNANCY_CARD_CREATED, card_id)
    except asyncpg.UniqueViolationError as exc:
        # Two creations raced past the check above; the partial unique index kept one.
        raise Conflict("this patient already has an ongoing pregnancy card") from exc
    return await view.load(grant, card_id)


async def read_card(grant: Grant, card_id: uuid.UUID) -> PregnancyCard:
    """The whole card (the clinicians' and the woman's own view are the same)."""
    return await view.load(grant, card_id)


# Her own card as she (or someone acting for her) reads it, kept per patient until she changes: every write that
# changes what the card shows appends an event for her (the card, its header and outcome here, each entry in
# entries.py, her notes and self-registrations in woman.py, a reminder), and the date and the schedule are all else
# it depends on (the date in the key, and the cache ends at midnight in Norway; the schedule changes only by a
# migration). The answer is the same for her and for a representative; the access decision runs before, each time.
_MINE: PatientCache[PregnancyCard] = PatientCache()


async def read_my_card(me: Grant, card_id: uuid.UUID) -> PregnancyCard:
    """Her whole card, as `read_card`, from what this process keeps of it (core/change_signals.py)."""
    on = today()

    async def read() -> tuple[PregnancyCard, None]:
        return await view.load(me, card_id, on), None

    return await _MINE.get(me.patient_id, ("card", card_id, on), read)


def _card_position(card: CardSummary) -> BeforeTimeAndId:
    return BeforeTimeAndId(at=card.created_at, id=card.id)


async def list_cards(grant: Grant, cursor: str | None = None, limit: int | None = None) -> CardList:
    """Her cards, newest first, a page at a time."""
    size = clamp_limit(limit)
    position = decode_cursor(cursor, BeforeTimeAndId)
    async with DB.connection() as connection:
        rows = await queries.cards_page(
            connection,
            grant.patient_id,
            before=(position.at, position.id) if position else None,
            limit=size + 1,
        )
        items = [await view.summary(connection, row) for row in rows]
    kept, following = keyset_page(items, size, _card_position)
    return CardList(items=kept, next=following)


@dataclass(frozen=True, slots=True)
class HeaderChange:
    """A header PATCH that passed the checks that need no patient data (`check_header_patch`)."""

    changes: dict[str, Any]
    last_menstrual_period: date | None


def check_header_patch(patch: CardHeaderPatch) -> HeaderChange:
    changes = {
        name: getattr(patch, name)
        for name in patch.__struct_fields__
        if getattr(patch, name) is not msgspec.UNSET and name != "last_menstrual_period"
    }
    new_lmp = patch.last_menstrual_period
    if not changes and new_lmp is msgspec.UNSET:
        raise BadRequest("send at least one field to change", field="body")
    if isinstance(new_lmp, date):
        check_lmp(new_lmp, today())
    return HeaderChange(changes, new_lmp if isinstance(new_lmp, date) else None)


async def update_header(grant: Grant, card_id: uuid.UUID, change: HeaderChange, if_match: str | None) -> PregnancyCard:
    """A new version of the header (and LMP), kept in its history; If-Match names the version read."""
    writer = writer_of(grant)
    now = utcnow()
    async with DB.transaction(), DB.connection() as connection:
        card = await view.card_row(connection, grant, card_id, lock="update")
        require_if_match(if_match, card.version, resource="pregnancy card")
        require_open(card, "changes")
        header = msgspec.structs.replace(card.header, **change.changes)
        check_header(header)
        lmp = change.last_menstrual_period or card.last_menstrual_period
        if lmp != card.last_menstrual_period:
            # A new LMP can also change which scan dates the pregnancy (the 22+6 limit counts from it).
            candidate = await view.due(connection, card, lmp)
            await check_nothing_predates(connection, card, candidate.due_date, field="lastMenstrualPeriod")
        await queries.update_header(
            connection,
            grant.patient_id,
            card_id,
            version=card.version + 1,
            lmp=lmp,
            header=header,
            author=writer,
            at=now,
        )
        await events.append_event(grant.patient_id, events.EventType.PREGNANCY_CARD_UPDATED, card_id)
    return await view.load(grant, card_id)


async def check_nothing_predates(connection: Any, card: CardRow, due: date, *, field: str) -> None:
    """A changed due date (new LMP, new dating scan) must not leave recorded entries before 0+0."""
    earliest = await queries.earliest_entry(connection, card.patient_id, card.id)
    if earliest is not None and earliest < zero(due):
        raise BadRequest(
            f"this would date the pregnancy after an entry of {earliest.isoformat()} (0+0 would be "
            f"{zero(due).isoformat()})",
            field=field,
        )


def _version_position(item: HeaderVersionOut) -> BeforeNumber:
    return BeforeNumber(n=item.version)


async def header_history(
    grant: Grant, card_id: uuid.UUID, cursor: str | None = None, limit: int | None = None
) -> HeaderHistory:
    """Every version of the header, newest first, a page at a time."""
    size = clamp_limit(limit)
    position = decode_cursor(cursor, BeforeNumber)
    async with DB.connection() as connection:
        await view.card_row(connection, grant, card_id)
        rows = await queries.header_versions(
            connection, grant.patient_id, card_id, before=position.n if position else None, limit=size + 1
        )
    kept, following = keyset_page([view.header_version_out(row) for row in rows], size, _version_position)
    return HeaderHistory(items=kept, next=following)


async def record_outcome(grant: Grant, card_id: uuid.UUID, data: OutcomeIn) -> PregnancyCard:
    """Close the card with its outcome; the same PUT again changes nothing, another one is 409."""
    writer = writer_of(grant)
    now = utcnow()
    on = today()
    async with DB.transaction(), DB.connection() as connection:
        card = await view.card_row(connection, grant, card_id, lock="update")
        if card.status != ONGOING:
            if card.status == data.outcome and card.outcome_date == data.date:
                return await view.whole(connection, card, on)  # the same PUT again changes nothing
            raise Conflict(
                f"the outcome is already recorded (status {card.status}); a closed card is not reopened",
                extra={"cardStatus": card.status},
            )
        due = await view.due(connection, card)
        check_entry_date(data.date, due.due_date, on, "date", "outcome")
        check_outcome_fits_age(data, due.due_date)
        await queries.close_card(
            connection,
            grant.patient_id,
            card_id,
            outcome=data.outcome,
            on=data.date,
            note=data.note,
            author=writer,
            at=now,
        )
        # Measurements read this (no pregnancy BP alerts; NEWS2 valid again 6 weeks after the outcome date).
        await record_pregnancy_outcome(grant.patient_id, data.outcome, data.date)
        await events.append_event(grant.patient_id, events.EventType.PREGNANCY_CARD_CLOSED, card_id)
    return await view.load(grant, card_id)
