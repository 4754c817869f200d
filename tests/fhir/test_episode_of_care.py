"""Municipal services as EpisodeOfCare: searched like every type, the sharing rule of the municipal API kept."""

from __future__ import annotations

import uuid

import httpx
from litestar import Litestar

from tests.factories import new_citizen, new_clinician, relate
from tests.fhir.world import fhir_get, resources, valid
from tests.municipal.factories import BERGEN, put_service, service_body


async def test_services_are_episodes_of_care_only_for_readers_their_municipality_shares_with(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    patient = await new_citizen(client, app)
    office = new_clinician(app, org_kind="kommune", authorization="SP")
    gp = new_clinician(app)  # in Oslo, the service's municipality
    far_gp = new_clinician(app, municipality=BERGEN)
    for clinician in (office, gp, far_gp):
        await relate(client, clinician, patient.patient_id)
    nursing, alarm = uuid.uuid4(), uuid.uuid4()
    body = service_body(until="2027-05-31")
    assert (await put_service(client, office, patient.patient_id, body, nursing)).status_code == 201
    paused = service_body("safety-alarm", status="paused", from_="2026-09-01")
    assert (await put_service(client, office, patient.patient_id, paused, alarm)).status_code == 201

    params = {"patient": str(patient.patient_id)}
    found = [valid(r) for r in resources(await fhir_get(client, "/fhir/R4/EpisodeOfCare", gp.headers, params))]
    by_id = {resource["id"]: resource for resource in found}
    assert set(by_id) == {str(nursing), str(alarm)}
    episode = by_id[str(nursing)]
    assert episode["status"] == "active"
    assert episode["type"][0]["coding"][0]["code"] == "home-nursing"
    assert episode["type"][0]["coding"][0]["display"] == "Hjemmesykepleie"
    assert episode["period"] == {"start": "2026-06-01", "end": "2027-05-31"}
    assert episode["patient"] == {"reference": f"Patient/{patient.patient_id}"}
    assert episode["managingOrganization"]["identifier"]["value"] == "0301"
    assert by_id[str(alarm)]["status"] == "onhold"

    only_alarm = await fhir_get(client, "/fhir/R4/EpisodeOfCare", gp.headers, {**params, "code": "safety-alarm"})
    assert [r["id"] for r in resources(only_alarm)] == [str(alarm)]
    before_alarm = await fhir_get(client, "/fhir/R4/EpisodeOfCare", gp.headers, {**params, "date": "le2026-08-01"})
    assert [r["id"] for r in resources(before_alarm)] == [str(nursing)]

    # Bergen does not share with Oslo's services: nothing, as in the municipal API (which only counts them).
    assert resources(await fhir_get(client, "/fhir/R4/EpisodeOfCare", far_gp.headers, params)) == []

    export = await client.get("/citizen/v1/me/export", headers=patient.headers)
    assert export.status_code == 200, export.text
    mine = [valid(r) for r in resources(export.json()) if r["resourceType"] == "EpisodeOfCare"]
    assert {r["id"] for r in mine} == {str(nursing), str(alarm)}
