"""Each municipality is data controller of its own services: a reader sees her own municipality's, her legevakt
district's and the nationally sharing ones'; the rest are only counted. The citizen sees all of hers."""

from __future__ import annotations

import uuid

import httpx
from litestar import Litestar

from tests.factories import new_citizen, new_clinician, relate
from tests.municipal.factories import BAERUM, BERGEN, BODO, OSLO, put_service, service_body, sharing


async def _services_from(client: httpx.AsyncClient, app: Litestar, patient_id: uuid.UUID) -> dict[str, str]:
    """One service from each of four municipalities, each written by its own home care service."""
    made = {}
    for municipality, code in (
        (OSLO, "home-nursing"),
        (BAERUM, "safety-alarm"),
        (BERGEN, "day-centre"),
        (BODO, "physiotherapy"),
    ):
        writer = new_clinician(app, org_kind="hjemmetjeneste", authorization="SP", municipality=municipality)
        await relate(client, writer, patient_id)
        response = await put_service(client, writer, patient_id, service_body(code))
        assert response.status_code == 201, response.text
        made[municipality] = code
    return made


async def test_readers_see_own_district_and_sharing_municipalities_and_only_count_the_rest(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    patient = await new_citizen(client, app)
    await _services_from(client, app, patient.patient_id)
    legevakt = new_clinician(app, org_kind="legevakt", municipality=OSLO)
    gp_in_bodo = new_clinician(app, org_kind="fastlege", municipality=BODO)
    hospital = new_clinician(app, org_kind="sykehus", municipality=None)
    for reader in (legevakt, gp_in_bodo, hospital):
        await relate(client, reader, patient.patient_id)
    path = f"/clinician/v1/patients/{patient.patient_id}/municipal-services"

    def seen(body: dict[str, object]) -> set[str]:
        return {item["municipality"] for item in body["items"]}  # type: ignore[attr-defined,index]

    with sharing(app, districts={legevakt.org: [OSLO, BAERUM]}, national=(BERGEN,)):
        by_legevakt = (await client.get(path, headers=legevakt.headers)).json()
        by_gp = (await client.get(path, headers=gp_in_bodo.headers)).json()
        by_hospital = (await client.get(path, headers=hospital.headers)).json()
    assert seen(by_legevakt) == {OSLO, BAERUM, BERGEN}
    assert by_legevakt["otherMunicipalitiesCount"] == 1
    assert seen(by_gp) == {BODO, BERGEN}
    assert by_gp["otherMunicipalitiesCount"] == 2
    assert seen(by_hospital) == {BERGEN}
    assert by_hospital["otherMunicipalitiesCount"] == 3

    with sharing(app):  # no districts, nobody sharing: the legevakt sees only Oslo's
        alone = (await client.get(path, headers=legevakt.headers)).json()
    assert seen(alone) == {OSLO}
    assert alone["otherMunicipalitiesCount"] == 3


async def test_the_history_of_another_municipalitys_service_is_not_found(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    patient = await new_citizen(client, app)
    bodo = new_clinician(app, org_kind="hjemmetjeneste", authorization="SP", municipality=BODO)
    reader = new_clinician(app, org_kind="fastlege", municipality=OSLO)
    for clinician in (bodo, reader):
        await relate(client, clinician, patient.patient_id)
    service_id = uuid.uuid4()
    assert (await put_service(client, bodo, patient.patient_id, service_body(), service_id)).status_code == 201
    path = f"/clinician/v1/patients/{patient.patient_id}/municipal-services/{service_id}/history"
    assert (await client.get(path, headers=reader.headers)).status_code == 404
    assert (await client.get(path, headers=bodo.headers)).status_code == 200


async def test_the_citizen_sees_all_her_services_with_whom_to_call_and_nobody_elses(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    patient = await new_citizen(client, app)
    other = await new_citizen(client, app)
    made = await _services_from(client, app, patient.patient_id)
    mine = await client.get("/citizen/v1/me/municipal-services", headers=patient.headers)
    assert mine.status_code == 200, mine.text
    items = mine.json()["items"]
    assert {item["municipality"]: item["service"] for item in items} == made
    assert all(item["provider"]["phone"] == "+47 23 40 50 60" and item["provider"]["hours"] == "24/7" for item in items)
    theirs = await client.get("/citizen/v1/me/municipal-services", headers=other.headers)
    assert theirs.json()["items"] == []
