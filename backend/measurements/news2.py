"""NEWS2 (RCP 2017 chart 1, every band inclusive): sub-scores, total and clinical response for one vital-sign set."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

NEWS2_SNOMED = "1104051000000101"
"""SNOMED CT code for the NEWS2 total; LOINC has none (88330-6 is a mobility score)."""

Consciousness = Literal["A", "C", "V", "P", "U"]
Spo2Scale = Literal[1, 2]
Risk = Literal["low", "low-medium", "medium", "high"]

# Plausible bounds: decoding rejects anything outside them, and NaN/±inf fail the comparison.
RespirationRate = Annotated[int, Meta(ge=0, le=80, description="breaths per minute")]
OxygenSaturation = Annotated[int, Meta(ge=50, le=100, description="SpO2 in %")]
SystolicPressure = Annotated[int, Meta(ge=40, le=300, description="systolic blood pressure in mmHg")]
PulseRate = Annotated[int, Meta(ge=20, le=300, description="beats per minute")]
BodyTemperature = Annotated[float, Meta(ge=25.0, le=45.0, description="degrees Celsius")]


class VitalSigns(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """One set of observations to score; scale 2 only when a clinician has prescribed an 88-92 % target."""

    respiration_rate: RespirationRate
    spo2: OxygenSaturation
    spo2_scale: Spo2Scale = 1
    on_oxygen: bool
    systolic: SystolicPressure
    pulse: PulseRate
    consciousness: Consciousness
    temperature: BodyTemperature


class Subscores(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    respiration_rate: int
    spo2: int
    on_oxygen: int
    systolic: int
    pulse: int
    consciousness: int
    temperature: int


class ClinicalResponse(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    risk: Risk
    monitoring: str
    response: str


class News2Result(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    total: int
    subscores: Subscores
    risk: Risk
    monitoring: str
    response: str
    single_parameter_red: bool
    """True when any one parameter scores 3, whatever the total."""


def score_respiration_rate(rate: int) -> int:
    if rate <= 8:
        return 3
    if rate <= 11:
        return 1
    if rate <= 20:
        return 0
    if rate <= 24:
        return 2
    return 3


def score_spo2(spo2: int, scale: Spo2Scale, on_oxygen: bool) -> int:
    """Scale 1, or scale 2 where saturation above the 88-92 % target only counts against oxygen therapy."""
    if scale == 1:
        if spo2 <= 91:
            return 3
        if spo2 <= 93:
            return 2
        if spo2 <= 95:
            return 1
        return 0
    if spo2 <= 83:
        return 3
    if spo2 <= 85:
        return 2
    if spo2 <= 87:
        return 1
    if spo2 <= 92 or not on_oxygen:
        return 0
    if spo2 <= 94:
        return 1
    if spo2 <= 96:
        return 2
    return 3


def score_air_or_oxygen(on_oxygen: bool) -> int:
    return 2 if on_oxygen else 0


def score_systolic(systolic: int) -> int:
    if systolic <= 90:
        return 3
    if systolic <= 100:
        return 2
    if systolic <= 110:
        return 1
    if systolic <= 219:
        return 0
    return 3


def score_pulse(pulse: int) -> int:
    if pulse <= 40:
        return 3
    if pulse <= 50:
        return 1
    if pulse <= 90:
        return 0
    if pulse <= 110:
        return 1
    if pulse <= 130:
        return 2
    return 3


def score_consciousness(consciousness: Consciousness) -> int:
    return 0 if consciousness == "A" else 3


def round_temperature(temperature: float) -> Decimal:
    """The temperature to one decimal, half-up from its shortest decimal form: 38.05 → 38.1, 38.04 → 38.0.

    Rounding the float itself would be platform-exact but surprising: 38.05 is stored as 38.04999…,
    so the clinician's 38.05 would score as 38.0. `repr` gives back the decimal they entered.
    """
    if not math.isfinite(temperature):
        raise ValueError("temperature must be a finite number")
    return Decimal(repr(float(temperature))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def score_temperature(temperature: float) -> int:
    celsius = round_temperature(temperature)
    if celsius <= Decimal("35.0"):
        return 3
    if celsius <= Decimal("36.0"):
        return 1
    if celsius <= Decimal("38.0"):
        return 0
    if celsius <= Decimal("39.0"):
        return 1
    return 2


def clinical_response(total: int, single_parameter_red: bool) -> ClinicalResponse:
    """Risk, minimum monitoring and response for a total, per the RCP 2017 clinical-response table."""
    if total >= 7:
        return ClinicalResponse(
            risk="high",
            monitoring="continuous",
            response="emergency assessment within 30 minutes, consider HDU/ICU",
        )
    if total >= 5:
        return ClinicalResponse(risk="medium", monitoring="hourly", response="urgent review within 1 hour")
    # A single red parameter escalates only below 5; from 5 up the total already asks for more.
    if single_parameter_red:
        return ClinicalResponse(risk="low-medium", monitoring="hourly", response="nurse informs the medical team")
    if total >= 1:
        return ClinicalResponse(risk="low", monitoring="4-6-hourly", response="registered nurse assesses")
    return ClinicalResponse(risk="low", monitoring="12-hourly", response="routine")


def score_news2(vitals: VitalSigns) -> News2Result:
    subscores = Subscores(
        respiration_rate=score_respiration_rate(vitals.respiration_rate),
        spo2=score_spo2(vitals.spo2, vitals.spo2_scale, vitals.on_oxygen),
        on_oxygen=score_air_or_oxygen(vitals.on_oxygen),
        systolic=score_systolic(vitals.systolic),
        pulse=score_pulse(vitals.pulse),
        consciousness=score_consciousness(vitals.consciousness),
        temperature=score_temperature(vitals.temperature),
    )
    parts: tuple[int, ...] = msgspec.structs.astuple(subscores)
    total = sum(parts)
    single_parameter_red = 3 in parts
    response = clinical_response(total, single_parameter_red)
    return News2Result(
        total=total,
        subscores=subscores,
        risk=response.risk,
        monitoring=response.monitoring,
        response=response.response,
        single_parameter_red=single_parameter_red,
    )
