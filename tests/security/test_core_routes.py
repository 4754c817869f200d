"""The core's patient-data routes, walked by the scope helper."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar

from tests.security.helper import PatientRoute, World, assert_route_scoped

# NEWS2 5 (medium): an alert for every care relation of the patient.
MEDIUM_NEWS2 = {
    "respirationRate": 22, "spo2": 95, "onOxygen": False, "systolic": 105, "pulse": 95, "consciousness": "A",
    "temperature": 37.0,
}  # fmt: skip


async def owner_has_an_alert(client: httpx.AsyncClient, world: World) -> dict[str, str]:
    response = await client.post(
        f"/clinician/v1/patients/{world.owner.patient_id}/news2", json=MEDIUM_NEWS2, headers=world.related.headers
    )
    assert response.status_code == 201, response.text
    return {"alertId": response.json()["alertId"]}


CORE_ROUTES = [
    PatientRoute("GET", "/clinician/v1/patients/{patientId}/care-relations", "clinician"),
    PatientRoute(
        "POST",
        "/clinician/v1/alerts/{alertId}/acknowledge",
        "clinician",
        setup=owner_has_an_alert,
        body=lambda world, params: {"note": "reviewed"},
    ),
    PatientRoute("GET", "/citizen/v1/me", "citizen"),
    PatientRoute("GET", "/citizen/v1/me/access-log", "citizen"),
    PatientRoute("GET", "/citizen/v1/me/blocks", "citizen"),
    PatientRoute("GET", "/citizen/v1/me/changes", "citizen"),
    PatientRoute("PUT", "/citizen/v1/me/blocks/12345", "citizen", ok=(204,)),
    PatientRoute("DELETE", "/citizen/v1/me/blocks/12345", "citizen", ok=(204,)),
    PatientRoute("PUT", "/citizen/v1/me/consents/pregnancy-card", "citizen", ok=(204,)),
    PatientRoute("DELETE", "/citizen/v1/me/consents/pregnancy-card", "citizen", ok=(204,)),
]


@pytest.mark.parametrize("route", CORE_ROUTES, ids=lambda route: route.id)
async def test_core_route_is_scoped(client: httpx.AsyncClient, app: Litestar, route: PatientRoute) -> None:
    await assert_route_scoped(client, app, route)
