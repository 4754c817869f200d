"""The pregnancy section of the legevakt overview: status and gestational age, only with her consent.

Whatever tells that she is or was pregnant needs her `pregnancy-card` consent (architecture.md, "Pregnancy is
private"): without it the section is null, exactly as for a woman who never had a card, so its absence tells
nothing, and nothing of hers is read. The overview's decision looked the consent up in its own statement
(`Need.reveals`), so asking `grant_passes_consent` costs no query and writes no audit row.
"""

from __future__ import annotations

import datetime as dt

import msgspec

from backend.core.auth import ClinicianPrincipal
from backend.core.overview import (
    PATIENT,
    REVEALS,
    OverviewGestationalAge,
    OverviewPregnancy,
    SectionQuery,
    overview_source,
)
from backend.core.settings import Settings
from backend.pregnancy import view
from backend.pregnancy.dating import dating_scan, due_date_in_force
from backend.pregnancy.rules import today

# Her ongoing card, or else the newest (`queries.newest_card_id`'s order), with its scans' (date, due date) in the
# order `dating.dating_scan` reads them (`queries.ultrasounds`' order); only when $2, her consent (`REVEALS`).
_NEWEST_CARD = """
SELECT c.status, c.last_menstrual_period,
       coalesce((SELECT json_agg(json_build_array(u.date, u.due_date) ORDER BY u.date, u.recorded_at, u.id)
                 FROM pregnancy_ultrasound u WHERE u.patient_id = c.patient_id AND u.card = c.id), '[]') AS scans
FROM pregnancy_card c
WHERE c.patient_id = $1 AND $2
ORDER BY c.status = 'ongoing' DESC, c.created_at DESC, c.id
LIMIT 1
"""


class _NewestCard(msgspec.Struct, kw_only=True, frozen=True):
    status: str
    last_menstrual_period: dt.date
    scans: list[tuple[dt.date, dt.date | None]]


def _status(cards: list[_NewestCard]) -> OverviewPregnancy | None:
    """Today's gestational age while ongoing, from the due date in force (`view.dating`'s rule)."""
    if not cards:
        return None
    [card] = cards
    if card.status != "ongoing":
        return OverviewPregnancy(status=card.status)
    index = dating_scan(card.last_menstrual_period, card.scans)
    in_force = due_date_in_force(
        last_menstrual_period=card.last_menstrual_period,
        ultrasound_due_date=card.scans[index][1] if index is not None else None,
    )
    age = view.age(in_force.due_date, today())
    return OverviewPregnancy(
        status=card.status,
        gestational_age=OverviewGestationalAge(weeks=age.weeks, days=age.days) if age is not None else None,
    )


@overview_source("pregnancy")
def pregnancy_status(_clinician: ClinicianPrincipal, _settings: Settings) -> SectionQuery | None:
    """Her ongoing card (or else the newest); None without consent: the decision's `REVEALS` filters every row."""
    return SectionQuery(sql=_NEWEST_CARD, args=(PATIENT, REVEALS), row=_NewestCard, build=_status)
