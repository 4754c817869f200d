"""Municipal services and the legevakt overview, walked by the scope helper; plus what the helper cannot see:
one patient's service never reached through another's path, and only the municipality's kinds write."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest
from litestar import Litestar

from backend.core.auth import ORG_KINDS
from backend.core.relations import ATTESTABLE
from backend.municipal.service import WRITER_ORG_KINDS
from tests.factories import new_citizen, new_clinician, relate
from tests.municipal.factories import put_service, service_body
from tests.security.helper import PatientRoute, World, assert_route_scoped


async def _owner_has_a_service(client: httpx.AsyncClient, world: World) -> dict[str, str]:
    """The related clinician is of the home care service (the route's org kind): it writes one."""
    service_id = uuid.uuid4()
    response = await put_service(client, world.related, world.owner.patient_id, service_body(), service_id)
    assert response.status_code == 201, response.text
    return {"serviceId": str(service_id)}


MUNICIPAL_ROUTES = [
    PatientRoute(
        "PUT",
        "/clinician/v1/patients/{patientId}/municipal-services/" + str(uuid.UUID(int=16)),
        "clinician",
        ok=(201,),
        org_kind="hjemmetjeneste",
        authorization="SP",
        body=lambda world, params: service_body(),
    ),
    PatientRoute("GET", "/clinician/v1/patients/{patientId}/municipal-services", "clinician", org_kind="legevakt"),
    PatientRoute(
        "GET",
        "/clinician/v1/patients/{patientId}/municipal-services/{serviceId}/history",
        "clinician",
        setup=_owner_has_a_service,
        org_kind="hjemmetjeneste",
        authorization="SP",
    ),
    PatientRoute("GET", "/clinician/v1/patients/{patientId}/overview", "clinician", org_kind="legevakt"),
    PatientRoute("GET", "/citizen/v1/me/municipal-services", "citizen"),
]


@pytest.mark.parametrize("route", MUNICIPAL_ROUTES, ids=lambda route: route.id)
async def test_municipal_route_is_scoped(client: httpx.AsyncClient, app: Litestar, route: PatientRoute) -> None:
    await assert_route_scoped(client, app, route)


async def test_a_service_is_reached_only_through_its_own_patient(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    first, second = await new_citizen(client, app), await new_citizen(client, app)
    writer = new_clinician(app, org_kind="kommune", authorization="SP")
    for patient in (first, second):
        await relate(client, writer, patient.patient_id)
    service_id = uuid.uuid4()
    assert (await put_service(client, writer, first.patient_id, service_body(), service_id)).status_code == 201
    other_path = f"/clinician/v1/patients/{second.patient_id}/municipal-services/{service_id}/history"
    assert (await client.get(other_path, headers=writer.headers)).status_code == 404
    listed = await client.get(f"/clinician/v1/patients/{second.patient_id}/municipal-services", headers=writer.headers)
    assert listed.json() == {"items": [], "otherMunicipalitiesCount": 0}
    overview = await client.get(f"/clinician/v1/patients/{second.patient_id}/overview", headers=writer.headers)
    assert overview.json()["municipalServices"] == []
    # The same decision id under the other patient is that patient's own record, not a change of the first.
    again = await put_service(client, writer, second.patient_id, service_body(status="ended"), service_id)
    assert again.status_code == 201
    assert (
        await db.fetchval(
            "SELECT status FROM municipal_service WHERE patient_id = $1 AND id = $2", first.patient_id, service_id
        )
        == "active"
    )


@pytest.mark.parametrize("org_kind", ORG_KINDS)
async def test_only_kommune_and_hjemmetjeneste_write_services(
    client: httpx.AsyncClient, app: Litestar, org_kind: str
) -> None:
    patient = await new_citizen(client, app)
    writer = new_clinician(app, org_kind=org_kind, authorization="SP")
    if ATTESTABLE[org_kind]:  # a laboratory and a pharmacy treat no one: no relation, and still no write
        await relate(client, writer, patient.patient_id, next(iter(ATTESTABLE[org_kind])))
    response = await put_service(client, writer, patient.patient_id)
    assert response.status_code == (201 if org_kind in WRITER_ORG_KINDS else 403), response.text
