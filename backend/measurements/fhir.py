"""Måledata as FHIR R4 Observations (vital-signs pattern): LOINC codes, UCUM units, blood pressure as a panel with
systolic and diastolic components; read through `list_measurements` with the domain's own read `Need`. A recorded
NEWS2 is an Observation of its total (SNOMED CT), its sub-scores as components, derived from the vital set's
Observations; a not-valid reason is worded for the reader by the domain (`reason_for_reader`)."""

from __future__ import annotations

from typing import Any

from backend.core.access import Grant
from backend.core.fhir import (
    LOINC,
    OBSERVATION_CATEGORY,
    SNOMED,
    FhirPage,
    FhirQuery,
    concept,
    fhir_search,
    instant,
    patient_reference,
    quantity,
)
from backend.measurements.codes import MEASUREMENTS, PanelMeasurement
from backend.measurements.news2 import NEWS2_SNOMED
from backend.measurements.schemas import MeasurementOut
from backend.measurements.service import READ, READ_NEWS2, News2Shown, list_measurements, list_news2_scores

# Home blood glucose is a laboratory-type test; everything else in the catalogue is a vital sign.
LABORATORY_CODES = frozenset({"15074-8"})


def _display(code: str) -> str | None:
    definition = MEASUREMENTS.get(code)
    return definition.display if definition is not None else None


def observation_resource(grant: Grant, item: MeasurementOut) -> dict[str, Any]:
    """Pure: one stored measurement as an Observation of the patient of `grant`."""
    category = "laboratory" if item.code in LABORATORY_CODES else "vital-signs"
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(item.id),
        "status": "final",
        "category": [concept(OBSERVATION_CATEGORY, category)],
        "code": concept(LOINC, item.code, _display(item.code)),
        "subject": patient_reference(grant),
        "effectiveDateTime": instant(item.effective_at),
        "issued": instant(item.created_at),
    }
    if item.value is not None and item.unit is not None:
        resource["valueQuantity"] = quantity(item.value, item.unit)
    if item.components:
        resource["component"] = [
            {"code": concept(LOINC, part.code, _display(part.code))}
            | ({"valueQuantity": quantity(part.value, part.unit)} if part.value is not None else {})
            for part in item.components
        ]
    if item.device is not None and (item.device.model or item.device.serial):
        resource["device"] = {"display": " ".join(filter(None, (item.device.model, item.device.serial)))}
    if item.source == "citizen":
        resource["performer"] = [patient_reference(grant)]
    return resource


def _searchable(code: str) -> bool:
    definition = MEASUREMENTS.get(code)
    return isinstance(definition, PanelMeasurement) or (definition is not None and definition.panel is None)


@fhir_search("Observation", "measurements", need=READ)
async def search_measurements(grant: Grant, query: FhirQuery) -> FhirPage:
    codes = None if query.codes is None else sorted(code for code in query.codes if _searchable(code))
    if codes == []:
        return FhirPage([])
    page = await list_measurements(
        grant,
        # One code is the domain's own filter; several are filtered here from the pages it answers.
        code=codes[0] if codes and len(codes) == 1 else None,
        start=query.start.isoformat() if query.start else None,
        end=query.end.isoformat() if query.end else None,
        cursor=query.cursor,
        limit=query.count,
    )
    items = [item for item in page.items if codes is None or item.code in codes]
    return FhirPage([observation_resource(grant, item) for item in items], page.next)


SUBSCORE = "http://helsekort.no/fhir/CodeSystem/news2-subscore"


def news2_observation(grant: Grant, shown: News2Shown) -> dict[str, Any]:
    """Pure: a recorded NEWS2 score as an Observation of the patient of `grant`."""
    score = shown.score
    subscores = {
        "respiration-rate": score.respiration_rate_score,
        "spo2": score.spo2_score,
        "on-oxygen": score.on_oxygen_score,
        "systolic": score.systolic_score,
        "pulse": score.pulse_score,
        "consciousness": score.consciousness_score,
        "temperature": score.temperature_score,
    }
    measured = (
        score.respiration_rate_measurement,
        score.spo2_measurement,
        score.blood_pressure_measurement,
        score.pulse_measurement,
        score.temperature_measurement,
    )
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(score.id),
        "status": "final",
        "category": [concept(OBSERVATION_CATEGORY, "survey")],
        "code": concept(SNOMED, NEWS2_SNOMED, "Royal College of Physicians NEWS2 total score"),
        "subject": patient_reference(grant),
        "effectiveDateTime": instant(score.effective_at),
        "issued": instant(score.created_at),
        "valueInteger": score.total,
        "interpretation": [{"text": f"{score.risk} risk"}],
        "component": [
            {"code": concept(SUBSCORE, name, text=f"NEWS2 {name} sub-score"), "valueInteger": value}
            for name, value in subscores.items()
        ]
        + [{"code": concept(SUBSCORE, "spo2-scale", text="SpO2 scale used"), "valueInteger": score.spo2_scale}],
        "derivedFrom": [{"reference": f"Observation/{measurement}"} for measurement in measured],
    }
    if shown.not_valid_reason is not None:
        resource["note"] = [{"text": f"NEWS2 not valid for this patient: {shown.not_valid_reason}"}]
    return resource


@fhir_search("Observation", "news2", need=READ_NEWS2)
async def search_news2(grant: Grant, query: FhirQuery) -> FhirPage:
    if not query.wants_code(NEWS2_SNOMED):
        return FhirPage([])
    shown, following = await list_news2_scores(
        grant, first=query.start, last=query.end, cursor=query.cursor, limit=query.count
    )
    return FhirPage([news2_observation(grant, item) for item in shown], following)
