"""The pregnancy card in the FHIR pregnancy status pattern: an Observation of pregnancy status (LOINC 82810-3) with
its estimated due date (11778-8) as a member, and a Condition of pregnancy (SNOMED CT 77386006).

Read with the card's own `READ` Need, which needs her `pregnancy-card` consent: without it a clinician's
FHIR answers hold none of these and nothing else that tells she is or was pregnant (core/fhir.py leaves the
read out, exactly as when there is no card).
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from backend.core.access import Grant
from backend.core.clock import OSLO
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
    slice_page,
)
from backend.core.paging import MAX_LIMIT
from backend.pregnancy.rules import READ
from backend.pregnancy.schemas import CardSummary
from backend.pregnancy.service import list_cards

PREGNANCY_STATUS = "82810-3"
DUE_DATE = "11778-8"
PREGNANCY = "77386006"
CLINICAL_STATUS = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION_STATUS = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
# LOINC answer list LL4129-4 for 82810-3.
PREGNANT = ("LA15173-0", "Pregnant")
NOT_PREGNANT = ("LA26683-5", "Not pregnant")
DUE_DATE_METHOD = {"lmp": "last menstrual period (Naegele)", "ultrasound": "ultrasound"}


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, OSLO)


def status_observation(grant: Grant, card: CardSummary) -> dict[str, Any]:
    """Pure: pregnant while the card is ongoing (since it was made), not pregnant from the outcome's date."""
    ongoing = card.status == "ongoing"
    answer, display = PREGNANT if ongoing else NOT_PREGNANT
    effective = card.created_at if ongoing or card.outcome_date is None else _start_of(card.outcome_date)
    return {
        "resourceType": "Observation",
        "id": f"{card.id}-status",
        "status": "final",
        "category": [concept(OBSERVATION_CATEGORY, "social-history")],
        "code": concept(LOINC, PREGNANCY_STATUS, "Pregnancy status"),
        "subject": patient_reference(grant),
        "effectiveDateTime": instant(effective),
        "valueCodeableConcept": concept(LOINC, answer, display),
        "hasMember": [{"reference": f"Observation/{card.id}-edd"}],
    }


def due_date_observation(grant: Grant, card: CardSummary) -> dict[str, Any]:
    """Pure: the due date in force (ultrasound once set, else LMP + 280 days), as the card shows it."""
    return {
        "resourceType": "Observation",
        "id": f"{card.id}-edd",
        "status": "final",
        "code": concept(LOINC, DUE_DATE, "Delivery date Estimated"),
        "subject": patient_reference(grant),
        "effectiveDateTime": instant(card.created_at),
        "valueDateTime": card.due_date.isoformat(),
        "method": {"text": DUE_DATE_METHOD[card.due_date_source]},
    }


def pregnancy_condition(grant: Grant, card: CardSummary) -> dict[str, Any]:
    """Pure: the pregnancy from the last menstrual period until its outcome."""
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": str(card.id),
        "clinicalStatus": concept(CLINICAL_STATUS, "active" if card.status == "ongoing" else "resolved"),
        "verificationStatus": concept(VERIFICATION_STATUS, "confirmed"),
        "category": [concept(CONDITION_CATEGORY, "problem-list-item")],
        "code": concept(SNOMED, PREGNANCY, "Pregnancy"),
        "subject": patient_reference(grant),
        "onsetDateTime": card.last_menstrual_period.isoformat(),
        "recordedDate": instant(card.created_at),
    }
    if card.outcome_date is not None:
        resource["abatementDateTime"] = card.outcome_date.isoformat()
    return resource


async def _cards(grant: Grant) -> list[CardSummary]:
    cards: list[CardSummary] = []
    cursor: str | None = None
    while True:
        page = await list_cards(grant, cursor, MAX_LIMIT)
        cards += page.items
        if page.next is None:
            return cards
        cursor = page.next


def _effective(resource: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(resource["effectiveDateTime"])


@fhir_search("Observation", "pregnancy-observations", need=READ)
async def search_pregnancy_observations(grant: Grant, query: FhirQuery) -> FhirPage:
    found = []
    for card in await _cards(grant):
        found += [status_observation(grant, card), due_date_observation(grant, card)]
    kept = [r for r in found if query.wants_code(r["code"]["coding"][0]["code"]) and query.wants_time(_effective(r))]
    return slice_page(kept, query)


@fhir_search("Condition", "pregnancy-conditions", need=READ)
async def search_pregnancy_conditions(grant: Grant, query: FhirQuery) -> FhirPage:
    kept = [
        pregnancy_condition(grant, card)
        for card in await _cards(grant)
        if query.wants_code(PREGNANCY) and query.wants_time(_start_of(card.last_menstrual_period))
    ]
    return slice_page(kept, query)
