"""Well-known LOINC lab tests with their UCUM units and value types, and the checks a report must pass."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from backend.labs.schemas import LabReportIn, ObservationIn

ValueField = Literal["valueQuantity", "valueString", "valueCode"]

LOINC_CODE = re.compile(r"^([0-9]{1,7})-([0-9])$")


@dataclass(frozen=True, slots=True)
class LabTest:
    code: str
    display: str
    analyte: str
    value_field: ValueField
    units: frozenset[str] = frozenset()


def _quantity(code: str, display: str, analyte: str, *units: str) -> LabTest:
    return LabTest(code=code, display=display, analyte=analyte, value_field="valueQuantity", units=frozenset(units))


def _coded(code: str, display: str, analyte: str) -> LabTest:
    return LabTest(code=code, display=display, analyte=analyte, value_field="valueCode")


# Mass and substance concentrations are separate LOINC codes: 2345-7 is glucose in mg/dL, 14749-6 in mmol/L.
CATALOGUE: dict[str, LabTest] = {
    test.code: test
    for test in (
        _quantity("718-7", "Hemoglobin [Mass/volume] in Blood", "haemoglobin", "g/dL"),
        _quantity("2276-4", "Ferritin [Mass/volume] in Serum or Plasma", "ferritin", "ug/L"),
        _quantity("1988-5", "C reactive protein [Mass/volume] in Serum or Plasma", "CRP", "mg/L"),
        _quantity("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "HbA1c", "%"),
        _quantity("59261-8", "Hemoglobin A1c/Hemoglobin.total in Blood by IFCC protocol", "HbA1c", "mmol/mol"),
        _quantity("2345-7", "Glucose [Mass/volume] in Serum or Plasma", "glucose", "mg/dL"),
        _quantity("14749-6", "Glucose [Moles/volume] in Serum or Plasma", "glucose", "mmol/L"),
        _quantity("15074-8", "Glucose [Moles/volume] in Blood", "glucose", "mmol/L"),
        _quantity("6690-2", "Leukocytes [#/volume] in Blood by Automated count", "leukocytes", "10*9/L"),
        _quantity("777-3", "Platelets [#/volume] in Blood by Automated count", "platelets", "10*9/L"),
        _quantity("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "creatinine", "mg/dL"),
        _quantity("14682-9", "Creatinine [Moles/volume] in Serum or Plasma", "creatinine", "umol/L"),
        # "m[IU]/L" is the UCUM code; "mIU/L" is what most lab systems send and means the same.
        _quantity("3016-3", "Thyrotropin [Units/volume] in Serum or Plasma", "TSH", "m[IU]/L", "mIU/L"),
        _quantity("2823-3", "Potassium [Moles/volume] in Serum or Plasma", "potassium", "mmol/L"),
        _quantity("2951-2", "Sodium [Moles/volume] in Serum or Plasma", "sodium", "mmol/L"),
        _coded("5196-1", "Hepatitis B virus surface Ag [Presence] in Serum or Plasma by Immunoassay", "HBsAg"),
        _coded("7917-8", "HIV 1 Ab [Presence] in Serum", "HIV-1 antibody"),
    )
}


def loinc_check_digit(number: str) -> int:
    """The LOINC mod-10 check digit of the part before the hyphen (the Luhn scheme)."""
    total = 0
    for position, char in enumerate(reversed(number), start=1):
        digit = int(char)
        if position % 2 == 1:
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return (10 - total % 10) % 10


def validate_observation(obs: ObservationIn) -> str | None:
    """Why this observation cannot be stored (starting with the field at fault), or None when it can."""
    values: tuple[tuple[ValueField, object], ...] = (
        ("valueQuantity", obs.value_quantity),
        ("valueString", obs.value_string),
        ("valueCode", obs.value_code),
    )
    given = [name for name, value in values if value is not None]
    if not given:
        return "valueQuantity: no value; give exactly one of valueQuantity, valueString, valueCode"
    if len(given) > 1:
        return f"{given[1]}: more than one value ({', '.join(given)}); give exactly one"
    value_field = given[0]

    if obs.value_quantity is not None and not math.isfinite(obs.value_quantity):
        return "valueQuantity: must be a finite number"
    if obs.value_comparator is not None and value_field != "valueQuantity":
        return "valueComparator: only a valueQuantity can have a comparator"
    if obs.value_display is not None and value_field != "valueCode":
        return "valueDisplay: only a valueCode has a display"
    if obs.unit is not None and value_field != "valueQuantity":
        return f"unit: a {value_field} has no unit"
    if obs.unit is None and value_field == "valueQuantity":
        return "unit: a valueQuantity needs its UCUM unit ('1' when dimensionless)"

    if (reason := _range_problem(obs, value_field)) is not None:
        return reason

    if obs.system == "loinc":
        return _loinc_problem(obs, value_field)
    return None


def _range_problem(obs: ObservationIn, value_field: ValueField) -> str | None:
    reference = obs.reference_range
    if reference is None:
        return None
    for name, bound in (("low", reference.low), ("high", reference.high)):
        if bound is not None and not math.isfinite(bound):
            return f"referenceRange.{name}: must be a finite number"
    if value_field != "valueQuantity" and (reference.low is not None or reference.high is not None):
        return f"referenceRange: a {value_field} can only have a text range"
    if reference.low is not None and reference.high is not None and reference.low > reference.high:
        return f"referenceRange.low: {reference.low} is above referenceRange.high {reference.high}"
    if reference.low is None and reference.high is None and reference.text is None:
        return "referenceRange: empty; give low, high or text, or leave it out"
    return None


def _loinc_problem(obs: ObservationIn, value_field: ValueField) -> str | None:
    match = LOINC_CODE.match(obs.code)
    if match is None:
        return f"code: {obs.code!r} is not a LOINC code (digits, hyphen, check digit)"
    if loinc_check_digit(match[1]) != int(match[2]):
        return f"code: {obs.code!r} has a wrong LOINC check digit"
    test = CATALOGUE.get(obs.code)
    if test is None:
        # The catalogue is small; an unknown LOINC code is accepted as the lab sent it.
        return None
    if value_field != test.value_field:
        return f"{value_field}: LOINC {test.code} ({test.display}) takes a {test.value_field}"
    if test.value_field == "valueQuantity" and obs.unit not in test.units:
        expected = " or ".join(sorted(test.units))
        hint = _code_for_unit(test.analyte, obs.unit)
        return f"unit: {obs.unit!r} is not a unit of LOINC {test.code} ({test.display}); expected {expected}{hint}"
    return None


def _code_for_unit(analyte: str, unit: str | None) -> str:
    """Points a sender who used the mass code for a substance unit (or the reverse) to the code that fits."""
    for other in CATALOGUE.values():
        if other.analyte == analyte and unit in other.units:
            return f"; LOINC {other.code} ({other.display}) is reported in {unit}"
    return ""


def validate_report(report: LabReportIn) -> str | None:
    """Why this report cannot be stored (a field path and the reason), or None when it can."""
    if report.issued_at < report.specimen_at:
        return "issuedAt: before specimenAt; a result cannot be issued before its specimen was taken"
    seen: dict[str, int] = {}
    for index, obs in enumerate(report.observations):
        if (reason := validate_observation(obs)) is not None:
            return f"observations[{index}].{reason}"
        # Trends and panels address an observation by its code, so a code appears once per report.
        if obs.code in seen:
            return f"observations[{index}].code: {obs.code!r} already given in observations[{seen[obs.code]}]"
        seen[obs.code] = index
    return _panel_problem(report, seen)


def _panel_problem(report: LabReportIn, index_of: dict[str, int]) -> str | None:
    panel_of: dict[str, str] = {}
    panel_codes: set[str] = set()
    for p, panel in enumerate(report.panels):
        if panel.code in panel_codes:
            return f"panels[{p}].code: panel {panel.code!r} given twice"
        panel_codes.add(panel.code)
        for c, code in enumerate(panel.observation_codes):
            if code not in index_of:
                return f"panels[{p}].observationCodes[{c}]: no observation with code {code!r} in this report"
            if code in panel_of:
                return f"panels[{p}].observationCodes[{c}]: {code!r} is already in panel {panel_of[code]!r}"
            panel_of[code] = panel.code
    for index, obs in enumerate(report.observations):
        if obs.panel is None:
            continue
        if obs.panel not in panel_codes:
            return f"observations[{index}].panel: no panel {obs.panel!r} in panels"
        if panel_of.get(obs.code, obs.panel) != obs.panel:
            return f"observations[{index}].panel: {obs.panel!r}, but panel {panel_of[obs.code]!r} lists it"
    return None
