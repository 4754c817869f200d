"""NEWS2 scores every band of RCP 2017 chart 1 exactly, and decoding refuses implausible vital signs."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.measurements.news2 import (
    NEWS2_SNOMED,
    Consciousness,
    Spo2Scale,
    VitalSigns,
    clinical_response,
    round_temperature,
    score_air_or_oxygen,
    score_consciousness,
    score_news2,
    score_pulse,
    score_respiration_rate,
    score_spo2,
    score_systolic,
    score_temperature,
)

# Property tests write no example database into the shared working tree.
properties = settings(database=None, max_examples=300)


def vitals(**changes: Any) -> VitalSigns:
    """A healthy adult on air scoring 0, with the given fields changed."""
    normal: dict[str, Any] = {
        "respiration_rate": 16,
        "spo2": 98,
        "spo2_scale": 1,
        "on_oxygen": False,
        "systolic": 125,
        "pulse": 72,
        "consciousness": "A",
        "temperature": 37.0,
    }
    return VitalSigns(**(normal | changes))


# --- every band boundary, from both sides -------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "score"),
    [(0, 3), (8, 3), (9, 1), (11, 1), (12, 0), (20, 0), (21, 2), (24, 2), (25, 3), (80, 3)],
)
def test_respiration_rate_bands(rate: int, score: int) -> None:
    assert score_respiration_rate(rate) == score


@pytest.mark.parametrize("on_oxygen", [False, True])
@pytest.mark.parametrize(
    ("spo2", "score"),
    [(50, 3), (91, 3), (92, 2), (93, 2), (94, 1), (95, 1), (96, 0), (100, 0)],
)
def test_spo2_scale_1_bands_do_not_depend_on_oxygen(spo2: int, score: int, on_oxygen: bool) -> None:
    assert score_spo2(spo2, 1, on_oxygen) == score


@pytest.mark.parametrize(
    ("spo2", "score"),
    [(50, 3), (83, 3), (84, 2), (85, 2), (86, 1), (87, 1), (88, 0), (92, 0), (93, 0), (94, 0), (95, 0), (96, 0), (97, 0), (100, 0)],
)  # fmt: skip
def test_spo2_scale_2_on_air_scores_nothing_from_88_up(spo2: int, score: int) -> None:
    assert score_spo2(spo2, 2, False) == score


@pytest.mark.parametrize(
    ("spo2", "score"),
    [(50, 3), (83, 3), (84, 2), (85, 2), (86, 1), (87, 1), (88, 0), (92, 0), (93, 1), (94, 1), (95, 2), (96, 2), (97, 3), (100, 3)],
)  # fmt: skip
def test_spo2_scale_2_on_oxygen_scores_saturation_above_target(spo2: int, score: int) -> None:
    assert score_spo2(spo2, 2, True) == score


def test_93_percent_scores_by_scale_and_oxygen() -> None:
    assert score_spo2(93, 1, False) == 2
    assert score_spo2(93, 1, True) == 2
    assert score_spo2(93, 2, False) == 0
    assert score_spo2(93, 2, True) == 1


def test_oxygen_scores_2_and_air_scores_0() -> None:
    assert score_air_or_oxygen(True) == 2
    assert score_air_or_oxygen(False) == 0


@pytest.mark.parametrize(
    ("systolic", "score"),
    [(40, 3), (90, 3), (91, 2), (100, 2), (101, 1), (110, 1), (111, 0), (219, 0), (220, 3), (300, 3)],
)
def test_systolic_bands(systolic: int, score: int) -> None:
    assert score_systolic(systolic) == score


@pytest.mark.parametrize(
    ("pulse", "score"),
    [(20, 3), (40, 3), (41, 1), (50, 1), (51, 0), (90, 0), (91, 1), (110, 1), (111, 2), (130, 2), (131, 3), (300, 3)],
)
def test_pulse_bands(pulse: int, score: int) -> None:
    assert score_pulse(pulse) == score


@pytest.mark.parametrize(("level", "score"), [("A", 0), ("C", 3), ("V", 3), ("P", 3), ("U", 3)])
def test_alert_scores_0_and_new_confusion_voice_pain_unresponsive_score_3(level: Consciousness, score: int) -> None:
    assert score_consciousness(level) == score


@pytest.mark.parametrize(
    ("temperature", "score"),
    [(25.0, 3), (35.0, 3), (35.1, 1), (36.0, 1), (36.1, 0), (37.5, 0), (38.0, 0), (38.1, 1), (39.0, 1), (39.1, 2), (45.0, 2)],
)  # fmt: skip
def test_temperature_bands(temperature: float, score: int) -> None:
    assert score_temperature(temperature) == score


@pytest.mark.parametrize(
    ("temperature", "rounded", "score"),
    [
        (35.04, "35.0", 3),
        (35.05, "35.1", 1),
        (36.04, "36.0", 1),
        (36.05, "36.1", 0),
        (38.04, "38.0", 0),
        (38.049999, "38.0", 0),
        (38.05, "38.1", 1),
        (39.05, "39.1", 2),
        (37, "37.0", 0),
    ],
)
def test_temperature_is_rounded_half_up_to_one_decimal_before_scoring(
    temperature: float, rounded: str, score: int
) -> None:
    assert round_temperature(temperature) == Decimal(rounded)
    assert score_temperature(temperature) == score


@pytest.mark.parametrize("temperature", [math.nan, math.inf, -math.inf])
def test_temperature_that_is_not_a_number_is_refused(temperature: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        score_temperature(temperature)


# --- risk bands and clinical response --------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "red", "risk", "monitoring", "response"),
    [
        (0, False, "low", "12-hourly", "routine"),
        (1, False, "low", "4-6-hourly", "registered nurse assesses"),
        (4, False, "low", "4-6-hourly", "registered nurse assesses"),
        (3, True, "low-medium", "hourly", "nurse informs the medical team"),
        (4, True, "low-medium", "hourly", "nurse informs the medical team"),
        (5, False, "medium", "hourly", "urgent review within 1 hour"),
        (5, True, "medium", "hourly", "urgent review within 1 hour"),
        (6, True, "medium", "hourly", "urgent review within 1 hour"),
        (7, False, "high", "continuous", "emergency assessment within 30 minutes, consider HDU/ICU"),
        (7, True, "high", "continuous", "emergency assessment within 30 minutes, consider HDU/ICU"),
        (20, True, "high", "continuous", "emergency assessment within 30 minutes, consider HDU/ICU"),
    ],
)
def test_clinical_response_table(total: int, red: bool, risk: str, monitoring: str, response: str) -> None:
    answer = clinical_response(total, red)
    assert (answer.risk, answer.monitoring, answer.response) == (risk, monitoring, response)


def test_normal_vitals_score_0_low_risk_routine() -> None:
    result = score_news2(vitals())
    assert (result.total, result.risk, result.monitoring, result.response) == (0, "low", "12-hourly", "routine")
    assert not result.single_parameter_red


def test_new_confusion_alone_is_low_medium_with_hourly_monitoring() -> None:
    result = score_news2(vitals(consciousness="C"))
    assert result.total == 3
    assert result.single_parameter_red
    assert (result.risk, result.monitoring) == ("low-medium", "hourly")


def test_a_3_with_total_4_is_still_low_medium() -> None:
    result = score_news2(vitals(respiration_rate=25, pulse=95))
    assert (result.total, result.risk) == (4, "low-medium")


def test_total_of_5_with_a_3_is_medium_not_low_medium() -> None:
    result = score_news2(vitals(systolic=90, on_oxygen=True))
    assert result.total == 5
    assert result.single_parameter_red
    assert result.risk == "medium"
    assert result.response == "urgent review within 1 hour"


def test_total_of_4_without_a_3_is_low() -> None:
    result = score_news2(vitals(on_oxygen=True, respiration_rate=22))
    assert (result.total, result.risk, result.single_parameter_red) == (4, "low", False)


# --- worked examples -----------------------------------------------------------------------------


def test_worked_example_septic_patient_on_air_is_high_risk() -> None:
    result = score_news2(vitals(respiration_rate=22, spo2=95, systolic=105, pulse=115, temperature=38.5))
    assert msgspec.structs.asdict(result.subscores) == {
        "respiration_rate": 2,
        "spo2": 1,
        "on_oxygen": 0,
        "systolic": 1,
        "pulse": 2,
        "consciousness": 0,
        "temperature": 1,
    }
    assert (result.total, result.risk, result.monitoring) == (7, "high", "continuous")
    assert not result.single_parameter_red


def test_worked_example_copd_patient_on_scale_2_with_oxygen_at_93_percent() -> None:
    result = score_news2(vitals(spo2=93, spo2_scale=2, on_oxygen=True, respiration_rate=18, pulse=85, temperature=37.2))
    assert (result.subscores.spo2, result.subscores.on_oxygen) == (1, 2)
    assert (result.total, result.risk) == (3, "low")
    # The same saturation on scale 1 would be 2 + 2 for oxygen: the scales are never mixed.
    assert score_news2(vitals(spo2=93, on_oxygen=True)).total == 4


def test_worked_example_every_parameter_at_its_worst_scores_20() -> None:
    result = score_news2(
        vitals(
            respiration_rate=25, spo2=91, on_oxygen=True, systolic=90, pulse=131, consciousness="U", temperature=35.0
        )
    )
    assert result.total == 20
    assert result.risk == "high"


def test_answer_encodes_with_the_contract_field_names() -> None:
    answer = json.loads(msgspec.json.encode(score_news2(vitals(on_oxygen=True))))
    assert set(answer) >= {"total", "subscores", "risk", "monitoring", "response"}
    assert set(answer["subscores"]) == {
        "respirationRate", "spo2", "onOxygen", "systolic", "pulse", "consciousness", "temperature",
    }  # fmt: skip
    assert answer["subscores"]["onOxygen"] == 2


def test_news2_total_is_coded_in_snomed_ct() -> None:
    assert NEWS2_SNOMED == "1104051000000101"


# --- properties --------------------------------------------------------------------------------

any_vitals = st.builds(
    VitalSigns,
    respiration_rate=st.integers(0, 80),
    spo2=st.integers(50, 100),
    spo2_scale=st.sampled_from([1, 2]),
    on_oxygen=st.booleans(),
    systolic=st.integers(40, 300),
    pulse=st.integers(20, 300),
    consciousness=st.sampled_from(["A", "C", "V", "P", "U"]),
    temperature=st.floats(25.0, 45.0, allow_nan=False),
)


@properties
@given(any_vitals)
def test_total_is_the_sum_of_subscores_and_within_0_to_20(signs: VitalSigns) -> None:
    result = score_news2(signs)
    parts = msgspec.structs.astuple(result.subscores)
    assert result.total == sum(parts)
    assert 0 <= result.total <= 20
    assert all(0 <= part <= 3 for part in parts)
    assert result.single_parameter_red == (3 in parts)
    assert result.risk == clinical_response(result.total, result.single_parameter_red).risk


def _scale_scorer(scale: Spo2Scale, on_oxygen: bool) -> Callable[[int], int]:
    return lambda spo2: score_spo2(spo2, scale, on_oxygen)


# (scorer, lowest plausible, normal band low, normal band high, highest plausible)
INTEGER_PARAMETERS: dict[str, tuple[Callable[[int], int], int, int, int, int]] = {
    "respiration rate": (score_respiration_rate, 0, 12, 20, 80),
    "spo2 scale 1 on air": (_scale_scorer(1, False), 50, 96, 100, 100),
    "spo2 scale 1 on oxygen": (_scale_scorer(1, True), 50, 96, 100, 100),
    "spo2 scale 2 on air": (_scale_scorer(2, False), 50, 88, 100, 100),
    "spo2 scale 2 on oxygen": (_scale_scorer(2, True), 50, 88, 92, 100),
    "systolic": (score_systolic, 40, 111, 219, 300),
    "pulse": (score_pulse, 20, 51, 90, 300),
}


@pytest.mark.parametrize("parameter", INTEGER_PARAMETERS)
@properties
@given(data=st.data())
def test_moving_away_from_the_normal_band_never_lowers_the_subscore(parameter: str, data: st.DataObject) -> None:
    scorer, lowest, normal_low, normal_high, highest = INTEGER_PARAMETERS[parameter]
    assert scorer(normal_low) == scorer(normal_high) == 0
    above = data.draw(st.lists(st.integers(normal_high, highest), min_size=2, max_size=2).map(sorted))
    assert scorer(above[1]) >= scorer(above[0])
    below = data.draw(st.lists(st.integers(lowest, normal_low), min_size=2, max_size=2).map(sorted))
    assert scorer(below[0]) >= scorer(below[1])


@properties
@given(st.lists(st.floats(38.0, 45.0), min_size=2, max_size=2).map(sorted))
def test_hotter_above_normal_never_lowers_the_temperature_subscore(pair: list[float]) -> None:
    assert score_temperature(pair[1]) >= score_temperature(pair[0])


@properties
@given(st.lists(st.floats(25.0, 36.1), min_size=2, max_size=2).map(sorted))
def test_colder_below_normal_never_lowers_the_temperature_subscore(pair: list[float]) -> None:
    assert score_temperature(pair[0]) >= score_temperature(pair[1])


def test_leaving_air_for_oxygen_or_alert_for_confusion_never_lowers_the_subscore() -> None:
    assert score_air_or_oxygen(True) >= score_air_or_oxygen(False)
    assert all(score_consciousness(level) >= score_consciousness("A") for level in ("C", "V", "P", "U"))


# --- decoding refuses implausible input ------------------------------------------------------------

VALID_BODY: dict[str, Any] = {
    "respirationRate": 16,
    "spo2": 98,
    "spo2Scale": 1,
    "onOxygen": False,
    "systolic": 125,
    "pulse": 72,
    "consciousness": "A",
    "temperature": 37.0,
}


def decode(**changes: Any) -> VitalSigns:
    return msgspec.json.decode(json.dumps(VALID_BODY | changes), type=VitalSigns)


def test_a_camel_case_body_decodes_and_scale_defaults_to_1() -> None:
    body = {key: value for key, value in VALID_BODY.items() if key != "spo2Scale"}
    signs = msgspec.json.decode(json.dumps(body), type=VitalSigns)
    assert signs == vitals()
    assert signs.spo2_scale == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("respirationRate", 0), ("respirationRate", 80), ("spo2", 50), ("spo2", 100), ("systolic", 40),
        ("systolic", 300), ("pulse", 20), ("pulse", 300), ("temperature", 25.0), ("temperature", 45.0),
        ("temperature", 37), ("spo2Scale", 2),
    ],
)  # fmt: skip
def test_plausible_extremes_decode(field: str, value: Any) -> None:
    decode(**{field: value})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("respirationRate", -1), ("respirationRate", 81), ("spo2", 49), ("spo2", 101), ("systolic", 39),
        ("systolic", 301), ("pulse", 19), ("pulse", 301), ("temperature", 24.9), ("temperature", 45.1),
    ],
)  # fmt: skip
def test_implausible_values_are_rejected_naming_the_field(field: str, value: Any) -> None:
    with pytest.raises(msgspec.ValidationError, match=rf"\$\.{field}"):
        decode(**{field: value})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("respirationRate", "16"), ("temperature", "37.0"), ("onOxygen", "false"), ("onOxygen", 0),
        ("spo2", 95.5), ("pulse", True), ("spo2Scale", 3), ("spo2Scale", "1"), ("consciousness", "a"),
        ("consciousness", "X"), ("systolic", None),
    ],
)  # fmt: skip
def test_wrong_types_and_unknown_choices_are_rejected(field: str, value: Any) -> None:
    with pytest.raises(msgspec.ValidationError, match=rf"\$\.{field}"):
        decode(**{field: value})


@pytest.mark.parametrize("temperature", [math.nan, math.inf, -math.inf])
def test_nan_and_infinite_temperature_are_rejected(temperature: float) -> None:
    with pytest.raises(msgspec.ValidationError, match=r"\$\.temperature"):
        msgspec.convert(VALID_BODY | {"temperature": temperature}, VitalSigns)


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1e400"])
def test_json_nan_infinity_and_overflowing_numbers_are_rejected(literal: bytes) -> None:
    body = json.dumps(VALID_BODY | {"temperature": "HERE"}).encode().replace(b'"HERE"', literal)
    assert literal in body
    with pytest.raises(msgspec.DecodeError, match=r"malformed|\$\.temperature"):
        msgspec.json.decode(body, type=VitalSigns)


def test_unknown_and_missing_fields_are_rejected() -> None:
    with pytest.raises(msgspec.ValidationError, match="unknown field"):
        decode(heartRate=72)
    body = {key: value for key, value in VALID_BODY.items() if key != "pulse"}
    with pytest.raises(msgspec.ValidationError, match="pulse"):
        msgspec.json.decode(json.dumps(body), type=VitalSigns)
