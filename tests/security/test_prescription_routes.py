"""The prescriptions' patient-data routes, walked by the scope helper; and the pharmacy and the citizen across
patients, which the helper's world (a care relation, a block) does not describe."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from litestar import Litestar

from tests.factories import bearer, block, new_citizen
from tests.medications.factories import (
    entry,
    patient_with_prescription,
    pharmacy,
    prescription_body,
    prescriptions_url,
)
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


async def _owner_has_a_prescription(client: httpx.AsyncClient, world: World) -> dict[str, str]:
    params = await _owner_has_an_entry(client, world)
    response = await client.post(
        prescriptions_url(world.owner.patient_id),
        json=prescription_body(params["entryId"]),
        headers=world.related.headers,
    )
    assert response.status_code == 201, response.text
    return {**params, "prescriptionId": response.json()["id"]}


async def _owner_asked_for_renewal(client: httpx.AsyncClient, world: World) -> dict[str, str]:
    params = await _owner_has_a_prescription(client, world)
    response = await client.post(
        f"/citizen/v1/me/prescriptions/{params['prescriptionId']}/renewal-requests",
        json={},
        headers=world.owner.headers,
    )
    assert response.status_code == 201, response.text
    return {**params, "requestId": response.json()["id"]}


PRESCRIPTION_ROUTES = [
    PatientRoute(
        "POST",
        "/clinician/v1/patients/{patientId}/prescriptions",
        "clinician",
        ok=(201,),
        setup=_owner_has_an_entry,
        body=lambda world, params: prescription_body(params["entryId"]),
    ),
    PatientRoute("GET", "/clinician/v1/patients/{patientId}/prescriptions", "clinician"),
    PatientRoute(
        "POST",
        "/clinician/v1/patients/{patientId}/prescriptions/{prescriptionId}/cancel",
        "clinician",
        setup=_owner_has_a_prescription,
        body=lambda world, params: {"reason": "Feil dose"},
    ),
    PatientRoute(
        "POST",
        "/clinician/v1/renewal-requests/{requestId}/approve",
        "clinician",
        setup=_owner_asked_for_renewal,
        body=lambda world, params: {},
    ),
    PatientRoute(
        "POST",
        "/clinician/v1/renewal-requests/{requestId}/decline",
        "clinician",
        setup=_owner_asked_for_renewal,
        body=lambda world, params: {"reason": "Trenger kontroll"},
    ),
    PatientRoute("GET", "/citizen/v1/me/prescriptions", "citizen"),
    PatientRoute(
        "POST",
        "/citizen/v1/me/prescriptions/{prescriptionId}/renewal-requests",
        "citizen",
        ok=(201,),
        setup=_owner_has_a_prescription,
        body=lambda world, params: {"note": "Snart tom"},
    ),
    PatientRoute("GET", "/citizen/v1/me/renewal-requests", "citizen"),
]


@pytest.mark.parametrize("route", PRESCRIPTION_ROUTES, ids=lambda route: route.id)
async def test_prescription_route_is_scoped(client: httpx.AsyncClient, app: Litestar, route: PatientRoute) -> None:
    await assert_route_scoped(client, app, route)


# --- the pharmacy: any existing patient, only her own prescriptions, nothing else -----------------------------


def _dispensing() -> dict[str, Any]:
    return {"quantity": {"amount": 30, "unit": "tablett"}, "at": datetime.now(UTC).isoformat()}


PHARMACY_ROUTES = [
    ("GET", "/clinician/v1/patients/{patientId}/prescriptions", None, 200),
    ("POST", "/clinician/v1/patients/{patientId}/prescriptions/{prescriptionId}/dispensings", _dispensing, 201),
]


@pytest.mark.parametrize(("method", "path", "body", "ok"), PHARMACY_ROUTES, ids=["list", "dispense"])
async def test_pharmacy_route_is_scoped(
    client: httpx.AsyncClient, app: Litestar, method: str, path: str, body: Any, ok: int
) -> None:
    patient, _, made = await patient_with_prescription(client, app)
    other, _, others = await patient_with_prescription(client, app)
    chemist = pharmacy(app)

    async def call(patient_id: uuid.UUID, prescription_id: str, headers: dict[str, str]) -> httpx.Response:
        url = path.format(patientId=patient_id, prescriptionId=prescription_id)
        return await client.request(method, url, json=body() if body else None, headers=headers)

    def refused(response: httpx.Response, status: int, who: str) -> None:
        assert response.status_code == status, f"{who}: {response.status_code} {response.text}"
        assert set(response.json()) <= {"type", "title", "status", "detail", "instance", "requestId"}, who

    refused(await call(patient.id, made["id"], {}), 401, "no token")
    refused(await call(patient.id, made["id"], bearer(chemist.token[:-4] + "AAAA")), 401, "forged token")
    refused(await call(patient.id, made["id"], patient.citizen.headers), 403, "a citizen token")
    refused(await call(uuid.uuid4(), made["id"], chemist.headers), 404, "a patient that does not exist")
    if "{prescriptionId}" in path:
        # Another patient's prescription through this patient's URL, and this one's through the other's: 404.
        refused(await call(patient.id, others["id"], chemist.headers), 404, "another patient's prescription")
        refused(await call(other.id, made["id"], chemist.headers), 404, "this prescription in another's URL")
    else:
        listed = await call(other.id, made["id"], chemist.headers)
        assert [p["id"] for p in listed.json()["items"]] == [others["id"]]
    # A block does not stop a pharmacy (any pharmacy dispenses her prescriptions).
    await block(client, patient.citizen, chemist)
    response = await call(patient.id, made["id"], chemist.headers)
    assert response.status_code == ok, response.text


async def test_the_citizen_reaches_only_her_own_prescriptions(client: httpx.AsyncClient, app: Litestar) -> None:
    patient, _, made = await patient_with_prescription(client, app)
    stranger = await new_citizen(client, app)
    theirs = await client.get("/citizen/v1/me/prescriptions", headers=stranger.headers)
    assert theirs.json()["items"] == []
    asked = await client.post(
        f"/citizen/v1/me/prescriptions/{made['id']}/renewal-requests", json={}, headers=stranger.headers
    )
    assert asked.status_code == 404, asked.text
    mine = await client.post(
        f"/citizen/v1/me/prescriptions/{made['id']}/renewal-requests", json={}, headers=patient.citizen.headers
    )
    assert mine.status_code == 201, mine.text
    assert (await client.get("/citizen/v1/me/renewal-requests", headers=stranger.headers)).json()["items"] == []


async def test_a_blocked_gp_sees_no_request_of_hers_in_the_inbox(client: httpx.AsyncClient, app: Litestar) -> None:
    from tests.factories import new_clinician

    patient, _, made = await patient_with_prescription(client, app)
    colleague = new_clinician(app, org=patient.gp.org)
    await block(client, patient.citizen, colleague)
    asked = await client.post(
        f"/citizen/v1/me/prescriptions/{made['id']}/renewal-requests", json={}, headers=patient.citizen.headers
    )
    assert asked.status_code == 201, asked.text
    seen = await client.get("/clinician/v1/renewal-requests", headers=colleague.headers)
    assert seen.json()["items"] == []
    gp_sees = await client.get("/clinician/v1/renewal-requests", headers=patient.gp.headers)
    assert [item["id"] for item in gp_sees.json()["items"]] == [asked.json()["id"]]
