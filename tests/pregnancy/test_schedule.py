"""The basic programme as data, and what a card has next due and overdue."""

from __future__ import annotations

from datetime import date, timedelta

import msgspec
import pytest

from backend.pregnancy.dating import date_of_gestational_age
from backend.pregnancy.schedule import (
    ANTI_D_INDICATED,
    GDM_RISK,
    INFLUENZA_SEASON,
    RHD_NEGATIVE,
    DueItem,
    ScheduleItem,
    ScheduleStatus,
    decode_schedule,
    default_schedule,
    encode_schedule,
    schedule_status,
)

# LMP 29 February 2024 (a leap day): 0+0 is 2024-02-29.
DUE = date(2024, 12, 5)
EARLY_KEYS = {"first-consultation", "early-ultrasound", "routine-ultrasound"}


def on_week(weeks: int, days: int = 0) -> date:
    return date_of_gestational_age(DUE, weeks, days)


def status_on(
    today: date,
    *,
    done: set[str] | None = None,
    conditions: set[str] | None = None,
    status: str = "ongoing",
    schedule: list[ScheduleItem] | None = None,
) -> ScheduleStatus:
    return schedule_status(
        default_schedule() if schedule is None else schedule,
        DUE,
        today,
        done_keys=done or set(),
        conditions=conditions or set(),
        status=status,
    )


def windows() -> dict[str, tuple[int, int]]:
    return {item.key: (item.window_start_day, item.window_end_day) for item in default_schedule()}


def test_default_schedule_follows_the_basic_programme() -> None:
    by_key = windows()
    assert by_key["first-consultation"] == (6 * 7, 12 * 7 + 6)
    assert by_key["early-ultrasound"] == (11 * 7, 13 * 7 + 6)
    assert by_key["routine-ultrasound"] == (17 * 7, 19 * 7 + 6)
    for week in (24, 28, 32, 36, 38, 40, 41):
        assert by_key[f"consultation-{week}"] == (week * 7, week * 7 + 6)
    assert by_key["fetal-rhd-and-antibody-test"] == (24 * 7, 24 * 7 + 6)
    assert by_key["anti-d-prophylaxis"] == (28 * 7, 28 * 7 + 6)
    assert by_key["glucose-tolerance-test"] == (24 * 7, 28 * 7 + 6)
    # CLINICAL.md v1.1: offered from week 24 (whooping cough) or 13+0 (influenza) and until birth.
    assert by_key["whooping-cough-vaccine"] == (24 * 7, 300)
    assert by_key["influenza-vaccine"] == (13 * 7, 300)
    assert {item.key for item in default_schedule() if item.kind == "vaccine"} == {
        "whooping-cough-vaccine",
        "influenza-vaccine",
    }


def test_only_the_conditional_items_carry_a_condition() -> None:
    conditions = {item.key: item.condition for item in default_schedule() if item.conditional}
    assert conditions == {
        "fetal-rhd-and-antibody-test": RHD_NEGATIVE,
        "anti-d-prophylaxis": ANTI_D_INDICATED,
        "glucose-tolerance-test": GDM_RISK,
        "influenza-vaccine": INFLUENZA_SEASON,
    }


def test_keys_are_unique_and_every_item_has_both_labels() -> None:
    items = default_schedule()
    assert len({item.key for item in items}) == len(items)
    assert all(item.label_nb and item.label_en for item in items)


def test_new_card_has_first_consultation_next_with_its_dates() -> None:
    result = status_on(on_week(5))
    assert result.next_due == DueItem(
        key="first-consultation",
        label_nb="Første konsultasjon",
        label_en="First consultation",
        starts_on=date(2024, 4, 11),
        ends_on=date(2024, 5, 29),
    )
    assert result.overdue == []


def test_a_date_before_zero_plus_zero_still_points_to_the_first_consultation() -> None:
    result = status_on(on_week(0) - timedelta(days=10))
    assert result.next_due is not None
    assert result.next_due.key == "first-consultation"


def test_open_window_item_is_next_due_not_overdue() -> None:
    result = status_on(on_week(12, 6))
    assert result.next_due is not None
    assert result.next_due.key == "first-consultation"
    assert result.overdue == []


def test_window_ends_inclusive_then_item_is_overdue() -> None:
    result = status_on(on_week(13, 0), done={"early-ultrasound"})
    assert [item.key for item in result.overdue] == ["first-consultation"]
    assert result.overdue[0].ends_on == on_week(12, 6)


def test_next_due_after_the_ultrasound_is_week_24() -> None:
    result = status_on(on_week(20, 3), done=EARLY_KEYS)
    assert result.next_due == DueItem(
        key="consultation-24",
        label_nb="Konsultasjon uke 24",
        label_en="Consultation week 24",
        starts_on=date(2024, 8, 15),
        ends_on=date(2024, 8, 21),
    )
    assert result.overdue == []


def test_whooping_cough_is_offered_from_week_24_until_birth_and_never_overdue_while_ongoing() -> None:
    """CLINICAL.md v1.1 (FHI/Helsedirektoratet): offered from week 24, can be given later in pregnancy."""
    done = EARLY_KEYS | {"consultation-24"}
    before = status_on(on_week(23, 6), done=EARLY_KEYS)
    assert before.vaccines_due == []
    for weeks, days in ((24, 0), (25, 1), (36, 0), (41, 6)):
        result = status_on(on_week(weeks, days), done=done)
        assert [item.key for item in result.vaccines_due] == ["whooping-cough-vaccine"], (weeks, days)
        assert "whooping-cough-vaccine" not in {item.key for item in result.overdue}
        assert result.next_due is None or result.next_due.key != "whooping-cough-vaccine"
    assert status_on(on_week(30, 0), done=done, status="delivered").vaccines_due == []


def test_next_due_names_the_consultation_while_vaccines_are_listed_beside_it() -> None:
    """CLINICAL.md v1.1: `nextDue` is the next consultation or examination, vaccines beside it."""
    result = status_on(on_week(24, 2), done=EARLY_KEYS, conditions={INFLUENZA_SEASON})
    assert result.next_due is not None
    assert result.next_due.key == "consultation-24"
    assert [item.key for item in result.vaccines_due] == ["influenza-vaccine", "whooping-cough-vaccine"]


def test_rhd_negative_adds_fetal_rhd_test_at_24_and_anti_d_at_28_when_indicated() -> None:
    done = EARLY_KEYS | {"consultation-24", "whooping-cough-vaccine"}
    rhd = {RHD_NEGATIVE, ANTI_D_INDICATED}
    at_24 = status_on(on_week(24, 2), done=done, conditions=rhd)
    assert at_24.next_due is not None
    assert at_24.next_due.key == "fetal-rhd-and-antibody-test"

    at_28 = status_on(on_week(28, 0), done=done | {"fetal-rhd-and-antibody-test"}, conditions=rhd)
    assert at_28.next_due is not None
    assert at_28.next_due.key == "consultation-28"
    after_28 = status_on(on_week(28, 1), done=done | {"fetal-rhd-and-antibody-test", "consultation-28"}, conditions=rhd)
    assert after_28.next_due is not None
    assert after_28.next_due.key == "anti-d-prophylaxis"
    assert after_28.next_due.starts_on == date(2024, 9, 12)
    not_indicated = status_on(
        on_week(28, 1), done=done | {"fetal-rhd-and-antibody-test", "consultation-28"}, conditions={RHD_NEGATIVE}
    )
    assert not_indicated.next_due is not None
    assert not_indicated.next_due.key == "consultation-32"


def test_rhd_positive_card_never_sees_the_rhd_items() -> None:
    done = EARLY_KEYS | {"consultation-24", "whooping-cough-vaccine", "consultation-28"}
    result = status_on(on_week(29, 0), done=done)
    keys = {item.key for item in result.overdue} | {result.next_due.key if result.next_due else ""}
    assert "anti-d-prophylaxis" not in keys
    assert "fetal-rhd-and-antibody-test" not in keys


def test_glucose_tolerance_test_applies_only_when_risk_criteria_are_met() -> None:
    done = EARLY_KEYS | {"consultation-24", "whooping-cough-vaccine"}
    with_risk = status_on(on_week(25, 0), done=done, conditions={GDM_RISK})
    assert with_risk.next_due is not None
    assert with_risk.next_due.key == "glucose-tolerance-test"
    assert (with_risk.next_due.starts_on, with_risk.next_due.ends_on) == (on_week(24), on_week(28, 6))

    without_risk = status_on(on_week(25, 0), done=done)
    assert without_risk.next_due is not None
    assert without_risk.next_due.key == "consultation-28"

    missed = status_on(on_week(29, 0), done=done | {"consultation-28"}, conditions={GDM_RISK})
    assert [item.key for item in missed.overdue] == ["glucose-tolerance-test"]


def test_influenza_vaccine_is_offered_only_in_season_from_the_second_trimester() -> None:
    done = EARLY_KEYS
    in_season = status_on(on_week(20, 0), done=done, conditions={INFLUENZA_SEASON})
    assert in_season.next_due is not None
    assert in_season.next_due.key == "consultation-24"
    assert [item.key for item in in_season.vaccines_due] == ["influenza-vaccine"]
    assert status_on(on_week(12, 6), conditions={INFLUENZA_SEASON}).vaccines_due == []
    out_of_season = status_on(on_week(20, 0), done=done)
    assert out_of_season.next_due is not None
    assert out_of_season.next_due.key == "consultation-24"
    assert out_of_season.vaccines_due == []


def test_week_41_consultation_follows_40_while_the_card_is_ongoing() -> None:
    done = {item.key for item in default_schedule()} - {"consultation-41"}
    result = status_on(on_week(40, 2), done=done)
    assert result.next_due is not None
    assert result.next_due.key == "consultation-41"
    assert status_on(on_week(42, 0), done=done).overdue[0].key == "consultation-41"


def test_overdue_items_are_listed_in_the_order_their_windows_ended() -> None:
    result = status_on(on_week(30, 0))
    assert [item.key for item in result.overdue] == [
        "first-consultation",
        "early-ultrasound",
        "routine-ultrasound",
        "consultation-24",
        "consultation-28",
    ]
    assert result.next_due is not None
    assert result.next_due.key == "consultation-32"


def test_everything_done_leaves_nothing_due() -> None:
    done = {item.key for item in default_schedule()}
    assert status_on(on_week(30, 0), done=done) == ScheduleStatus(next_due=None, overdue=[], vaccines_due=[])


def test_unknown_done_keys_and_conditions_are_ignored() -> None:
    plain = status_on(on_week(20, 3), done=EARLY_KEYS)
    noisy = status_on(on_week(20, 3), done=EARLY_KEYS | {"no-such-item"}, conditions={"no-such-condition"})
    assert noisy == plain


@pytest.mark.parametrize("status", ["delivered", "miscarriage", "termination", "stillbirth"])
def test_closed_card_has_nothing_due_and_nothing_overdue(status: str) -> None:
    assert status_on(on_week(30, 0), status=status) == ScheduleStatus(next_due=None, overdue=[], vaccines_due=[])


def test_an_edited_schedule_is_used_as_given() -> None:
    extra = ScheduleItem(
        key="consultation-34",
        label_nb="Konsultasjon uke 34",
        label_en="Consultation week 34",
        window_start_day=34 * 7,
        window_end_day=34 * 7 + 6,
    )
    done = {item.key for item in default_schedule()} - {"consultation-36"}
    result = status_on(on_week(33, 0), done=done, schedule=[*default_schedule(), extra])
    assert result.next_due is not None
    assert result.next_due.key == "consultation-34"


def test_schedule_round_trips_through_json() -> None:
    items = default_schedule()
    assert decode_schedule(encode_schedule(items)) == items
    assert msgspec.json.decode(msgspec.json.encode(items), type=list[ScheduleItem]) == items
    assert msgspec.convert(msgspec.to_builtins(items), type=list[ScheduleItem]) == items


def test_schedule_json_uses_camel_case_field_names() -> None:
    first = msgspec.json.decode(encode_schedule(default_schedule()))[0]
    assert first == {
        "key": "first-consultation",
        "labelNb": "Første konsultasjon",
        "labelEn": "First consultation",
        "windowStartDay": 42,
        "windowEndDay": 90,
        "condition": None,
        "kind": "programme",
    }


def test_status_serialises_for_the_api() -> None:
    encoded = msgspec.json.decode(msgspec.json.encode(status_on(on_week(20, 3), done=EARLY_KEYS)))
    assert encoded["nextDue"]["startsOn"] == "2024-08-15"
    assert encoded["overdue"] == []


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ({"windowStartDay": 50, "windowEndDay": 40}, "ends before it starts"),
        ({"windowStartDay": -1}, ">= 0"),
        ({"key": "Not A Key"}, "matching regex"),
        ({"labelNb": ""}, "length"),
        ({"colour": "red"}, "unknown field"),
    ],
)
def test_decode_rejects_an_invalid_item(item: dict[str, object], reason: str) -> None:
    raw = {"key": "x", "labelNb": "x", "labelEn": "x", "windowStartDay": 42, "windowEndDay": 90} | item
    with pytest.raises(msgspec.ValidationError, match=reason):
        decode_schedule(msgspec.json.encode([raw]))


def test_decode_rejects_a_repeated_key() -> None:
    items = default_schedule()
    with pytest.raises(msgspec.ValidationError, match="appears twice"):
        decode_schedule(encode_schedule([*items, items[0]]))
