"""Searches by type: patient (required), code, date (ge/le), _count with next links, each page a valid Bundle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from litestar import Litestar

from tests.fhir.world import Record, codes, every_page, fhir_get, of_type, record, resources


def _params(her: Record, **more: str | list[str] | int) -> dict[str, str | list[str] | int]:
    return {"patient": str(her.woman.patient_id), **more}


async def test_metadata_is_public_and_lists_only_what_is_served(client: httpx.AsyncClient, app: Litestar) -> None:
    statement = await fhir_get(client, "/fhir/R4/metadata", {})
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1"
    served = {resource["type"] for resource in statement["rest"][0]["resource"]}
    assert served == {
        "EpisodeOfCare",
        "Patient",
        "Observation",
        "DiagnosticReport",
        "MedicationStatement",
        "MedicationRequest",
        "DocumentReference",
        "Condition",
    }
    [patient] = [resource for resource in statement["rest"][0]["resource"] if resource["type"] == "Patient"]
    assert patient["operation"][0]["name"] == "everything"


async def test_observations_by_code_date_and_pages(client: httpx.AsyncClient, app: Litestar) -> None:
    her = await record(client, app)
    path = "/fhir/R4/Observation"
    everything = await every_page(client, path, her.gp.headers, _params(her, _count=1))
    assert codes(everything) >= {"85354-9", "29463-7", "8867-4", "82810-3", "11778-8"}
    assert len({resource["id"] for resource in everything}) == len(everything) == 5

    [pressure] = await every_page(client, path, her.gp.headers, _params(her, code="http://loinc.org|85354-9"))
    components = {c["code"]["coding"][0]["code"]: c["valueQuantity"] for c in pressure["component"]}
    assert components["8480-6"] == {
        "value": 128,
        "unit": "mm[Hg]",
        "system": "http://unitsofmeasure.org",
        "code": "mm[Hg]",
    }
    assert pressure["category"][0]["coding"][0]["code"] == "vital-signs"

    two = await every_page(client, path, her.gp.headers, _params(her, code="29463-7,8867-4"))
    assert codes(two) == {"29463-7", "8867-4"}
    [weight] = await every_page(client, path, her.gp.headers, _params(her, code="29463-7"))
    assert weight["valueQuantity"]["value"] == 68.5

    # Measurements of the last two days: the weight and the pulse (and the card's, recorded just now).
    since = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    recent = await every_page(client, path, her.gp.headers, _params(her, date=f"ge{since}"))
    assert codes(recent) == {"29463-7", "8867-4", "82810-3", "11778-8"}
    until = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    older = await every_page(client, path, her.gp.headers, _params(her, date=f"le{until}"))
    assert codes(older) == {"85354-9"}
    window = await every_page(
        client,
        path,
        her.gp.headers,
        _params(her, date=[f"ge{(datetime.now(UTC) - timedelta(days=4)).isoformat()}", f"le{until}"]),
    )
    assert codes(window) == {"85354-9"}
    assert await every_page(client, path, her.gp.headers, _params(her, code="1234-5")) == []


async def test_lab_reports_by_date_and_pages(client: httpx.AsyncClient, app: Litestar) -> None:
    her = await record(client, app)
    path = "/fhir/R4/DiagnosticReport"
    first = await fhir_get(client, path, her.gp.headers, _params(her, _count=1))
    assert len(resources(first)) == 1
    assert [link["relation"] for link in first["link"]] == ["self", "next"]
    reports = await every_page(client, path, her.gp.headers, _params(her, _count=1))
    assert [report["id"] for report in reports] == [her.held_report, her.released_report]  # newest specimen first
    [report] = [r for r in reports if r["id"] == her.released_report]
    contained = {c["code"]["coding"][0]["code"] for c in report["contained"] if c["resourceType"] == "Observation"}
    assert contained == {"718-7", "2276-4"}

    specimen = datetime.fromisoformat(report["effectiveDateTime"])
    only_first = await every_page(client, path, her.gp.headers, _params(her, date=f"le{specimen.isoformat()}"))
    assert [r["id"] for r in only_first] == [her.released_report]
    after = (specimen + timedelta(minutes=1)).isoformat()
    only_second = await every_page(client, path, her.gp.headers, _params(her, date=f"ge{after}", _count=1))
    assert [r["id"] for r in only_second] == [her.held_report]
    assert len(await every_page(client, path, her.gp.headers, _params(her, code="11502-2"))) == 2
    assert await every_page(client, path, her.gp.headers, _params(her, code="718-7")) == []


async def test_medication_statements_and_conditions(client: httpx.AsyncClient, app: Litestar) -> None:
    her = await record(client, app)
    [statement] = await every_page(client, "/fhir/R4/MedicationStatement", her.gp.headers, _params(her, code="H03AA01"))
    assert statement["status"] == "active"
    assert statement["effectivePeriod"] == {"start": "2026-01-05"}
    assert statement["dosage"] == [{"text": "1 tablett daglig"}]
    assert await every_page(client, "/fhir/R4/MedicationStatement", her.gp.headers, _params(her, code="N02BE01")) == []
    before_start = await every_page(
        client, "/fhir/R4/MedicationStatement", her.gp.headers, _params(her, date="le2025-12-31")
    )
    assert before_start == []

    [condition] = await every_page(client, "/fhir/R4/Condition", her.gp.headers, _params(her))
    assert condition["code"]["coding"][0] == {
        "system": "http://snomed.info/sct",
        "code": "77386006",
        "display": "Pregnancy",
    }
    assert condition["clinicalStatus"]["coding"][0]["code"] == "active"
    observations = await every_page(client, "/fhir/R4/Observation", her.gp.headers, _params(her, code="82810-3"))
    [status] = observations
    assert status["valueCodeableConcept"]["coding"][0]["code"] == "LA15173-0"
    [due] = of_type(
        await every_page(client, "/fhir/R4/Observation", her.gp.headers, _params(her, code="11778-8")), "Observation"
    )
    assert status["hasMember"] == [{"reference": f"Observation/{due['id']}"}]


async def test_patient_read_and_search(client: httpx.AsyncClient, app: Litestar) -> None:
    her = await record(client, app)
    patient = await fhir_get(client, f"/fhir/R4/Patient/{her.woman.patient_id}", her.gp.headers)
    assert patient["identifier"] == [
        {"use": "official", "system": "urn:oid:2.16.578.1.12.4.1.4.1", "value": her.woman.fnr}
    ]
    [found] = await every_page(client, "/fhir/R4/Patient", her.gp.headers, _params(her))
    assert found == patient


MEDIUM = {
    "respirationRate": 22,
    "spo2": 95,
    "spo2Scale": 1,
    "onOxygen": False,
    "systolic": 105,
    "pulse": 95,
    "consciousness": "A",
    "temperature": 37.0,
}


async def test_news2_is_an_observation_of_its_total_with_sub_scores_from_its_vital_set(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    her = await record(client, app)
    recorded = await client.post(
        f"/clinician/v1/patients/{her.woman.patient_id}/news2", json=MEDIUM, headers=her.gp.headers
    )
    assert recorded.status_code == 201, recorded.text
    [news2] = await every_page(
        client, "/fhir/R4/Observation", her.gp.headers, _params(her, code="http://snomed.info/sct|1104051000000101")
    )
    assert news2["id"] == recorded.json()["id"]
    assert news2["valueInteger"] == 5
    subscores = {c["code"]["coding"][0]["code"]: c["valueInteger"] for c in news2["component"]}
    assert subscores == {
        "respiration-rate": 2,
        "spo2": 1,
        "on-oxygen": 0,
        "systolic": 1,
        "pulse": 1,
        "consciousness": 0,
        "temperature": 0,
        "spo2-scale": 1,
    }
    # She is pregnant and consents: the reason says so to her GP.
    assert news2["note"] == [{"text": "NEWS2 not valid for this patient: pregnancy"}]
    observations = await every_page(client, "/fhir/R4/Observation", her.gp.headers, _params(her))
    ids = {observation["id"] for observation in observations}
    assert {reference["reference"].removeprefix("Observation/") for reference in news2["derivedFrom"]} <= ids

    withdrawn = await client.delete("/citizen/v1/me/consents/pregnancy-card", headers=her.woman.headers)
    assert withdrawn.status_code == 204
    [neutral] = await every_page(client, "/fhir/R4/Observation", her.gp.headers, _params(her, code="1104051000000101"))
    assert neutral["note"] == [{"text": "NEWS2 not valid for this patient: not-validated-for-this-patient"}]


async def test_prescriptions_and_documents_by_code_date_and_pages(client: httpx.AsyncClient, app: Litestar) -> None:
    her = await record(client, app)
    [request] = await every_page(client, "/fhir/R4/MedicationRequest", her.gp.headers, _params(her, code="H03AA01"))
    assert request["dispenseRequest"]["numberOfRepeatsAllowed"] == 2
    assert request["dispenseRequest"]["quantity"] == {"value": 30, "unit": "tablett"}
    assert request["dosageInstruction"] == [{"text": "1 tablett morgen"}]
    assert await every_page(client, "/fhir/R4/MedicationRequest", her.gp.headers, _params(her, code="N02BE01")) == []
    assert (
        await every_page(client, "/fhir/R4/MedicationRequest", her.gp.headers, _params(her, date="le2025-01-01")) == []
    )

    path = "/fhir/R4/DocumentReference"
    first = await fhir_get(client, path, her.gp.headers, _params(her, _count=1))
    assert len(resources(first)) == 1
    assert any(link["relation"] == "next" for link in first["link"])
    both = await every_page(client, path, her.gp.headers, _params(her, _count=1))
    assert {document["id"] for document in both} == {her.document_id, her.hidden_document_id}
    [note] = await every_page(client, path, her.gp.headers, _params(her, code="outpatient-note"))
    assert note["id"] == her.hidden_document_id
    day = note["context"]["period"]["start"]
    assert len(await every_page(client, path, her.gp.headers, _params(her, date=day))) == 2
    assert await every_page(client, path, her.gp.headers, _params(her, date=f"gt{day}")) == []
