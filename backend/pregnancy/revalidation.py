"""What the citizen's card's ETag is derived from (core/conditional.py), kept apart from how the card is assembled."""

from __future__ import annotations

from typing import Any

from backend.core import events
from backend.core.access import Grant
from backend.core.conditional import State
from backend.pregnancy.rules import today

# Every write to a card (a clinician's entry, her note or self-registration, a reminder) is a `pregnancy-card` event.
CARD_RESOURCE_TYPES = ("pregnancy-card",)


async def card_state(connection: Any, me: Grant) -> State:
    """Her visible changes to her cards, and the date: the card is shown as of today (weeks, the programme)."""
    return State((await events.last_visible_change(connection, me.patient_id, CARD_RESOURCE_TYPES), today()))
