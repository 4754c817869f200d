"""Dating a pregnancy: Naegele's rule, the due date in force and gestational age as weeks+days."""

from __future__ import annotations

from datetime import date, timedelta

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.pregnancy.dating import (
    DueDateInForce,
    GestationalAge,
    check_stated_week,
    date_of_gestational_age,
    dating_scan,
    due_date_in_force,
    gestational_age_on,
    naegele_due_date,
)


@pytest.mark.parametrize(
    ("lmp", "due"),
    [
        (date(2024, 2, 29), date(2024, 12, 5)),  # LMP on a leap day
        (date(2025, 1, 31), date(2025, 11, 7)),  # month end
        (date(2024, 3, 25), date(2024, 12, 30)),  # due in the same year
        (date(2024, 4, 1), date(2025, 1, 6)),  # due across the year boundary
        (date(2027, 5, 26), date(2028, 3, 1)),  # 280 days crossing 29 February 2028
        (date(2027, 5, 25), date(2028, 2, 29)),  # due on the leap day itself
        (date(2022, 12, 31), date(2023, 10, 7)),  # LMP on new year's eve
    ],
)
def test_naegele_due_date_is_lmp_plus_280_days(lmp: date, due: date) -> None:
    assert naegele_due_date(lmp) == due
    assert (due - lmp).days == 280


def test_due_date_comes_from_lmp_until_an_ultrasound_sets_one() -> None:
    assert due_date_in_force(last_menstrual_period=date(2024, 2, 29), ultrasound_due_date=None) == DueDateInForce(
        due_date=date(2024, 12, 5), due_date_source="lmp"
    )


def test_ultrasound_due_date_wins_over_lmp() -> None:
    in_force = due_date_in_force(last_menstrual_period=date(2024, 2, 29), ultrasound_due_date=date(2024, 12, 9))
    assert in_force == DueDateInForce(due_date=date(2024, 12, 9), due_date_source="ultrasound")


def test_ultrasound_due_date_alone_is_enough() -> None:
    in_force = due_date_in_force(last_menstrual_period=None, ultrasound_due_date=date(2028, 2, 29))
    assert in_force.due_date_source == "ultrasound"


def test_due_date_needs_lmp_or_ultrasound() -> None:
    with pytest.raises(ValueError, match="last menstrual period"):
        due_date_in_force(last_menstrual_period=None, ultrasound_due_date=None)


def test_due_date_in_force_serialises_with_api_field_names() -> None:
    encoded = msgspec.json.encode(due_date_in_force(last_menstrual_period=date(2024, 2, 29), ultrasound_due_date=None))
    assert encoded == b'{"dueDate":"2024-12-05","dueDateSource":"lmp"}'


def test_280_days_before_the_due_date_is_zero_plus_zero() -> None:
    due = date(2024, 12, 5)
    assert gestational_age_on(due, date(2024, 2, 29)) == GestationalAge(weeks=0, days=0)
    assert gestational_age_on(due, due) == GestationalAge(weeks=40, days=0)


@pytest.mark.parametrize(
    ("due", "on", "expected"),
    [
        (date(2024, 12, 5), date(2024, 3, 31), "4+3"),  # month end, 31 days after a leap-day LMP
        (date(2024, 12, 5), date(2024, 12, 31), "43+5"),  # past the due date, at the year end
        (date(2025, 1, 6), date(2025, 1, 1), "39+2"),  # across new year
        (date(2028, 3, 1), date(2028, 2, 28), "39+5"),  # the day before 29 February 2028
        (date(2028, 3, 1), date(2028, 2, 29), "39+6"),  # 29 February counts as a day
        (date(2028, 3, 1), date(2028, 3, 1), "40+0"),
    ],
)
def test_gestational_age_counts_calendar_days(due: date, on: date, expected: str) -> None:
    assert str(gestational_age_on(due, on)) == expected


def test_a_date_before_zero_plus_zero_is_rejected() -> None:
    with pytest.raises(ValueError, match="before gestational age 0"):
        gestational_age_on(date(2024, 12, 5), date(2024, 2, 28))


def test_gestational_age_rejects_impossible_values() -> None:
    with pytest.raises(ValueError, match="days"):
        GestationalAge(weeks=12, days=7)
    with pytest.raises(ValueError, match="negative"):
        GestationalAge(weeks=-1, days=0)


@pytest.mark.parametrize(
    ("weeks", "days", "expected"),
    [
        (0, 0, date(2027, 5, 26)),
        (11, 0, date(2027, 8, 11)),
        (13, 6, date(2027, 8, 31)),  # month end
        (39, 6, date(2028, 2, 29)),  # leap day
        (40, 0, date(2028, 3, 1)),
        (41, 0, date(2028, 3, 8)),
    ],
)
def test_date_of_gestational_age(weeks: int, days: int, expected: date) -> None:
    assert date_of_gestational_age(date(2028, 3, 1), weeks, days) == expected


def test_stated_week_may_be_completed_weeks_or_one_either_side() -> None:
    due = date(2024, 12, 5)
    on = date(2024, 8, 17)  # 24+2
    for stated in (23, 24, 25):
        assert check_stated_week(due, on, stated) == GestationalAge(weeks=24, days=2)


@pytest.mark.parametrize("stated", [22, 26, 0, 40])
def test_stated_week_two_or_more_weeks_off_is_rejected(stated: int) -> None:
    with pytest.raises(ValueError, match="does not match gestational age 24\\+2"):
        check_stated_week(date(2024, 12, 5), date(2024, 8, 17), stated)


def test_stated_week_before_the_pregnancy_is_rejected() -> None:
    with pytest.raises(ValueError, match="before gestational age 0"):
        check_stated_week(date(2024, 12, 5), date(2024, 1, 1), 0)


@given(
    lmp=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)),
    offset=st.integers(min_value=0, max_value=300),
)
def test_gestational_age_is_the_days_since_lmp(lmp: date, offset: int) -> None:
    due = naegele_due_date(lmp)
    age = gestational_age_on(due, lmp + timedelta(days=offset))
    assert age.weeks * 7 + age.days == offset
    assert 0 <= age.days <= 6
    assert date_of_gestational_age(due, age.weeks, age.days) == lmp + timedelta(days=offset)


LMP = date(2024, 2, 29)
LMP_DUE = naegele_due_date(LMP)


@pytest.mark.parametrize(
    ("case", "scans", "dating"),
    [
        ("12 weeks", [((12, 0), 4)], 0),
        ("20 weeks", [((20, 0), -3)], 0),
        ("22+6, the last dating day", [((22, 6), 0)], 0),
        ("23+0", [((23, 0), 0)], None),
        ("30 weeks", [((30, 0), 7)], None),
        ("22+0 by the LMP but 23+0 by its own estimate", [((22, 0), -7)], None),
        ("25+0 by the LMP, 21+0 by its own estimate", [((25, 0), 28)], None),
        ("a scan without a due date is skipped", [((12, 0), None), ((18, 0), 2)], 1),
        ("the first dating scan wins", [((12, 0), 3), ((19, 0), -4)], 0),
        ("a later growth scan changes nothing", [((10, 0), None), ((12, 0), 1), ((30, 0), 9)], 1),
    ],
)
def test_only_a_scan_at_or_before_22_6_dates_the_pregnancy(
    case: str, scans: list[tuple[tuple[int, int], int | None]], dating: int | None
) -> None:
    """CLINICAL.md v1.1: only an ultrasound at or before 22+6 may set the due date (both by the LMP and its own)."""
    given_scans = [
        (date_of_gestational_age(LMP_DUE, *at), LMP_DUE + timedelta(days=shift) if shift is not None else None)
        for at, shift in scans
    ]
    assert dating_scan(LMP, given_scans) == dating, case
