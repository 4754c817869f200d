"""Every home measurement is checked against its catalogue entry, and a rejection says what is wrong."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone

import msgspec
import pytest

from backend.measurements.codes import (
    BLOOD_PRESSURE_PANEL,
    DIASTOLIC,
    MEASUREMENTS,
    SYSTOLIC,
    PanelMeasurement,
    ReadingComponent,
    SingleMeasurement,
    validate_reading,
)

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
EARLIER = NOW - timedelta(hours=2)


def blood_pressure(systolic: float | None = 128, diastolic: float | None = 82) -> list[ReadingComponent]:
    return [
        ReadingComponent(code=SYSTOLIC, value=systolic, unit="mm[Hg]"),
        ReadingComponent(code=DIASTOLIC, value=diastolic, unit="mm[Hg]"),
    ]


def check(
    code: str,
    value: float | None = None,
    unit: str | None = None,
    components: Sequence[ReadingComponent] | None = None,
    effective_at: datetime = EARLIER,
) -> str | None:
    return validate_reading(code, value, unit, components, effective_at, NOW)


# --- the catalogue -------------------------------------------------------------------------------


def test_catalogue_holds_the_codes_of_clinical_md() -> None:
    assert set(MEASUREMENTS) == {
        "85354-9", "8480-6", "8462-4", "8867-4", "2708-6", "59408-5", "8310-5", "29463-7", "8302-2", "9279-1", "15074-8",
    }  # fmt: skip
    panel = MEASUREMENTS[BLOOD_PRESSURE_PANEL]
    assert isinstance(panel, PanelMeasurement)
    assert [component.code for component in panel.components] == [SYSTOLIC, DIASTOLIC]


@pytest.mark.parametrize(
    ("code", "unit", "minimum", "maximum"),
    [
        ("8480-6", "mm[Hg]", 40, 300),
        ("8462-4", "mm[Hg]", 20, 200),
        ("8867-4", "/min", 20, 300),
        ("2708-6", "%", 50, 100),
        ("59408-5", "%", 50, 100),
        ("8310-5", "Cel", 30, 45),
        ("29463-7", "kg", 1, 400),
        ("8302-2", "cm", 30, 250),
        ("9279-1", "/min", 0, 80),
        ("15074-8", "mmol/L", 0.5, 50),
    ],
)
def test_catalogue_units_and_ranges(code: str, unit: str, minimum: float, maximum: float) -> None:
    definition = MEASUREMENTS[code]
    assert isinstance(definition, SingleMeasurement)
    assert (definition.unit, definition.minimum, definition.maximum) == (unit, minimum, maximum)


VALUED = [(code, d) for code, d in MEASUREMENTS.items() if isinstance(d, SingleMeasurement) and d.panel is None]


# --- valid readings --------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "definition"), VALUED)
def test_valid_readings_at_both_ends_and_inside_the_range(code: str, definition: SingleMeasurement) -> None:
    middle = (definition.minimum + definition.maximum) / 2
    for value in (definition.minimum, middle, definition.maximum, int(middle)):
        assert check(code, value, definition.unit) is None


def test_valid_blood_pressure_panel() -> None:
    assert check(BLOOD_PRESSURE_PANEL, components=blood_pressure()) is None
    assert check(BLOOD_PRESSURE_PANEL, components=tuple(reversed(blood_pressure()))) is None
    assert check(BLOOD_PRESSURE_PANEL, components=blood_pressure(300, 200)) is None
    assert check(BLOOD_PRESSURE_PANEL, components=blood_pressure(41, 20)) is None


def test_components_decode_from_the_upload_shape() -> None:
    components = msgspec.json.decode(
        b'[{"code":"8480-6","value":141,"unit":"mm[Hg]"},{"code":"8462-4","value":92.5,"unit":"mm[Hg]"}]',
        type=list[ReadingComponent],
    )
    assert check(BLOOD_PRESSURE_PANEL, components=components) is None


def test_time_up_to_5_minutes_ahead_and_any_offset_is_accepted() -> None:
    assert check("8867-4", 60, "/min", effective_at=NOW + timedelta(minutes=5)) is None
    plus_two_hours = timezone(timedelta(hours=2))
    assert check("8867-4", 60, "/min", effective_at=NOW.astimezone(plus_two_hours)) is None


# --- rejections, each naming its problem -------------------------------------------------------------


def test_unknown_code_is_rejected() -> None:
    reason = check("88330-6", 3, "{score}")
    assert reason == "unknown measurement code '88330-6'"


def test_a_long_unknown_code_is_shortened_in_the_reason() -> None:
    reason = check("x" * 1000, 3, "%")
    assert reason is not None
    assert len(reason) < 100


@pytest.mark.parametrize(
    ("code", "unit"),
    [("8867-4", "bpm"), ("8310-5", "°C"), ("8310-5", "cel"), ("15074-8", "mmol/l"), ("15074-8", "mg/dL"), ("29463-7", "[lb_av]"), ("2708-6", "")],
)  # fmt: skip
def test_unit_that_does_not_belong_to_the_code_is_rejected(code: str, unit: str) -> None:
    definition = MEASUREMENTS[code]
    assert isinstance(definition, SingleMeasurement)
    reason = check(code, definition.minimum, unit)
    assert reason is not None
    assert f"unit {unit!r} does not belong to" in reason
    assert repr(definition.unit) in reason


def test_missing_unit_is_rejected() -> None:
    assert check("8867-4", 60, None) == "unit missing does not belong to heart rate (8867-4); expected '/min'"


def test_missing_value_is_rejected() -> None:
    assert check("29463-7", None, "kg") == "value of body weight (29463-7) is missing"


def test_value_that_is_not_a_number_is_rejected() -> None:
    assert check("29463-7", True, "kg") == "value of body weight (29463-7) must be a number"


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_nan_and_infinite_values_are_rejected(value: float) -> None:
    assert check("8310-5", value, "Cel") == "value of body temperature (8310-5) must be a finite number"


@pytest.mark.parametrize(("code", "definition"), VALUED)
def test_values_just_outside_the_range_are_rejected_saying_the_range(code: str, definition: SingleMeasurement) -> None:
    for value in (definition.minimum - 0.1, definition.maximum + 0.1):
        reason = check(code, value, definition.unit)
        assert reason is not None
        assert "outside the plausible range" in reason
        assert f"{definition.minimum:g} to {definition.maximum:g} {definition.unit}" in reason


def test_out_of_range_reason_reads_well() -> None:
    assert check("8310-5", 46.5, "Cel") == (
        "value 46.5 Cel of body temperature (8310-5) is outside the plausible range 30 to 45 Cel"
    )


def test_components_on_a_single_value_code_are_rejected() -> None:
    reason = check("8867-4", 60, "/min", components=[ReadingComponent(code="8867-4", value=60, unit="/min")])
    assert reason == "heart rate (8867-4) carries a value, not components"


def test_empty_components_on_a_single_value_code_are_fine() -> None:
    assert check("8867-4", 60, "/min", components=[]) is None


def test_blood_pressure_with_a_value_is_rejected() -> None:
    reason = check(BLOOD_PRESSURE_PANEL, 120, "mm[Hg]", components=blood_pressure())
    assert reason == "blood pressure (85354-9) carries its components, not a value"


def test_blood_pressure_with_a_unit_of_its_own_is_rejected() -> None:
    reason = check(BLOOD_PRESSURE_PANEL, None, "mm[Hg]", components=blood_pressure())
    assert reason is not None
    assert "not a unit of its own" in reason


@pytest.mark.parametrize("code", [SYSTOLIC, DIASTOLIC])
def test_systolic_or_diastolic_alone_is_rejected_in_favour_of_the_panel(code: str) -> None:
    reason = check(code, 100, "mm[Hg]")
    assert reason is not None
    assert reason.endswith("is recorded only as a component of blood pressure (85354-9)")


@pytest.mark.parametrize("components", [None, []])
def test_blood_pressure_without_components_is_rejected(components: list[ReadingComponent] | None) -> None:
    reason = check(BLOOD_PRESSURE_PANEL, components=components)
    assert reason == "component systolic blood pressure (8480-6) is missing from blood pressure (85354-9)"


def test_missing_diastolic_is_rejected() -> None:
    reason = check(BLOOD_PRESSURE_PANEL, components=blood_pressure()[:1])
    assert reason == "component diastolic blood pressure (8462-4) is missing from blood pressure (85354-9)"


def test_duplicate_component_is_rejected() -> None:
    reason = check(BLOOD_PRESSURE_PANEL, components=[*blood_pressure(), blood_pressure()[0]])
    assert reason == "component systolic blood pressure (8480-6) appears more than once"


def test_component_of_another_kind_is_rejected() -> None:
    reason = check(
        BLOOD_PRESSURE_PANEL, components=[*blood_pressure(), ReadingComponent(code="8867-4", value=60, unit="/min")]
    )
    assert reason == "component '8867-4' does not belong to blood pressure (85354-9)"


def test_component_without_a_value_is_rejected() -> None:
    reason = check(BLOOD_PRESSURE_PANEL, components=blood_pressure(diastolic=None))
    assert reason == "value of diastolic blood pressure (8462-4) is missing"


def test_component_with_a_wrong_unit_is_rejected() -> None:
    components = [blood_pressure()[0], ReadingComponent(code=DIASTOLIC, value=80, unit="mmHg")]
    reason = check(BLOOD_PRESSURE_PANEL, components=components)
    assert reason == "unit 'mmHg' does not belong to diastolic blood pressure (8462-4); expected 'mm[Hg]'"


@pytest.mark.parametrize(
    ("systolic", "diastolic", "words"),
    [
        (
            310,
            80,
            "value 310 mm[Hg] of systolic blood pressure (8480-6) is outside the plausible range 40 to 300 mm[Hg]",
        ),
        (
            120,
            19,
            "value 19 mm[Hg] of diastolic blood pressure (8462-4) is outside the plausible range 20 to 200 mm[Hg]",
        ),
        (120, math.nan, "value of diastolic blood pressure (8462-4) must be a finite number"),
    ],
)
def test_component_values_are_checked_like_single_values(systolic: float, diastolic: float, words: str) -> None:
    assert check(BLOOD_PRESSURE_PANEL, components=blood_pressure(systolic, diastolic)) == words


@pytest.mark.parametrize(("systolic", "diastolic"), [(80, 90), (90, 90)])
def test_systolic_must_be_greater_than_diastolic(systolic: float, diastolic: float) -> None:
    reason = check(BLOOD_PRESSURE_PANEL, components=blood_pressure(systolic, diastolic))
    assert reason == f"systolic ({systolic} mm[Hg]) must be greater than diastolic ({diastolic} mm[Hg])"


def test_time_more_than_5_minutes_in_the_future_is_rejected() -> None:
    later = NOW + timedelta(minutes=5, seconds=1)
    assert check("8867-4", 60, "/min", effective_at=later) == "effectiveAt is more than 5 minutes in the future"


def test_future_is_judged_across_offsets() -> None:
    # 11:40 at +02:00 is 09:40 UTC: ten minutes after NOW.
    plus_two = datetime(2025, 3, 14, 11, 40, tzinfo=timezone(timedelta(hours=2)))
    assert check("8867-4", 60, "/min", effective_at=plus_two) == "effectiveAt is more than 5 minutes in the future"


def test_naive_time_is_rejected() -> None:
    naive = datetime(2025, 3, 14, 9, 0)
    assert check("8867-4", 60, "/min", effective_at=naive) == "effectiveAt must carry a UTC offset"


def test_a_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        validate_reading("8867-4", 60, "/min", None, EARLIER, datetime(2025, 3, 14, 9, 30))
