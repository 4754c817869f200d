"""A FHIR lab report posted in comes out of /fhir/R4 equal in its clinical content, and the citizen's export holds
only what she sees: released reports, streamed as one collection Bundle."""

from __future__ import annotations

import uuid

import httpx
import msgspec
from fhir.resources.R4B.identifier import Identifier
from litestar import Litestar

from backend.labs.fhir import from_fhir
from backend.labs.schemas import Requester, build_report_out
from tests.factories import new_citizen, new_clinician, relate
from tests.fhir.world import FHIR_JSON, every_page, of_type, record, resources, valid
from tests.labs.reports import post_report, release
from tests.labs.test_fhir_mapping import as_json, crp, ferritin, haemoglobin, hbsag, report


async def test_a_fhir_lab_report_comes_out_as_it_went_in(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    report_id = uuid.uuid4()
    sent = as_json(report(haemoglobin(), ferritin(), crp(), hbsag(), identifier=[Identifier(value=str(report_id))]))
    posted = await post_report(client, gp, citizen.patient_id, sent, content_type=FHIR_JSON)
    assert posted.status_code == 201, posted.text

    [out] = await every_page(client, "/fhir/R4/DiagnosticReport", gp.headers, {"patient": str(citizen.patient_id)})
    assert out["id"] == str(report_id)
    assert out["subject"] == {"reference": f"Patient/{citizen.patient_id}"}
    came_in = msgspec.structs.replace(from_fhir(sent), requester=Requester(hpr=gp.hpr, organisation=gp.org))
    # The clinical content as shown (values, units, ranges, flags, notes, times, lab, requester) is the same.
    assert build_report_out(from_fhir(out)) == build_report_out(came_in)


async def test_the_export_streams_only_what_she_sees(client: httpx.AsyncClient, app: Litestar) -> None:
    her = await record(client, app)
    response = await client.get("/citizen/v1/me/export", headers=her.woman.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(FHIR_JSON)
    assert response.headers["content-disposition"].startswith("attachment")
    mine = [valid(resource) for resource in resources(valid(response.json()))]
    assert [r["id"] for r in of_type(mine, "DiagnosticReport")] == [her.released_report]
    assert her.held_report not in response.text
    # Once the requester releases it, the next download has it.
    await release(client, her.gp, her.woman.patient_id, her.held_report)
    again = (await client.get("/citizen/v1/me/export", headers=her.woman.headers)).json()
    assert {r["id"] for r in of_type(resources(again), "DiagnosticReport")} == {her.released_report, her.held_report}


async def test_a_new_citizen_exports_herself_alone(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    bundle = valid((await client.get("/citizen/v1/me/export", headers=citizen.headers)).json())
    [patient] = resources(bundle)
    assert patient["resourceType"] == "Patient"
    assert patient["id"] == str(citizen.patient_id)
    assert bundle["entry"][0]["fullUrl"].endswith(f"/fhir/R4/Patient/{citizen.patient_id}")
