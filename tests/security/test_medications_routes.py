"""The medication list's patient-data routes, walked by the scope helper."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar

from tests.medications.factories import entry
from tests.security.helper import PatientRoute, World, assert_route_scoped


async def _owner_has_an_entry(client: httpx.AsyncClient, world: World) -> dict[str, str]:
    item = entry()
    response = await client.put(
        f"/clinician/v1/patients/{world.owner.patient_id}/medications",
        json={"entries": [item]},
        headers={**world.related.headers, "If-Match": '"0"'},
    )
    assert response.status_code == 200, response.text
    return {"entryId": item["id"]}


async def _owner_has_a_version(client: httpx.AsyncClient, world: World) -> dict[str, str]:
    await _owner_has_an_entry(client, world)
    return {"version": "1"}


MEDICATION_ROUTES = [
    PatientRoute("GET", "/clinician/v1/patients/{patientId}/medications", "clinician"),
    PatientRoute(
        "PUT",
        "/clinician/v1/patients/{patientId}/medications",
        "clinician",
        body=lambda world, params: {"entries": [entry()]},
        headers=lambda world, params: {"If-Match": '"0"'},
    ),
    PatientRoute("GET", "/clinician/v1/patients/{patientId}/medications/history", "clinician"),
    PatientRoute("GET", "/clinician/v1/patients/{patientId}/medications/history/0", "clinician"),
    PatientRoute(
        "POST",
        "/clinician/v1/patients/{patientId}/medications/reconciliations",
        "clinician",
        ok=(201,),
        body=lambda world, params: {"sources": ["patient"]},
    ),
    PatientRoute("GET", "/clinician/v1/patients/{patientId}/medications/discrepancies", "clinician"),
    PatientRoute("GET", "/citizen/v1/me/medications", "citizen"),
    PatientRoute("GET", "/citizen/v1/me/medications/history", "citizen"),
    PatientRoute("GET", "/citizen/v1/me/medications/history/{version}", "citizen", setup=_owner_has_a_version),
    PatientRoute(
        "POST",
        "/citizen/v1/me/medications/{entryId}/discrepancies",
        "citizen",
        ok=(201,),
        setup=_owner_has_an_entry,
        body=lambda world, params: {"kind": "not-taking"},
    ),
]


@pytest.mark.parametrize("route", MEDICATION_ROUTES, ids=lambda route: route.id)
async def test_medication_route_is_scoped(client: httpx.AsyncClient, app: Litestar, route: PatientRoute) -> None:
    await assert_route_scoped(client, app, route)
