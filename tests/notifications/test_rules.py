"""Notification rules: which events notify, collapse ids, and when quiet hours end on Oslo's wall clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend.core.event_types import EventType
from backend.notifications.rules import (
    LAB_RESULT,
    LOCALES,
    RULES,
    QuietHours,
    by_kind,
    collapse_id,
    render,
    rule_for,
)
from backend.settings import SettingsError

NIGHT = QuietHours.parse("22:00-07:00")


def oslo_winter(day: int, hour: int, minute: int = 0) -> datetime:
    """January in Oslo is UTC+1."""
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC) - timedelta(hours=1)


def test_stored_types_are_matched_through_the_vocabulary_and_unknown_ones_notify_nobody() -> None:
    # The worker reads types back from the event table as strings; they match the same members.
    assert rule_for("lab-result.released") is rule_for(EventType.LAB_RESULT_RELEASED) is LAB_RESULT
    # The names the rules once listened for, which no domain ever appended, and other non-members.
    for unknown in ("card.created", "card.updated", "consultation.added", "ultrasound.added", "card", ""):
        assert rule_for(unknown) is None


def test_an_event_she_may_not_see_never_notifies() -> None:
    """A new version of a result she has not been told of must not announce it before its release (CLINICAL.md)."""
    assert rule_for(EventType.LAB_RESULT_CORRECTED) is LAB_RESULT
    assert rule_for(EventType.LAB_RESULT_CORRECTED, citizen_visible=False) is None


def test_only_result_notifications_and_reminders_wait_for_quiet_hours() -> None:
    # A reminder is days ahead of what it reminds of: it can wait for the morning.
    waiting = {rule.kind for rule in RULES.values() if rule.quiet_hours}
    assert waiting == {"lab-result", "reminder"}


def test_every_rule_has_a_text_in_every_locale_and_falls_back_to_bokmal() -> None:
    assert LOCALES == ("nb", "nn", "en", "se")
    for rule in [*RULES.values(), *by_kind().values()]:
        for locale in LOCALES:
            assert rule.texts[locale].strip()
        # Sámi is its own text, not Bokmål again; an unknown locale falls back to Bokmål.
        assert rule.text("se") != rule.texts["nb"]
        assert rule.text("de") == rule.texts["nb"]


def test_result_texts_say_only_that_a_result_is_ready() -> None:
    assert [LAB_RESULT.text(locale) for locale in LOCALES] == [
        "Du har fått et nytt prøvesvar",
        "Eit nytt prøvesvar er klart",
        "A new test result is ready",
        "Don leat ožžon ođđa iskkusboađu",
    ]


def test_collapse_id_is_stable_per_resource_short_and_opaque() -> None:
    resource = "7d2c1c5e-0b7a-4d57-9a57-3d0f3f1f4a11"
    first = collapse_id(LAB_RESULT, "lab-report", resource)

    assert first == collapse_id(LAB_RESULT, "lab-report", resource)
    assert first != collapse_id(LAB_RESULT, "lab-report", "another")
    assert first != collapse_id(LAB_RESULT, "ultrasound", resource)
    assert len(first.encode()) <= 64
    assert resource not in first


def test_rendered_payload_holds_a_fixed_text_and_the_opaque_resource_only() -> None:
    payload = render(LAB_RESULT, "en", "r-1")

    assert payload == {
        "aps": {
            "alert": {"title": "Helsekort", "body": "A new test result is ready"},
            "sound": "default",
            "thread-id": "lab-result",
        },
        "kind": "lab-result",
        "resourceId": "r-1",
    }


# --- quiet hours ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "end"),
    [
        # In the evening: ends tomorrow morning at 07:00 Oslo (06:00 UTC in winter).
        (oslo_winter(15, 22, 0), datetime(2026, 1, 16, 6, 0, tzinfo=UTC)),
        (oslo_winter(15, 23, 59), datetime(2026, 1, 16, 6, 0, tzinfo=UTC)),
        # After midnight: ends this morning.
        (oslo_winter(16, 0, 0), datetime(2026, 1, 16, 6, 0, tzinfo=UTC)),
        (oslo_winter(16, 6, 59), datetime(2026, 1, 16, 6, 0, tzinfo=UTC)),
        # Outside.
        (oslo_winter(16, 7, 0), None),
        (oslo_winter(16, 12, 0), None),
        (oslo_winter(16, 21, 59), None),
    ],
)
def test_quiet_hours_across_midnight(moment: datetime, end: datetime | None) -> None:
    assert NIGHT is not None
    assert NIGHT.ends_after(moment) == end


def test_a_night_that_springs_forward_ends_at_seven_summer_time() -> None:
    # 28 March 2026 23:00 CET; clocks go 02:00 → 03:00 on the 29th; 07:00 CEST is 05:00 UTC.
    assert NIGHT is not None
    assert NIGHT.ends_after(datetime(2026, 3, 28, 22, 0, tzinfo=UTC)) == datetime(2026, 3, 29, 5, 0, tzinfo=UTC)
    # Already summer time after the change: 03:30 CEST is 01:30 UTC.
    assert NIGHT.ends_after(datetime(2026, 3, 29, 1, 30, tzinfo=UTC)) == datetime(2026, 3, 29, 5, 0, tzinfo=UTC)


def test_a_night_that_falls_back_ends_at_seven_winter_time() -> None:
    # 24 October 2026 23:00 CEST (21:00 UTC); clocks go 03:00 → 02:00 on the 25th; 07:00 CET is 06:00 UTC.
    assert NIGHT is not None
    assert NIGHT.ends_after(datetime(2026, 10, 24, 21, 0, tzinfo=UTC)) == datetime(2026, 10, 25, 6, 0, tzinfo=UTC)
    # Both 02:30s of the repeated hour are inside and end at the same instant.
    for first_or_second in (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 25, 1, 30, tzinfo=UTC)):
        assert NIGHT.ends_after(first_or_second) == datetime(2026, 10, 25, 6, 0, tzinfo=UTC)
    # 06:30 CET on the 25th is 05:30 UTC: still inside; 06:00 UTC is 07:00 CET, outside.
    assert NIGHT.ends_after(datetime(2026, 10, 25, 5, 30, tzinfo=UTC)) == datetime(2026, 10, 25, 6, 0, tzinfo=UTC)
    assert NIGHT.ends_after(datetime(2026, 10, 25, 6, 0, tzinfo=UTC)) is None


def test_summer_quiet_hours_are_two_hours_off_utc() -> None:
    assert NIGHT is not None
    # 1 July 23:30 CEST is 21:30 UTC; ends 2 July 07:00 CEST = 05:00 UTC.
    assert NIGHT.ends_after(datetime(2026, 7, 1, 21, 30, tzinfo=UTC)) == datetime(2026, 7, 2, 5, 0, tzinfo=UTC)
    # 21:30 CEST (19:30 UTC) is outside, though 21:30 UTC would be 23:30 local.
    assert NIGHT.ends_after(datetime(2026, 7, 1, 19, 30, tzinfo=UTC)) is None


def test_an_end_inside_the_spring_gap_moves_forward_by_the_gap() -> None:
    early = QuietHours.parse("01:00-02:30")
    assert early is not None
    # 01:30 CET on 29 March = 00:30 UTC; 02:30 does not exist that night and becomes 03:30 CEST = 01:30 UTC.
    assert early.ends_after(datetime(2026, 3, 29, 0, 30, tzinfo=UTC)) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_a_daytime_window_does_not_cross_midnight() -> None:
    lunch = QuietHours.parse("12:00-13:30")
    assert lunch is not None
    assert lunch.ends_after(oslo_winter(16, 12, 15)) == datetime(2026, 1, 16, 12, 30, tzinfo=UTC)
    assert lunch.ends_after(oslo_winter(16, 13, 30)) is None
    assert lunch.ends_after(oslo_winter(16, 23, 0)) is None


def test_empty_quiet_hours_mean_none_and_nonsense_is_a_configuration_error() -> None:
    assert QuietHours.parse("") is None
    assert QuietHours.parse("  ") is None
    for bad in ("22-07", "24:00-07:00", "22:00-07:60", "22:00", "07:00-07:00", "nightly"):
        with pytest.raises(SettingsError, match="HELSEKORT_QUIET_HOURS"):
            QuietHours.parse(bad)


def test_quiet_hours_refuse_a_naive_time() -> None:
    assert NIGHT is not None
    with pytest.raises(ValueError, match="aware"):
        NIGHT.ends_after(datetime(2026, 1, 1, 23, 0))
