"""Måledata's patient-data routes, walked by the scope helper."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar

from tests.measurements.factories import bp_item, value_item
from tests.security.helper import PatientRoute, World, assert_route_scoped

NEWS2_SET = {
    "respirationRate": 22, "spo2": 95, "onOxygen": False, "systolic": 105, "pulse": 95,
    "consciousness": "A", "temperature": 37.2,
}  # fmt: skip


async def owner_has_measurements(client: httpx.AsyncClient, world: World) -> dict[str, str]:
    response = await client.post(
        "/citizen/v1/me/measurements", json={"items": [bp_item(), value_item()]}, headers=world.owner.headers
    )
    assert response.status_code == 200, response.text
    return {}


def batch(world: World, params: dict[str, str]) -> dict[str, object]:
    return {"items": [bp_item(), value_item()]}


MEASUREMENT_ROUTES = [
    PatientRoute("GET", "/citizen/v1/me/measurements", "citizen", setup=owner_has_measurements),
    PatientRoute("GET", "/citizen/v1/me/measurements?code=85354-9", "citizen", setup=owner_has_measurements),
    PatientRoute("GET", "/citizen/v1/me/measurements/series?code=85354-9", "citizen", setup=owner_has_measurements),
    PatientRoute("POST", "/citizen/v1/me/measurements", "citizen", body=batch),
    PatientRoute("GET", "/clinician/v1/patients/{patientId}/measurements", "clinician", setup=owner_has_measurements),
    PatientRoute(
        "GET",
        "/clinician/v1/patients/{patientId}/measurements/series?code=29463-7",
        "clinician",
        setup=owner_has_measurements,
    ),
    PatientRoute(
        "POST", "/clinician/v1/patients/{patientId}/measurements", "clinician", body=batch, org_kind="hjemmetjeneste"
    ),
    PatientRoute(
        "POST",
        "/clinician/v1/patients/{patientId}/news2",
        "clinician",
        ok=(201,),
        body=lambda world, params: NEWS2_SET,
        org_kind="legevakt",
    ),
    PatientRoute("GET", "/clinician/v1/patients/{patientId}/spo2-target", "clinician", authorization="SP"),
    PatientRoute(
        "PUT",
        "/clinician/v1/patients/{patientId}/spo2-target",
        "clinician",
        body=lambda world, params: {"target": "88-92"},
        org_kind="sykehus",
    ),
    PatientRoute("DELETE", "/clinician/v1/patients/{patientId}/spo2-target", "clinician", ok=(204,)),
]


@pytest.mark.parametrize("route", MEASUREMENT_ROUTES, ids=lambda route: route.id)
async def test_measurement_route_is_scoped(client: httpx.AsyncClient, app: Litestar, route: PatientRoute) -> None:
    await assert_route_scoped(client, app, route)
