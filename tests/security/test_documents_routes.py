"""The journal documents' patient-data routes, walked by the scope helper; and a document id of another patient or
another organisation's restricted document never answers (404), while emergency access sees the restricted one."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar

from tests.documents.helpers import documents_path, fhir_document_reference, metadata, pdf, upload
from tests.factories import new_citizen, new_clinician, relate
from tests.security.helper import PatientRoute, World, assert_route_scoped


async def _owner_has_a_document(client: httpx.AsyncClient, world: World) -> dict[str, str]:
    document = await upload(client, world.related, world.owner.patient_id)
    return {"documentId": document["id"]}


DOCUMENT_ROUTES = [
    PatientRoute(
        "POST",
        "/clinician/v1/patients/{patientId}/documents",
        "clinician",
        ok=(201,),
        body=lambda world, params: fhir_document_reference(metadata(), pdf()),
    ),
    PatientRoute("GET", "/clinician/v1/patients/{patientId}/documents", "clinician"),
    PatientRoute(
        "GET", "/clinician/v1/patients/{patientId}/documents/{documentId}", "clinician", setup=_owner_has_a_document
    ),
    PatientRoute(
        "GET",
        "/clinician/v1/patients/{patientId}/documents/{documentId}/content",
        "clinician",
        setup=_owner_has_a_document,
    ),
    PatientRoute(
        "POST",
        "/clinician/v1/patients/{patientId}/documents/{documentId}/entered-in-error",
        "clinician",
        setup=_owner_has_a_document,
        body=lambda world, params: {"reason": "Feil pasient"},
    ),
    PatientRoute("GET", "/citizen/v1/me/documents", "citizen"),
    PatientRoute("GET", "/citizen/v1/me/documents/{documentId}", "citizen", setup=_owner_has_a_document),
    PatientRoute("GET", "/citizen/v1/me/documents/{documentId}/content", "citizen", setup=_owner_has_a_document),
    PatientRoute(
        "PUT", "/citizen/v1/me/documents/{documentId}/restriction", "citizen", ok=(204,), setup=_owner_has_a_document
    ),
    PatientRoute(
        "DELETE", "/citizen/v1/me/documents/{documentId}/restriction", "citizen", ok=(204,), setup=_owner_has_a_document
    ),
]


@pytest.mark.parametrize("route", DOCUMENT_ROUTES, ids=lambda route: route.id)
async def test_document_route_is_scoped(client: httpx.AsyncClient, app: Litestar, route: PatientRoute) -> None:
    await assert_route_scoped(client, app, route)


async def test_a_document_id_of_another_patient_is_not_found_through_mine(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    """BOLA: a clinician with access to patient A cannot reach patient B's document by putting its id under A."""
    mine, theirs = await new_citizen(client, app), await new_citizen(client, app)
    gp = new_clinician(app)
    hospital = new_clinician(app, org_kind="sykehus")
    await relate(client, gp, mine.patient_id)
    await relate(client, hospital, theirs.patient_id)
    document = await upload(client, hospital, theirs.patient_id)
    for suffix in ("", "/content"):
        through_mine = await client.get(
            f"{documents_path(mine.patient_id)}/{document['id']}{suffix}", headers=gp.headers
        )
        assert through_mine.status_code == 404
        direct = await client.get(f"{documents_path(theirs.patient_id)}/{document['id']}{suffix}", headers=gp.headers)
        assert direct.status_code == 404
        citizen = await client.get(f"/citizen/v1/me/documents/{document['id']}{suffix}", headers=mine.headers)
        assert citizen.status_code == 404
    retract = await client.post(
        f"{documents_path(mine.patient_id)}/{document['id']}/entered-in-error",
        json={"reason": "Feil pasient"},
        headers=gp.headers,
    )
    assert retract.status_code == 404
    restrict = await client.put(f"/citizen/v1/me/documents/{document['id']}/restriction", headers=mine.headers)
    assert restrict.status_code == 404


async def test_a_restricted_document_is_not_found_by_another_organisation_but_by_emergency_access(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    citizen = await new_citizen(client, app)
    hospital = new_clinician(app, org_kind="sykehus")
    gp = new_clinician(app)
    for clinician in (hospital, gp):
        await relate(client, clinician, citizen.patient_id)
    document = await upload(client, hospital, citizen.patient_id)
    assert (
        await client.put(f"/citizen/v1/me/documents/{document['id']}/restriction", headers=citizen.headers)
    ).status_code == 204
    doctor = new_clinician(app, org_kind="legevakt")
    before = await client.get(f"{documents_path(citizen.patient_id)}/{document['id']}", headers=doctor.headers)
    assert before.status_code == 404  # no relation and no emergency access yet
    opened = await client.post(
        f"/clinician/v1/patients/{citizen.patient_id}/emergency-access",
        json={"reason": "Akutt innleggelse, trenger journaldokumenter"},
        headers=doctor.headers,
    )
    assert opened.status_code == 201
    for suffix in ("", "/content"):
        path = f"{documents_path(citizen.patient_id)}/{document['id']}{suffix}"
        assert (await client.get(path, headers=gp.headers)).status_code == 404
        assert (await client.get(path, headers=hospital.headers)).status_code == 200
        assert (await client.get(path, headers=doctor.headers)).status_code == 200
