"""The FHIR read routes and the citizen's export, walked by the scope helper: a FHIR read is an access like any other."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar

from tests.security.helper import PatientRoute, assert_route_scoped

FHIR_ROUTES = [
    PatientRoute("GET", "/fhir/R4/Patient/{patientId}", "clinician"),
    PatientRoute("GET", "/fhir/R4/Patient/{patientId}/$everything", "clinician"),
    PatientRoute("GET", "/fhir/R4/Patient?patient={patientId}", "clinician"),
    PatientRoute("GET", "/fhir/R4/Observation?patient={patientId}", "clinician"),
    PatientRoute("GET", "/fhir/R4/DiagnosticReport?patient={patientId}", "clinician"),
    PatientRoute("GET", "/fhir/R4/MedicationStatement?patient={patientId}", "clinician"),
    PatientRoute("GET", "/fhir/R4/MedicationRequest?patient={patientId}", "clinician"),
    PatientRoute("GET", "/fhir/R4/DocumentReference?patient={patientId}", "clinician"),
    PatientRoute("GET", "/fhir/R4/Condition?patient={patientId}", "clinician"),
    # Without the pregnancy consent the card's reads are left out, but the patient is still out of scope for others.
    PatientRoute("GET", "/fhir/R4/Condition?patient={patientId}", "clinician", consents=()),
    PatientRoute("GET", "/citizen/v1/me/export", "citizen"),
]


@pytest.mark.parametrize("route", FHIR_ROUTES, ids=lambda route: f"{route.id} {route.consents}")
async def test_fhir_route_is_scoped(client: httpx.AsyncClient, app: Litestar, route: PatientRoute) -> None:
    await assert_route_scoped(client, app, route)
