"""The medication list (PLL) as FHIR R4 MedicationStatements: ATC-coded medicines, the dosage text and structured
dose, the reason, the period taken and why it stopped; the prescriber named by HPR number only. Read through the
domain's own views (`read_list`, `citizen_list`) with its read `Need`, so the 90-day rule is theirs.

Prescriptions (SFM) as MedicationRequests, read through `prescriptions_for` / `citizen_prescriptions` with
`READ_PRESCRIPTIONS` (a pharmacy: active ones only, as in the API); the catalogue's warnings are not mapped (a
pregnancy warning is the domain's to word for its reader)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from backend.core.access import Grant
from backend.core.clock import OSLO
from backend.core.fhir import (
    ATC,
    HPR_SYSTEM,
    FhirPage,
    FhirQuery,
    concept,
    fhir_search,
    instant,
    is_citizen,
    patient_reference,
    slice_page,
)
from backend.medications.entries import display_order, is_active, today
from backend.medications.prescriptions import READ_PRESCRIPTIONS, citizen_prescriptions, prescriptions_for
from backend.medications.schemas import MedicationEntry, PrescriptionOut
from backend.medications.service import READ_LIST, citizen_list, read_list

KIND = "http://helsekort.no/fhir/CodeSystem/medication-entry-kind"


def _dosage(entry: MedicationEntry) -> dict[str, Any] | None:
    if entry.dosage is None and entry.dose is None:
        return None
    dosage: dict[str, Any] = {"text": entry.dosage} if entry.dosage else {}
    if entry.dose is not None:
        dose = entry.dose
        dosage["doseAndRate"] = [{"doseQuantity": {"value": dose.quantity, "unit": dose.unit}}]
        dosage["asNeededBoolean"] = dose.as_needed
        if dose.times_per_day is not None:
            dosage["timing"] = {
                "repeat": {"frequency": dose.times_per_day, "period": dose.interval_days, "periodUnit": "d"}
            }
        if dose.max_per_day is not None:
            dosage["maxDosePerPeriod"] = {
                "numerator": {"value": dose.max_per_day, "unit": dose.unit},
                "denominator": {"value": 1, "unit": "d", "system": "http://unitsofmeasure.org", "code": "d"},
            }
    return dosage


def medication_statement(grant: Grant, entry: MedicationEntry, on: date) -> dict[str, Any]:
    """Pure: one list entry as a MedicationStatement of the patient of `grant`, as the list stands on `on`."""
    text = " ".join(filter(None, (entry.name, entry.strength, entry.form)))
    resource: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "id": str(entry.id),
        "status": "active" if is_active(entry, on) else "stopped",
        "category": concept(KIND, entry.kind),
        "medicationCodeableConcept": concept(ATC, entry.atc, entry.name, text=text),
        "subject": patient_reference(grant),
        "effectivePeriod": {"start": entry.started_at.isoformat()}
        | ({"end": entry.stopped_at.isoformat()} if entry.stopped_at else {}),
    }
    if entry.stop_reason and not is_active(entry, on):
        resource["statusReason"] = [{"text": entry.stop_reason}]
    if entry.reason:
        resource["reasonCode"] = [{"text": entry.reason}]
    if (dosage := _dosage(entry)) is not None:
        resource["dosage"] = [dosage]
    if entry.prescriber is not None:
        # The prescriber by HPR number: a clinician's identity number is never part of an answer.
        resource["informationSource"] = {"identifier": {"system": HPR_SYSTEM, "value": entry.prescriber.hpr}} | (
            {"display": entry.prescriber.name} if entry.prescriber.name else {}
        )
    return resource


def _in_period(entry: MedicationEntry, query: FhirQuery) -> bool:
    started = datetime.combine(entry.started_at, time.min, OSLO)
    stopped = datetime.combine(entry.stopped_at, time.max, OSLO) if entry.stopped_at else None
    return query.wants_period(started, stopped)


@fhir_search("MedicationStatement", "medications", need=READ_LIST)
async def search_medications(grant: Grant, query: FhirQuery) -> FhirPage:
    on = today()
    if is_citizen(grant):
        mine = await citizen_list(grant)
        entries = [*mine.entries, *mine.recently_stopped]
    else:
        entries = (await read_list(grant)).entries
    kept = [
        medication_statement(grant, entry, on)
        for entry in sorted(entries, key=display_order)
        if query.wants_code(entry.atc) and _in_period(entry, query)
    ]
    return slice_page(kept, query)


# R4 MedicationRequest has no `expired`: a prescription past its validity is stopped, and says why.
REQUEST_STATUS = {"active": "active", "completed": "completed", "expired": "stopped", "cancelled": "cancelled"}


def medication_request(grant: Grant, prescription: PrescriptionOut) -> dict[str, Any]:
    """Pure: one prescription as a MedicationRequest (an order) of the patient of `grant`."""
    medicine = prescription.medication
    text = " ".join(filter(None, (medicine.name, medicine.strength, medicine.form)))
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": str(prescription.id),
        "status": REQUEST_STATUS[prescription.status],
        "intent": "order",
        "medicationCodeableConcept": concept(ATC, medicine.atc, medicine.name, text=text),
        "subject": patient_reference(grant),
        "authoredOn": instant(prescription.created_at),
        "requester": {"identifier": {"system": HPR_SYSTEM, "value": prescription.prescriber.hpr}}
        | ({"display": prescription.prescriber.name} if prescription.prescriber.name else {}),
        "dosageInstruction": [{"text": prescription.dosage_text}],
        "dispenseRequest": {
            "validityPeriod": {
                "start": prescription.created_at.astimezone(OSLO).date().isoformat(),
                "end": prescription.valid_until.isoformat(),
            },
            # FHIR counts the repeats after the first dispensing.
            "numberOfRepeatsAllowed": max(prescription.dispensings - 1, 0),
            "quantity": {"value": prescription.quantity.amount, "unit": prescription.quantity.unit},
        },
    }
    if prescription.status == "expired":
        resource["statusReason"] = {"text": "expired"}
    elif prescription.status == "cancelled" and prescription.cancel_reason:
        resource["statusReason"] = {"text": prescription.cancel_reason}
    if prescription.replaces is not None:
        resource["priorPrescription"] = {"reference": f"MedicationRequest/{prescription.replaces}"}
    if prescription.note:
        resource["note"] = [{"text": prescription.note}]
    return resource


@fhir_search("MedicationRequest", "prescriptions", need=READ_PRESCRIPTIONS)
async def search_prescriptions(grant: Grant, query: FhirQuery) -> FhirPage:
    if is_citizen(grant):
        page = await citizen_prescriptions(grant, status=None, cursor=query.cursor, limit=query.count)
    else:
        page = await prescriptions_for(grant, status=None, cursor=query.cursor, limit=query.count)
    kept = [
        medication_request(grant, prescription)
        for prescription in page.items
        if query.wants_code(prescription.medication.atc) and query.wants_time(prescription.created_at)
    ]
    return FhirPage(kept, page.next)
