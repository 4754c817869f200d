"""FHIR R4 lab reports (built and validated with the fhir.resources R4B models) through the API."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
import httpx
import msgspec
from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.practitionerrole import PractitionerRole
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.servicerequest import ServiceRequest
from litestar import Litestar

from backend.labs.fhir import HPR, to_fhir
from backend.labs.schemas import LabReportOut
from tests.factories import Clinician, new_citizen, new_clinician, relate
from tests.labs.reports import post_report
from tests.labs.test_fhir_mapping import as_json, crp, ferritin, haemoglobin, hbsag, report

FHIR_JSON = "application/fhir+json"


def _lab_bundle(report_id: uuid.UUID, requester: Clinician) -> dict[str, Any]:
    """A collection Bundle as a lab sends it: the report, its observations, the order and who requested it."""
    observations = [haemoglobin("hb"), ferritin("ferritin"), crp("crp"), hbsag("hbsag")]
    role = PractitionerRole(
        id="requester",
        practitioner=Reference(identifier=Identifier(system=HPR, value=requester.hpr)),
        organization=Reference(identifier=Identifier(value=requester.org)),
    )
    order = ServiceRequest(
        id="order",
        status="completed",
        intent="order",
        subject=Reference(display="the patient"),
        requester=Reference(reference="PractitionerRole/requester"),
    )
    diagnostic = report(
        identifier=[Identifier(system="urn:ietf:rfc:3986", value=f"urn:uuid:{report_id}")],
        basedOn=[Reference(reference="ServiceRequest/order")],
        result=[Reference(reference=f"Observation/{obs.id}") for obs in observations],
    )
    entries = [BundleEntry(fullUrl=f"urn:uuid:{report_id}", resource=diagnostic)]
    entries += [BundleEntry(resource=resource) for resource in (*observations, order, role)]
    return as_json(Bundle(type="collection", entry=entries))


async def test_a_lab_posts_a_fhir_bundle_and_it_is_stored_as_mapped(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    lab = new_clinician(app, org_kind="laboratorium", authorization="SP")
    report_id = uuid.uuid4()

    response = await post_report(client, lab, citizen.patient_id, _lab_bundle(report_id, gp), content_type=FHIR_JSON)

    assert response.status_code == 201, response.text
    stored = response.json()["report"]
    assert stored["id"] == str(report_id)
    assert stored["requester"] == {"hpr": gp.hpr, "organisation": gp.org}
    assert stored["performingLab"] == {"name": "Fürst Medisinsk Laboratorium", "organisation": "974749025"}
    assert [(obs["code"], obs["value"], obs["flag"]) for obs in stored["observations"]] == [
        ("718-7", 11.2, "low"),
        ("2276-4", 9.0, "low"),
        ("1988-5", 5.0, "normal"),
        ("5196-1", "LA6577-6", None),
    ]
    assert stored["observations"][2]["valueComparator"] == "<"
    assert stored["observations"][3]["valueDisplay"] == "Negative"
    # The requester reads what the lab sent, and it maps back to a valid FHIR DiagnosticReport.
    shown = await client.get(f"/clinician/v1/patients/{citizen.patient_id}/lab-reports/{report_id}", headers=gp.headers)
    assert shown.status_code == 200
    exported = to_fhir(_as_out(shown.json()))
    assert DiagnosticReport.model_validate(exported).status == "final"


def _as_out(clinician_view: dict[str, Any]) -> LabReportOut:
    """The clinician's view as a LabReportOut (without release state, versions and previous results)."""
    view = {
        key: value
        for key, value in clinician_view.items()
        if key not in {"version", "release", "versions", "receivedAt"}
    }
    view["observations"] = [
        {key: value for key, value in obs.items() if key != "previous"} for obs in view["observations"]
    ]
    return msgspec.convert(view, LabReportOut)


async def test_a_fhir_resend_is_the_same_report(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    lab = new_clinician(app, org_kind="laboratorium", authorization="SP")
    bundle = _lab_bundle(uuid.uuid4(), gp)

    first = await post_report(client, lab, citizen.patient_id, bundle, content_type=FHIR_JSON)
    again = await post_report(client, lab, citizen.patient_id, bundle, content_type=f"{FHIR_JSON}; charset=utf-8")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert await db.fetchval("SELECT count(*) FROM lab_report_version WHERE patient_id = $1", citizen.patient_id) == 1


async def test_a_clinician_posts_a_contained_diagnostic_report(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    document = as_json(report(haemoglobin(), ferritin(), identifier=[Identifier(value=str(uuid.uuid4()))]))

    response = await post_report(client, gp, citizen.patient_id, document, content_type=FHIR_JSON)

    assert response.status_code == 201, response.text
    assert response.json()["report"]["requester"] == {"hpr": gp.hpr, "organisation": gp.org}


BAD_FHIR: list[tuple[str, Any, str]] = [
    ("not a report", {"resourceType": "Patient"}, "resourceType"),
    ("no status", {**as_json(report(haemoglobin())), "status": None}, "DiagnosticReport.status"),
    (
        "withdrawn",
        {**as_json(report(haemoglobin())), "status": "entered-in-error"},
        "DiagnosticReport.status",
    ),
    ("a list", [], "$"),
]


async def test_unmappable_fhir_is_a_400_naming_the_element_and_nothing_is_stored(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    url = f"/clinician/v1/patients/{citizen.patient_id}/lab-reports"
    for name, document, field in BAD_FHIR:
        response = await client.post(
            url, content=json.dumps(document).encode(), headers={**gp.headers, "Content-Type": FHIR_JSON}
        )
        assert response.status_code == 400, f"{name}: {response.text}"
        assert response.json()["errors"][0]["field"] == field, f"{name}: {response.text}"

    # Mapped but failing the catalogue: a haemoglobin in mmol/L.
    wrong_unit = as_json(report(haemoglobin()))
    wrong_unit["contained"][0]["valueQuantity"]["code"] = "mmol/L"
    wrong_unit["contained"][0]["referenceRange"][0] = {"text": "7,3-9,5 mmol/L"}
    response = await post_report(client, gp, citizen.patient_id, wrong_unit, content_type=FHIR_JSON)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["field"] == "observations[0].unit"

    broken = await client.post(url, content=b"{", headers={**gp.headers, "Content-Type": FHIR_JSON})
    assert broken.status_code == 400
    assert await db.fetchval("SELECT count(*) FROM lab_report WHERE patient_id = $1", citizen.patient_id) == 0
