"""Issue 15's "done when", end to end through the API: a GP in one municipality reads a hospital's epicrisis for her
patient; the patient sees the document and that the GP read it; she restricts another one; and the GP's list
then says one document is restricted."""

from __future__ import annotations

import httpx
from litestar import Litestar

from tests.documents.helpers import documents_path, listing, my_documents, pdf, upload
from tests.factories import new_citizen, new_clinician, relate


async def test_a_gp_reads_the_hospitals_epicrisis_the_patient_sees_it_and_restricts_another(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    patient = await new_citizen(client, app)
    hospital = new_clinician(app, org_kind="sykehus", name="Lege Ingrid Berg")
    gp = new_clinician(app, org_kind="fastlege", name="Fastlege Ola Hansen")
    for clinician in (hospital, gp):
        await relate(client, clinician, patient.patient_id)
    content = pdf("Epikrise, kardiologisk avdeling")
    epicrisis = await upload(client, hospital, patient.patient_id, content, title="Epikrise, kardiologisk avdeling")
    note = await upload(client, hospital, patient.patient_id, type="outpatient-note", title="Poliklinisk notat")

    # The GP finds the epicrisis among the hospital's documents and reads it.
    page = await listing(client, gp, patient.patient_id, type="epicrisis")
    assert [item["id"] for item in page["items"]] == [epicrisis["id"]]
    assert page["items"][0]["organisation"] == hospital.org
    read = await client.get(f"{documents_path(patient.patient_id)}/{epicrisis['id']}/content", headers=gp.headers)
    assert read.status_code == 200
    assert read.content == content

    # The patient sees the document, and that the GP read it.
    assert {item["id"] for item in await my_documents(client, patient)} == {epicrisis["id"], note["id"]}
    log = (await client.get("/citizen/v1/me/access-log", headers=patient.headers)).json()["items"]
    assert any(
        entry["hpr"] == gp.hpr
        and entry["name"] == "Fastlege Ola Hansen"
        and entry["organisation"] == gp.org
        and entry["action"] == "read-content"
        and entry["resourceType"] == "document"
        and entry["resourceId"] == epicrisis["id"]
        for entry in log
    )

    # She restricts the outpatient note; the GP's list then says one document is restricted.
    restricted = await client.put(f"/citizen/v1/me/documents/{note['id']}/restriction", headers=patient.headers)
    assert restricted.status_code == 204
    after = await listing(client, gp, patient.patient_id)
    assert [item["id"] for item in after["items"]] == [epicrisis["id"]]
    assert after["restrictedCount"] == 1
