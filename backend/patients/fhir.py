"""The patient as a FHIR R4 Patient: her own identity number (the only one any FHIR answer carries), birth date
and administrative gender, both read from that number as the service reads them everywhere (`core.identity`)."""

from __future__ import annotations

from typing import Any

from backend.core.access import Grant
from backend.core.db import DB
from backend.core.fhir import FNR_SYSTEM, PATIENT_READ, FhirPage, FhirQuery, fhir_search
from backend.core.identity import IdentityNumber, InvalidIdentityNumber, parse_identity_number, sealer
from backend.patients import queries

D_NUMBER_SYSTEM = "urn:oid:2.16.578.1.12.4.1.4.2"


def patient_resource(grant: Grant, number: IdentityNumber) -> dict[str, Any]:
    """Pure: the Patient of `grant` with her identity number; the ninth digit is odd for men, even for women."""
    return {
        "resourceType": "Patient",
        "id": str(grant.patient_id),
        "identifier": [
            {
                "use": "official",
                "system": D_NUMBER_SYSTEM if number.is_d_number else FNR_SYSTEM,
                "value": number.value,
            }
        ],
        "active": True,
        "gender": "male" if int(number.value[8]) % 2 else "female",
        "birthDate": number.birth_date.isoformat(),
    }


@fhir_search("Patient", "patient", need=PATIENT_READ)
async def search_patient(grant: Grant, query: FhirQuery) -> FhirPage:
    async with DB.connection() as connection:
        sealed = await queries.sealed_identity_number(connection, grant.patient_id)
    if sealed is None:
        return FhirPage([])
    try:
        # Every stored number was validated when the patient was made; synthetic ones only where allowed.
        number = parse_identity_number(sealer().unseal(sealed), allow_synthetic=True)
    except InvalidIdentityNumber:
        return FhirPage([])
    return FhirPage([patient_resource(grant, number)])
