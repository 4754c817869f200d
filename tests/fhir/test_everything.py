"""Done when: a record system fetches a patient's $everything with a HelseID token and gets a valid Bundle of her lab
results, measurements, medications and pregnancy observations; the citizen downloads the same about herself."""

from __future__ import annotations

import httpx
from litestar import Litestar

from tests.fhir.world import FHIR_JSON, HPR, codes, every_page, of_type, record, resources, valid


async def test_a_record_system_gets_everything_and_the_citizen_downloads_the_same(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    her = await record(client, app)

    found = await every_page(
        client, f"/fhir/R4/Patient/{her.woman.patient_id}/$everything", her.gp.headers, {"_count": 3}
    )
    [patient] = of_type(found, "Patient")
    assert patient["id"] == str(her.woman.patient_id)
    assert {(i["system"], i["value"]) for i in patient["identifier"]} == {
        ("urn:oid:2.16.578.1.12.4.1.4.1", her.woman.fnr)
    }
    reports = {report["id"] for report in of_type(found, "DiagnosticReport")}
    assert reports == {her.released_report, her.held_report}  # a clinician sees every report, as in the API
    observations = of_type(found, "Observation")
    assert {"85354-9", "29463-7", "8867-4", "82810-3", "11778-8"} <= codes(observations)
    [statement] = of_type(found, "MedicationStatement")
    assert statement["id"] == her.medication_id
    assert statement["medicationCodeableConcept"]["coding"][0] == {
        "system": "http://www.whocc.no/atc",
        "code": "H03AA01",
        "display": "Levaxin",
    }
    [request] = of_type(found, "MedicationRequest")
    assert request["id"] == her.prescription_id
    assert request["status"] == "active"
    assert request["requester"]["identifier"] == {"system": HPR, "value": her.gp.hpr}
    documents = {document["id"]: document for document in of_type(found, "DocumentReference")}
    assert set(documents) == {her.document_id, her.hidden_document_id}
    attachment = documents[her.document_id]["content"][0]["attachment"]
    assert attachment["url"] == f"/clinician/v1/patients/{her.woman.patient_id}/documents/{her.document_id}/content"
    content = await client.get(attachment["url"], headers=her.gp.headers)
    assert content.status_code == 200
    assert content.headers["content-type"] == attachment["contentType"] == "application/pdf"
    assert len(content.content) == attachment["size"]
    [condition] = of_type(found, "Condition")
    assert condition["id"] == her.card_id
    assert all(
        resource["subject"] == {"reference": f"Patient/{her.woman.patient_id}"}
        for resource in found
        if resource["resourceType"] != "Patient"
    )

    response = await client.get("/citizen/v1/me/export", headers=her.woman.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(FHIR_JSON)
    bundle = valid(response.json())
    assert bundle["type"] == "collection"
    mine = [valid(resource) for resource in resources(bundle)]
    # The same about herself, except the report not released to her yet and the document hidden from her.
    assert {report["id"] for report in of_type(mine, "DiagnosticReport")} == {her.released_report}
    [document] = of_type(mine, "DocumentReference")
    own_url = f"/citizen/v1/me/documents/{her.document_id}/content"
    assert document["content"][0]["attachment"]["url"] == own_url
    assert (await client.get(own_url, headers=her.woman.headers)).status_code == 200
    not_hers = {her.held_report, her.hidden_document_id}
    everything_but_held = {(r["resourceType"], r["id"]) for r in found if r["id"] not in not_hers}
    assert {(r["resourceType"], r["id"]) for r in mine} == everything_but_held
