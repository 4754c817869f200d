"""Pregnancy dating: the due date in force and the gestational age it gives on any date."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Literal

import msgspec

DueDateSource = Literal["lmp", "ultrasound"]

# Naegele's rule: a 40-week pregnancy counted from the first day of the last menstrual period.
PREGNANCY_DAYS = 280

# CLINICAL.md v1.1: only an ultrasound at or before 22+6 may set the due date; fetal size dates a pregnancy
# only until then, and a later scan measures growth instead.
LAST_DATING_DAY = 22 * 7 + 6

# A stated week may differ from the computed completed weeks by this much (see `check_stated_week`).
STATED_WEEK_TOLERANCE = 1


class GestationalAge(msgspec.Struct, frozen=True, kw_only=True):
    """Completed weeks and days since 0+0, written "weeks+days" as on the paper card."""

    weeks: int
    days: int

    def __post_init__(self) -> None:
        if self.weeks < 0:
            raise ValueError("gestational weeks cannot be negative")
        if not 0 <= self.days <= 6:
            raise ValueError("gestational days must be 0 to 6")

    @property
    def total_days(self) -> int:
        return self.weeks * 7 + self.days

    def __str__(self) -> str:
        return f"{self.weeks}+{self.days}"


class DueDateInForce(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """The due date the card counts from, and whether it came from the LMP or an ultrasound."""

    due_date: date
    due_date_source: DueDateSource


def naegele_due_date(last_menstrual_period: date) -> date:
    """The due date by Naegele's rule: LMP + 280 days."""
    return last_menstrual_period + timedelta(days=PREGNANCY_DAYS)


def due_date_in_force(*, last_menstrual_period: date | None, ultrasound_due_date: date | None) -> DueDateInForce:
    """The ultrasound due date once one is recorded, otherwise Naegele's from the LMP.

    The caller passes the due date set at the first dating ultrasound; later scans do not move it.
    Raises ValueError when neither is known.
    """
    if ultrasound_due_date is not None:
        return DueDateInForce(due_date=ultrasound_due_date, due_date_source="ultrasound")
    if last_menstrual_period is not None:
        return DueDateInForce(due_date=naegele_due_date(last_menstrual_period), due_date_source="lmp")
    raise ValueError("a due date needs the last menstrual period or an ultrasound due date")


def is_dating_scan(*, scan_date: date, scan_due_date: date, due_date_before: date) -> bool:
    """Whether a scan may set the due date (CLINICAL.md v1.1: only at or before 22+6).

    The scan must be at or before 22+6 both by its own estimate and by the due date in force before it, so
    neither a small fetus late in pregnancy nor a late first scan re-dates the pregnancy.
    """
    limit = timedelta(days=PREGNANCY_DAYS - LAST_DATING_DAY)
    return scan_date <= scan_due_date - limit and scan_date <= due_date_before - limit


def dating_scan(last_menstrual_period: date, scans: Sequence[tuple[date, date | None]]) -> int | None:
    """The index of the dating scan in `scans`: the first that gives a due date and `is_dating_scan`.

    `scans` are (scan date, the scan's own due date or None), ordered by date and then by when recorded.
    Later scans record their estimate but never move the due date in force.
    """
    lmp_due = naegele_due_date(last_menstrual_period)
    for index, (scan_date, scan_due) in enumerate(scans):
        if scan_due is not None and is_dating_scan(
            scan_date=scan_date, scan_due_date=scan_due, due_date_before=lmp_due
        ):
            return index
    return None


def gestational_age_on(due_date: date, on: date) -> GestationalAge:
    """The gestational age on a date, where 280 days before the due date is 0+0.

    Raises ValueError for a date before 0+0: no pregnancy exists to date, and a negative age would
    silently slip into curves and schedules. There is no upper bound, since an overdue or closed card
    still has dated entries.
    """
    elapsed = (on - (due_date - timedelta(days=PREGNANCY_DAYS))).days
    if elapsed < 0:
        raise ValueError(f"{on.isoformat()} is before gestational age 0+0 for due date {due_date.isoformat()}")
    weeks, days = divmod(elapsed, 7)
    return GestationalAge(weeks=weeks, days=days)


def date_of_gestational_age(due_date: date, weeks: int, days: int = 0) -> date:
    """The date on which the pregnancy reaches weeks+days for this due date."""
    age = GestationalAge(weeks=weeks, days=days)
    return due_date - timedelta(days=PREGNANCY_DAYS - age.total_days)


def check_stated_week(due_date: date, on: date, stated_week: int) -> GestationalAge:
    """The computed gestational age on a consultation date, if the week the clinician stated fits it.

    The stated week may be the completed weeks or one either side: paper-card habit writes either the
    completed weeks (24+5 as "24") or the week in progress ("week 25"), and a dating ultrasound can move
    the due date by some days after an entry was written. A gap of two weeks or more means a wrong date
    or the wrong card, and raises ValueError.
    """
    computed = gestational_age_on(due_date, on)
    if abs(stated_week - computed.weeks) > STATED_WEEK_TOLERANCE:
        raise ValueError(f"stated week {stated_week} does not match gestational age {computed} on {on.isoformat()}")
    return computed
