"""The pregnancy section of the legevakt overview: status and gestational age, only with her consent.

Whatever tells that she is or was pregnant needs her `pregnancy-card` consent (architecture.md, "Pregnancy is
private"): without it the section is null, exactly as for a woman who never had a card, so its absence tells
nothing. The overview's decision looked the consent up in its own statement (`Need.reveals`), so asking
`grant_passes_consent` costs no query and writes no audit row.
"""

from __future__ import annotations

from backend.core.access import Grant, grant_passes_consent
from backend.core.context import PREGNANCY_CONSENT
from backend.core.db import DB
from backend.core.overview import OverviewGestationalAge, OverviewPregnancy, overview_source
from backend.core.settings import Settings
from backend.pregnancy import queries, view
from backend.pregnancy.rules import today


@overview_source("pregnancy")
async def pregnancy_status(grant: Grant, _settings: Settings) -> OverviewPregnancy | None:
    """Her ongoing card (or else the newest) with today's gestational age while ongoing; None without consent."""
    if not await grant_passes_consent(grant, PREGNANCY_CONSENT):
        return None
    async with DB.connection() as connection:
        card_id = await queries.newest_card_id(connection, grant.patient_id)
        if card_id is None:
            return None
        card = await view.card_row(connection, grant, card_id)
        if card.status != "ongoing":
            return OverviewPregnancy(status=card.status)
        in_force = await view.due(connection, card)
    age = view.age(in_force.due_date, today())
    return OverviewPregnancy(
        status=card.status,
        gestational_age=OverviewGestationalAge(weeks=age.weeks, days=age.days) if age is not None else None,
    )
