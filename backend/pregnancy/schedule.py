"""The basic antenatal programme as editable data, and what is next due or overdue on a card."""

from __future__ import annotations

from collections.abc import Iterable, Set
from datetime import date, timedelta
from typing import Annotated, Literal

import msgspec

from backend.pregnancy.dating import PREGNANCY_DAYS

# Conditions a card can carry; an item with one of these applies only when the card has it.
RHD_NEGATIVE = "rhd-negative"
# RhD negative, not already immunised, and the fetus RhD positive or untyped (see `anti_d_indicated`).
ANTI_D_INDICATED = "anti-d-indicated"
GDM_RISK = "gdm-risk"  # the risk criteria for gestational diabetes are met
# Added by the caller while the influenza vaccine is offered, so this module holds no season calendar.
INFLUENZA_SEASON = "influenza-season"

ONGOING = "ongoing"

# Gestational days: 0 is 0+0; 300 (42+6) leaves room past the 41-week check and is "until birth".
LAST_DAY = 300
GestationalDay = Annotated[int, msgspec.Meta(ge=0, le=LAST_DAY)]
ItemKey = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=64)]
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
ConditionName = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=64)]
# A "programme" item (consultation or examination) can be next due or overdue; a "vaccine" is offered beside
# them while its window is open and is never overdue while the pregnancy goes on (CLINICAL.md v1.1).
ItemKind = Literal["programme", "vaccine"]


class ScheduleItem(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, rename="camel"):
    """One step of the programme with its window in gestational days, both ends inclusive."""

    key: ItemKey
    label_nb: Label
    label_en: Label
    window_start_day: GestationalDay
    window_end_day: GestationalDay
    condition: ConditionName | None = None
    kind: ItemKind = "programme"

    def __post_init__(self) -> None:
        if self.window_end_day < self.window_start_day:
            raise ValueError(f"{self.key}: the window ends before it starts")

    @property
    def conditional(self) -> bool:
        return self.condition is not None


class DueItem(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """A schedule item placed on the calendar of one card, both dates inclusive."""

    key: str
    label_nb: str
    label_en: str
    starts_on: date
    ends_on: date


class ScheduleStatus(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """The next consultation or examination, the missed ones, and the vaccines offered now (listed beside)."""

    next_due: DueItem | None
    overdue: list[DueItem]
    vaccines_due: list[DueItem] = msgspec.field(default_factory=list)


def _week(weeks: int) -> tuple[int, int]:
    """The window of "week N" on the card: N+0 to N+6."""
    return weeks * 7, weeks * 7 + 6


def _consultation(weeks: int) -> ScheduleItem:
    start, end = _week(weeks)
    return ScheduleItem(
        key=f"consultation-{weeks}",
        label_nb=f"Konsultasjon uke {weeks}",
        label_en=f"Consultation week {weeks}",
        window_start_day=start,
        window_end_day=end,
    )


def default_schedule() -> list[ScheduleItem]:
    """Helsedirektoratet's basic programme (CLINICAL.md), in the order items are offered."""
    week_24 = _week(24)
    week_28 = _week(28)
    return [
        ScheduleItem(
            key="first-consultation",
            label_nb="Første konsultasjon",
            label_en="First consultation",
            window_start_day=6 * 7,
            window_end_day=12 * 7 + 6,
        ),
        ScheduleItem(
            key="early-ultrasound",
            label_nb="Tidlig ultralyd",
            label_en="Early ultrasound",
            window_start_day=11 * 7,
            window_end_day=13 * 7 + 6,
        ),
        ScheduleItem(
            key="routine-ultrasound",
            label_nb="Rutineultralyd",
            label_en="Routine ultrasound",
            window_start_day=17 * 7,
            window_end_day=19 * 7 + 6,
        ),
        _consultation(24),
        ScheduleItem(
            key="fetal-rhd-and-antibody-test",
            label_nb="Føtal RhD-typing og antistoffscreening",
            label_en="Fetal RhD typing and antibody screening",
            window_start_day=week_24[0],
            window_end_day=week_24[1],
            condition=RHD_NEGATIVE,
        ),
        # Offered to every pregnant woman since May 2024 (FHI), so it carries no condition. CLINICAL.md v1.1:
        # offered from week 24 and can be given later in pregnancy, so its window runs until birth.
        ScheduleItem(
            key="whooping-cough-vaccine",
            label_nb="Kikhostevaksine",
            label_en="Whooping cough vaccine",
            window_start_day=week_24[0],
            window_end_day=LAST_DAY,
            kind="vaccine",
        ),
        ScheduleItem(
            key="glucose-tolerance-test",
            label_nb="Glukosebelastning",
            label_en="Oral glucose tolerance test",
            window_start_day=week_24[0],
            window_end_day=week_28[1],
            condition=GDM_RISK,
        ),
        _consultation(28),
        # Helsedirektoratet (CLINICAL.md v1.1): anti-D only when the fetus is RhD positive (or untyped) and
        # the woman is not already immunised.
        ScheduleItem(
            key="anti-d-prophylaxis",
            label_nb="Anti-D-profylakse",
            label_en="Anti-D prophylaxis",
            window_start_day=week_28[0],
            window_end_day=week_28[1],
            condition=ANTI_D_INDICATED,
        ),
        _consultation(32),
        _consultation(36),
        _consultation(38),
        _consultation(40),
        # Needs no condition: only an ongoing card is scheduled, and a card still ongoing at 41+0 is
        # one not yet delivered.
        _consultation(41),
        # In season, in the second and third trimester: from 13+0 until birth.
        ScheduleItem(
            key="influenza-vaccine",
            label_nb="Influensavaksine",
            label_en="Influenza vaccine",
            window_start_day=13 * 7,
            window_end_day=LAST_DAY,
            condition=INFLUENZA_SEASON,
            kind="vaccine",
        ),
    ]


def encode_schedule(schedule: Iterable[ScheduleItem]) -> bytes:
    """The schedule as JSON, for the card's editable copy in the database."""
    return msgspec.json.encode(list(schedule))


def decode_schedule(data: bytes | str) -> list[ScheduleItem]:
    """A stored or edited schedule, validated; raises msgspec.ValidationError on a bad item or a repeated key."""
    items = msgspec.json.decode(data, type=list[ScheduleItem])
    seen: set[str] = set()
    for item in items:
        if item.key in seen:
            raise msgspec.ValidationError(f"schedule key {item.key!r} appears twice")
        seen.add(item.key)
    return items


def _on_calendar(item: ScheduleItem, zero: date) -> DueItem:
    return DueItem(
        key=item.key,
        label_nb=item.label_nb,
        label_en=item.label_en,
        starts_on=zero + timedelta(days=item.window_start_day),
        ends_on=zero + timedelta(days=item.window_end_day),
    )


def schedule_status(
    schedule: Iterable[ScheduleItem],
    due_date: date,
    today: date,
    *,
    done_keys: Set[str],
    conditions: Set[str],
    status: str,
) -> ScheduleStatus:
    """What is next due, what is overdue, and which vaccines are offered today.

    An item applies when it has no condition or the card carries its condition. `next_due` is the
    earliest-starting open programme item whose window has not ended: a consultation or examination,
    never a vaccine (CLINICAL.md v1.1). A vaccine is listed in `vaccines_due` while its window is open and
    is never overdue, since it can be given until birth. A closed card (status other than "ongoing")
    stops all reminders, so it has nothing due and nothing overdue.
    """
    if status != ONGOING:
        return ScheduleStatus(next_due=None, overdue=[], vaccines_due=[])
    zero = due_date - timedelta(days=PREGNANCY_DAYS)
    applicable = [
        item
        for item in schedule
        if item.key not in done_keys and (item.condition is None or item.condition in conditions)
    ]
    programme = [_on_calendar(item, zero) for item in applicable if item.kind == "programme"]
    vaccines = [_on_calendar(item, zero) for item in applicable if item.kind == "vaccine"]
    overdue = sorted((item for item in programme if item.ends_on < today), key=lambda item: item.ends_on)
    # sorted() is stable, so items starting the same day keep the schedule's own order.
    upcoming = sorted((item for item in programme if item.ends_on >= today), key=lambda item: item.starts_on)
    offered = sorted(
        (item for item in vaccines if item.starts_on <= today <= item.ends_on), key=lambda item: item.starts_on
    )
    return ScheduleStatus(next_due=upcoming[0] if upcoming else None, overdue=overdue, vaccines_due=offered)


def anti_d_indicated(*, rhd: str | None, immunised: bool | None, fetal_rhd: str | None) -> bool:
    """Whether anti-D prophylaxis at week 28 is due (Helsedirektoratet, antenatal guideline; CLINICAL.md v1.1).

    Only for an RhD-negative woman who is not already immunised (no anti-D antibodies), and whose fetus is
    RhD positive or not typed: a fetal RhD result of RhD negative removes the item.
    """
    return rhd == "negative" and immunised is not True and fetal_rhd != "rhd-negative"


# The week-24 antibody screening counts only when taken in 22+0–26+6 (CLINICAL.md v1.1).
WEEK_24_SCREENING_DAYS = (22 * 7, 26 * 7 + 6)


def week_24_rhd_item_done(
    due_date: date, *, fetal_rhd_results: Iterable[str | None], antibody_screenings: Iterable[date]
) -> bool:
    """Whether "fetal RhD typing and antibody screening" is done (CLINICAL.md v1.1).

    Done only by a fetal RhD result and an antibody screening dated in weeks 22+0–26+6; the
    first-trimester screening does not count.
    """
    if not any(result is not None for result in fetal_rhd_results):
        return False
    zero = due_date - timedelta(days=PREGNANCY_DAYS)
    first, last = WEEK_24_SCREENING_DAYS
    return any(first <= (taken_on - zero).days <= last for taken_on in antibody_screenings)
