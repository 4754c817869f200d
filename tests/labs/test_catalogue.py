"""The catalogue decides which units and value types a known LOINC test takes, and a report is checked against it."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.labs.catalogue import (
    CATALOGUE,
    LOINC_CODE,
    loinc_check_digit,
    validate_observation,
    validate_report,
)
from backend.labs.schemas import (
    LabReportIn,
    ObservationIn,
    Panel,
    PerformingLab,
    ReferenceRange,
    build_report_out,
    derive_flag,
)

SPECIMEN_AT = datetime(2024, 3, 1, 7, 15, tzinfo=UTC)


def hb(**fields: Any) -> ObservationIn:
    values: dict[str, Any] = {
        "code": "718-7",
        "system": "loinc",
        "display": "Hemoglobin",
        "value_quantity": 12.9,
        "unit": "g/dL",
        "reference_range": ReferenceRange(low=11.7, high=15.3),
    }
    return ObservationIn(**(values | fields))


def hbsag(**fields: Any) -> ObservationIn:
    values: dict[str, Any] = {
        "code": "5196-1",
        "system": "loinc",
        "display": "HBsAg",
        "value_code": "LA6577-6",
        "value_display": "Negativ",
    }
    return ObservationIn(**(values | fields))


def lab_report(*observations: ObservationIn, **fields: Any) -> LabReportIn:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "category": "clinical-chemistry",
        "status": "final",
        "specimen_at": SPECIMEN_AT,
        "issued_at": SPECIMEN_AT + timedelta(hours=5),
        "performing_lab": PerformingLab(name="Fürst", organisation="974749025"),
        "observations": list(observations) or [hb()],
    }
    return LabReportIn(**(values | fields))


def test_every_catalogue_code_carries_a_valid_loinc_check_digit() -> None:
    for code in CATALOGUE:
        match = LOINC_CODE.match(code)
        assert match is not None, code
        assert loinc_check_digit(match[1]) == int(match[2]), code


def test_quantity_tests_name_their_units_and_coded_tests_none() -> None:
    for test in CATALOGUE.values():
        assert bool(test.units) == (test.value_field == "valueQuantity"), test.code


@pytest.mark.parametrize(
    "observation",
    [
        hb(),
        hbsag(),
        hb(code="3016-3", display="TSH", value_quantity=2.1, unit="mIU/L", reference_range=None),
        hb(code="3016-3", display="TSH", value_quantity=2.1, unit="m[IU]/L", reference_range=None),
        hb(code="14749-6", display="Glukose", value_quantity=5.4, unit="mmol/L"),
        hb(code="1988-5", display="CRP", value_quantity=5, value_comparator="<", unit="mg/L"),
        hb(reference_range=ReferenceRange(text="11,7-15,3")),
        hb(reference_range=ReferenceRange(low=12.0, high=12.0)),
        # A LOINC code outside the small catalogue is taken as the lab sent it.
        hb(code="2093-3", display="Kolesterol", value_quantity=5.2, unit="mmol/L"),
        # The lab's own code takes any unit and any value type.
        hb(code="S-JERN", system="local", display="Jern", value_quantity=18, unit="umol/L"),
        hb(
            code="U-DYRK",
            system="local",
            display="Urindyrkning",
            value_quantity=None,
            unit=None,
            value_string="Ingen vekst",
            reference_range=None,
        ),
    ],
    ids=lambda observation: f"{observation.code}-{observation.unit}",
)
def test_acceptable_observation_has_no_reason(observation: ObservationIn) -> None:
    assert validate_observation(observation) is None


@pytest.mark.parametrize(
    ("observation", "reason"),
    [
        (
            hb(unit="g/L"),
            "unit: 'g/L' is not a unit of LOINC 718-7 (Hemoglobin [Mass/volume] in Blood); expected g/dL",
        ),
        (hb(unit=None), "unit: a valueQuantity needs its UCUM unit"),
        (hb(code="U-X", system="local", unit=None), "unit: a valueQuantity needs its UCUM unit"),
        (
            hb(code="2345-7", display="Glukose", value_quantity=5.4, unit="mmol/L"),
            "unit: 'mmol/L' is not a unit of LOINC 2345-7 (Glucose [Mass/volume] in Serum or Plasma); expected "
            "mg/dL; LOINC 14749-6 (Glucose [Moles/volume] in Serum or Plasma) is reported in mmol/L",
        ),
        (
            hb(code="2160-0", display="Kreatinin", value_quantity=80, unit="umol/L", reference_range=None),
            "unit: 'umol/L' is not a unit of LOINC 2160-0 (Creatinine [Mass/volume] in Serum or Plasma); expected "
            "mg/dL; LOINC 14682-9 (Creatinine [Moles/volume] in Serum or Plasma) is reported in umol/L",
        ),
        (
            hb(value_quantity=None, unit=None, value_string="12,9", reference_range=None),
            "valueString: LOINC 718-7 (Hemoglobin [Mass/volume] in Blood) takes a valueQuantity",
        ),
        (
            hbsag(value_code=None, value_display=None, value_quantity=0.1, unit="[IU]/mL"),
            "valueQuantity: LOINC 5196-1 (Hepatitis B virus surface Ag [Presence] in Serum or Plasma by Immunoassay) "
            "takes a valueCode",
        ),
        (hb(value_quantity=None), "valueQuantity: no value; give exactly one of"),
        (hb(value_string="12,9"), "valueString: more than one value (valueQuantity, valueString)"),
        (hb(value_quantity=math.nan), "valueQuantity: must be a finite number"),
        (hb(value_quantity=math.inf), "valueQuantity: must be a finite number"),
        (hb(reference_range=ReferenceRange(low=-math.inf)), "referenceRange.low: must be a finite number"),
        (hb(reference_range=ReferenceRange(high=math.nan)), "referenceRange.high: must be a finite number"),
        (
            hb(reference_range=ReferenceRange(low=15.3, high=11.7)),
            "referenceRange.low: 15.3 is above referenceRange.high 11.7",
        ),
        (hb(reference_range=ReferenceRange()), "referenceRange: empty"),
        (hbsag(reference_range=ReferenceRange(high=1.0)), "referenceRange: a valueCode can only have a text range"),
        (hbsag(unit="g/L"), "unit: a valueCode has no unit"),
        (hbsag(value_comparator="<"), "valueComparator: only a valueQuantity can have a comparator"),
        (hb(value_display="Tolv"), "valueDisplay: only a valueCode has a display"),
        (hb(code="718"), "code: '718' is not a LOINC code"),
        (hb(code="718-6"), "code: '718-6' has a wrong LOINC check digit"),
    ],
    ids=lambda value: value[:60] if isinstance(value, str) else None,
)
def test_unacceptable_observation_names_the_field_and_the_reason(observation: ObservationIn, reason: str) -> None:
    found = validate_observation(observation)
    assert found is not None
    assert found.startswith(reason)


@pytest.mark.parametrize(
    ("value", "low", "high", "flag"),
    [
        (12.9, 11.7, 15.3, "normal"),
        (11.7, 11.7, 15.3, "normal"),
        (15.3, 11.7, 15.3, "normal"),
        (11.6, 11.7, 15.3, "low"),
        (15.4, 11.7, 15.3, "high"),
        (4.0, None, 5.0, "normal"),
        (6.0, None, 5.0, "high"),
        (9.0, 10.0, None, "low"),
        (12.9, None, None, None),
        (math.nan, 11.7, 15.3, None),
    ],
)
def test_flag_is_derived_from_inclusive_bounds(
    value: float, low: float | None, high: float | None, flag: str | None
) -> None:
    assert derive_flag(value, low, high) == flag


_finite = st.floats(allow_nan=False, allow_infinity=False)


@given(_finite, _finite, _finite)
def test_derived_flag_agrees_with_the_bounds(value: float, first: float, second: float) -> None:
    low, high = sorted([first, second])
    flag = derive_flag(value, low, high)
    assert (flag == "low") == (value < low)
    assert (flag == "high") == (value > high)
    assert (flag == "normal") == (low <= value <= high)


def test_valid_report_has_no_reason() -> None:
    panel = Panel(code="58410-2", system="loinc", display="Blodstatus", observation_codes=["718-7"])
    assert validate_report(lab_report(hb(), hbsag(), panels=[panel])) is None


@pytest.mark.parametrize(
    ("report", "reason"),
    [
        (lab_report(issued_at=SPECIMEN_AT - timedelta(minutes=1)), "issuedAt: before specimenAt"),
        (lab_report(hbsag(), hb(unit="g/L")), "observations[1].unit: 'g/L' is not a unit of LOINC 718-7"),
        (lab_report(hb(), hb(value_quantity=13.0)), "observations[1].code: '718-7' already given in observations[0]"),
        (
            lab_report(panels=[Panel(code="P", display="P", observation_codes=["2276-4"])]),
            "panels[0].observationCodes[0]: no observation with code '2276-4'",
        ),
        (
            lab_report(panels=[Panel(code="P", display="P", observation_codes=["718-7", "718-7"])]),
            "panels[0].observationCodes[1]: '718-7' is already in panel 'P'",
        ),
        (
            lab_report(
                panels=[
                    Panel(code="P", display="P", observation_codes=["718-7"]),
                    Panel(code="P", display="Q", observation_codes=["718-7"]),
                ]
            ),
            "panels[1].code: panel 'P' given twice",
        ),
        (lab_report(hb(panel="P")), "observations[0].panel: no panel 'P' in panels"),
        (
            lab_report(
                hb(panel="Q"),
                panels=[
                    Panel(code="P", display="P", observation_codes=["718-7"]),
                    Panel(code="Q", display="Q", observation_codes=["718-7"]),
                ],
            ),
            "panels[1].observationCodes[0]: '718-7' is already in panel 'P'",
        ),
        (
            lab_report(
                hb(panel="Q"),
                hbsag(),
                panels=[
                    Panel(code="P", display="P", observation_codes=["718-7"]),
                    Panel(code="Q", display="Q", observation_codes=["5196-1"]),
                ],
            ),
            "observations[0].panel: 'Q', but panel 'P' lists it",
        ),
    ],
    ids=lambda value: value.split(":", 1)[0] if isinstance(value, str) else None,
)
def test_unacceptable_report_names_the_path_and_the_reason(report: LabReportIn, reason: str) -> None:
    found = validate_report(report)
    assert found is not None
    assert found.startswith(reason)


def test_shown_report_fills_flags_groups_panels_and_says_corrected() -> None:
    report = lab_report(
        hb(value_quantity=10.9),
        hb(
            code="2276-4",
            display="Ferritin",
            value_quantity=40,
            unit="ug/L",
            flag="abnormal",
            reference_range=ReferenceRange(low=10, high=167),
        ),
        hb(
            code="1988-5",
            display="CRP",
            value_quantity=5,
            value_comparator="<",
            unit="mg/L",
            reference_range=ReferenceRange(high=5),
            panel="P",
        ),
        hbsag(),
        status="corrected",
        panels=[Panel(code="P", display="Betennelse", observation_codes=["2276-4"])],
    )
    shown = build_report_out(report)

    assert [obs.flag for obs in shown.observations] == ["low", "abnormal", None, None]
    assert [(obs.value, obs.value_type) for obs in shown.observations] == [
        (10.9, "quantity"),
        (40, "quantity"),
        (5, "quantity"),
        ("LA6577-6", "code"),
    ]
    assert [obs.panel for obs in shown.observations] == [None, "P", "P", None]
    assert shown.panels == [Panel(code="P", display="Betennelse", observation_codes=["2276-4", "1988-5"])]
    assert shown.corrected is True
    assert build_report_out(lab_report()).corrected is False
    assert build_report_out(lab_report(), corrected=True).corrected is True


def test_shown_report_uses_the_api_key_fields() -> None:
    shown = msgspec.to_builtins(build_report_out(lab_report()))
    assert {"id", "category", "status", "specimenAt", "issuedAt", "observations", "corrected", "panels"} <= set(shown)
    assert {"code", "display", "value", "unit", "referenceRange", "flag"} <= set(shown["observations"][0])


def _json_report(**changes: Any) -> bytes:
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "category": "haematology",
        "status": "final",
        "specimenAt": "2024-03-01T08:15:00+01:00",
        "issuedAt": "2024-03-01T13:00:00+01:00",
        "performingLab": {"name": "Fürst", "organisation": "974749025"},
        "requester": {"hpr": "9144889", "organisation": "983974732"},
        "observations": [
            {"code": "718-7", "system": "loinc", "display": "Hemoglobin", "valueQuantity": 12.9, "unit": "g/dL"}
        ],
    }
    return msgspec.json.encode(body | changes)


def test_json_report_decodes_with_camel_case_fields() -> None:
    report = msgspec.json.decode(_json_report(), type=LabReportIn)
    assert report.requester is not None
    assert report.requester.hpr == "9144889"
    assert report.panels == []
    assert validate_report(report) is None


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"specimenAt": "2024-03-01T08:15:00"}, "timezone"),
        ({"category": "radiology"}, "category"),
        ({"status": "amended"}, "status"),
        ({"patientId": "x"}, "unknown field `patientId`"),
        ({"observations": []}, "length >= 1"),
        ({"requester": {"hpr": "HPR-1", "organisation": "983974732"}}, "requester.hpr"),
    ],
)
def test_json_report_rejects_what_the_schema_forbids(changes: dict[str, Any], words: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=words):
        msgspec.json.decode(_json_report(**changes), type=LabReportIn)
