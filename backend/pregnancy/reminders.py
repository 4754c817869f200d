"""Reminders of the antenatal programme, from the worker (`helsekort worker`, job `pregnancy-reminders`).

Each is told once per card and item: the next consultation or examination of the programme when it is due
within 7 days, and each vaccine of the programme when its window opens (CLINICAL.md v1.1: offered, never
overdue). The ledger `pregnancy_reminder` (unique per card and item) makes it once even with several workers:
the row and the `pregnancy.reminder.due` event are written in one transaction, and a second worker's insert
does nothing. Only while she has the pregnancy-card consent: without it the card is hers alone, and nothing
about it is started by the service. The push says only "You have a reminder in Helsekort" (notifications'
kind `reminder`); what it is about is on the card, behind her login.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import date, timedelta

from backend.core import events
from backend.core.db import DB
from backend.core.errors import DATABASE_UNAVAILABLE
from backend.core.settings import Settings
from backend.pregnancy import queries
from backend.pregnancy.rules import today
from backend.pregnancy.schedule import ONGOING, DueItem
from backend.pregnancy.schemas import PregnancyCard
from backend.pregnancy.view import whole

log = logging.getLogger("helsekort.pregnancy.reminders")

REMIND_BEFORE = timedelta(days=7)
_BATCH = 500
_INTERVAL_SECONDS = 3600.0  # a reminder is a matter of days: once an hour per worker process is plenty
_last_run: dict[str, float] = {}


def reminders_due(card: PregnancyCard, on: date) -> list[DueItem]:
    """What to remind of on `on`: the next programme item if it starts within 7 days, and every open vaccine."""
    due: list[DueItem] = []
    if card.next_due is not None and card.next_due.starts_on - on <= REMIND_BEFORE:
        due.append(card.next_due)
    due.extend(item for item in card.vaccines_due if item.starts_on <= on)
    return due


async def send_due_reminders(settings: Settings, *, force: bool = False) -> int:
    """Worker job: append one `pregnancy.reminder.due` per card and due item not told yet; returns how many."""
    if not force and time.monotonic() - _last_run.get("run", -_INTERVAL_SECONDS) < _INTERVAL_SECONDS:
        return 0
    _last_run["run"] = time.monotonic()
    on = today()
    told = 0
    after: tuple[uuid.UUID, uuid.UUID] | None = None
    try:
        while True:
            async with DB.connection() as connection:
                cards = await queries.ongoing_cards_to_remind(connection, after=after, limit=_BATCH)
            for patient, card_id in cards:
                told += await _remind(patient, card_id, on)
            if len(cards) < _BATCH:
                return told
            after = cards[-1]
    except DATABASE_UNAVAILABLE as exc:
        log.warning("pregnancy reminders lost the database", extra={"error": type(exc).__name__})
        _last_run.pop("run", None)  # try again next round
        return told


async def _remind(patient: uuid.UUID, card_id: uuid.UUID, on: date) -> int:
    told = 0
    async with DB.transaction(), DB.connection() as connection:
        card = await queries.card(connection, patient, card_id, lock="share")
        if card is None or card.status != ONGOING or not await queries.has_pregnancy_consent(connection, patient):
            return 0
        shown = await whole(connection, card, on)
        for item in reminders_due(shown, on):
            if await queries.insert_reminder(connection, patient, card_id, item.key, item.starts_on):
                await events.append_event(patient, events.EventType.PREGNANCY_REMINDER_DUE, card_id)
                told += 1
    return told
