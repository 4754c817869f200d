"""The catalogue of home measurements (LOINC code, UCUM unit, plausible range) and the check every reading passes."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType

import msgspec

BLOOD_PRESSURE_PANEL = "85354-9"
SYSTOLIC = "8480-6"
DIASTOLIC = "8462-4"

# Device clocks drift a little; later than this is a wrong clock or a wrong date, not a measurement.
FUTURE_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class SingleMeasurement:
    """A code that carries one value in one UCUM unit; `panel` is set when it exists only inside that panel."""

    code: str
    display: str
    unit: str
    minimum: float
    maximum: float
    panel: str | None = None
    display_nb: str = ""


@dataclass(frozen=True, slots=True)
class PanelMeasurement:
    """A code that carries no value or unit of its own, only its components, each exactly once."""

    code: str
    display: str
    components: tuple[SingleMeasurement, ...]
    display_nb: str = ""


MeasurementDefinition = SingleMeasurement | PanelMeasurement

_SYSTOLIC = SingleMeasurement(
    SYSTOLIC, "systolic blood pressure", "mm[Hg]", 40, 300, panel=BLOOD_PRESSURE_PANEL, display_nb="systolisk blodtrykk"
)
_DIASTOLIC = SingleMeasurement(
    DIASTOLIC,
    "diastolic blood pressure",
    "mm[Hg]",
    20,
    200,
    panel=BLOOD_PRESSURE_PANEL,
    display_nb="diastolisk blodtrykk",
)

MEASUREMENTS: Mapping[str, MeasurementDefinition] = MappingProxyType(
    {
        definition.code: definition
        for definition in (
            PanelMeasurement(BLOOD_PRESSURE_PANEL, "blood pressure", (_SYSTOLIC, _DIASTOLIC), display_nb="blodtrykk"),
            _SYSTOLIC,
            _DIASTOLIC,
            SingleMeasurement("8867-4", "heart rate", "/min", 20, 300, display_nb="puls"),
            SingleMeasurement("2708-6", "oxygen saturation", "%", 50, 100, display_nb="oksygenmetning"),
            SingleMeasurement(
                "59408-5",
                "oxygen saturation by pulse oximetry",
                "%",
                50,
                100,
                display_nb="oksygenmetning målt med pulsoksymeter",
            ),
            SingleMeasurement("8310-5", "body temperature", "Cel", 30, 45, display_nb="kroppstemperatur"),
            SingleMeasurement("29463-7", "body weight", "kg", 1, 400, display_nb="kroppsvekt"),
            SingleMeasurement("8302-2", "body height", "cm", 30, 250, display_nb="kroppshøyde"),
            SingleMeasurement("9279-1", "respiratory rate", "/min", 0, 80, display_nb="respirasjonsfrekvens"),
            SingleMeasurement("15074-8", "blood glucose", "mmol/L", 0.5, 50, display_nb="blodsukker"),
        )
    }
)


class ReadingComponent(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """One part of a panel reading, as uploaded: `{"code", "value", "unit"}`.

    Not tracked by the garbage collector (scalars only, no cycles): a 1,000-item upload makes thousands.
    """

    code: str
    value: float | None = None
    unit: str | None = None


def _quoted(text: str) -> str:
    # Reasons are stored and shown back, so a client's arbitrary string must not make them unbounded.
    return repr(text if len(text) <= 40 else text[:40] + "…")


def _named(definition: MeasurementDefinition) -> str:
    return f"{definition.display} ({definition.code})"


def _number(value: float) -> str:
    return f"{value:g}"


def _value_problem(definition: SingleMeasurement, value: float, unit: str | None) -> str | None:
    """Why one present value with its unit does not fit its catalogue entry, or None."""
    # bool is an int to Python, but true is never a measurement.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"value of {_named(definition)} must be a number"
    if unit != definition.unit:
        given = "missing" if unit is None else _quoted(unit)
        return f"unit {given} does not belong to {_named(definition)}; expected {definition.unit!r}"
    if not math.isfinite(value):
        return f"value of {_named(definition)} must be a finite number"
    if not definition.minimum <= value <= definition.maximum:
        return (
            f"value {_number(value)} {definition.unit} of {_named(definition)} is outside the plausible range "
            f"{_number(definition.minimum)} to {_number(definition.maximum)} {definition.unit}"
        )
    return None


def _components_problem(panel: PanelMeasurement, components: Sequence[ReadingComponent]) -> str | None:
    expected = {definition.code: definition for definition in panel.components}
    values: dict[str, float] = {}
    for component in components:
        definition = expected.get(component.code)
        if definition is None:
            return f"component {_quoted(component.code)} does not belong to {_named(panel)}"
        if component.code in values:
            return f"component {_named(definition)} appears more than once"
        if component.value is None:
            return f"value of {_named(definition)} is missing"
        problem = _value_problem(definition, component.value, component.unit)
        if problem is not None:
            return problem
        values[component.code] = component.value
    for definition in panel.components:
        if definition.code not in values:
            return f"component {_named(definition)} is missing from {_named(panel)}"
    if panel.code == BLOOD_PRESSURE_PANEL and values[SYSTOLIC] <= values[DIASTOLIC]:
        return (
            f"systolic ({_number(values[SYSTOLIC])} mm[Hg]) must be greater than "
            f"diastolic ({_number(values[DIASTOLIC])} mm[Hg])"
        )
    return None


def _time_problem(effective_at: datetime, now: datetime) -> str | None:
    if effective_at.utcoffset() is None:
        return "effectiveAt must carry a UTC offset"
    if effective_at - now > FUTURE_TOLERANCE:
        return "effectiveAt is more than 5 minutes in the future"
    return None


def validate_reading(  # noqa: PLR0917  # the order mirrors an upload item's fields
    code: str,
    value: float | None,
    unit: str | None,
    components: Sequence[ReadingComponent] | None,
    effective_at: datetime,
    now: datetime,
) -> str | None:
    """None when the reading is acceptable, otherwise the first reason it is not, in words a client can act on.

    A panel (blood pressure 85354-9) carries its components and neither value nor unit; every other code
    carries a value in its own UCUM unit (compared exactly, as UCUM is case-sensitive) and no components.
    Systolic and diastolic are accepted only as components of the panel. `now` must be timezone-aware.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    definition = MEASUREMENTS.get(code)
    if definition is None:
        return f"unknown measurement code {_quoted(code)}"
    if isinstance(definition, PanelMeasurement):
        if value is not None:
            return f"{_named(definition)} carries its components, not a value"
        if unit is not None:
            return f"{_named(definition)} carries units in its components, not a unit of its own"
        problem = _components_problem(definition, components or ())
    elif definition.panel is not None:
        return f"{_named(definition)} is recorded only as a component of {_named(MEASUREMENTS[definition.panel])}"
    elif components:
        problem = f"{_named(definition)} carries a value, not components"
    elif value is None:
        problem = f"value of {_named(definition)} is missing"
    else:
        problem = _value_problem(definition, value, unit)
    return problem if problem is not None else _time_problem(effective_at, now)
