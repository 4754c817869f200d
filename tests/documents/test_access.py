"""Who sees which document: look-back for other organisations, the citizen's restrictions and `restrictedCount`,
emergency access, documents hidden from the patient, and every read in her access log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from litestar import Litestar

from backend.core.clock import oslo_now
from tests.documents.helpers import documents_path, listing, my_documents, upload
from tests.factories import Citizen, new_citizen, new_clinician, relate


def _days_ago(days: int) -> str:
    return (oslo_now().date() - timedelta(days=days)).isoformat()


async def test_other_organisations_documents_reach_back_by_type_and_the_own_always(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    citizen = await new_citizen(client, app)
    hospital = new_clinician(app, org_kind="sykehus")
    gp = new_clinician(app)
    for clinician in (hospital, gp):
        await relate(client, clinician, citizen.patient_id)
    kept = {
        (await upload(client, hospital, citizen.patient_id, type=kind, date=_days_ago(days)))["id"]: visible
        for kind, days, visible in [
            ("epicrisis", 20 * 365, True),  # unlimited
            ("referral", 300, True),
            ("referral", 400, False),  # 1 year
            ("lab-report", 400, False),  # 1 year
            ("radiology-report", 4 * 365, True),
            ("radiology-report", 6 * 365, False),  # 5 years
        ]
    }
    seen_by_gp = {item["id"] for item in (await listing(client, gp, citizen.patient_id))["items"]}
    assert seen_by_gp == {document for document, visible in kept.items() if visible}
    seen_by_author = {item["id"] for item in (await listing(client, hospital, citizen.patient_id))["items"]}
    assert seen_by_author == set(kept)
    for document, visible in kept.items():
        got = await client.get(f"{documents_path(citizen.patient_id)}/{document}", headers=gp.headers)
        assert got.status_code == (200 if visible else 404)
    # The filters and the page size.
    only = await listing(client, gp, citizen.patient_id, type="referral")
    assert [item["type"] for item in only["items"]] == ["referral"]
    first = await listing(client, hospital, citizen.patient_id, limit=4)
    rest = await client.get(
        documents_path(citizen.patient_id), params={"limit": 4, "cursor": first["next"]}, headers=hospital.headers
    )
    ids = [item["id"] for item in first["items"] + rest.json()["items"]]
    assert len(ids) == len(set(ids)) == 6
    dates = [item["date"] for item in first["items"] + rest.json()["items"]]
    assert dates == sorted(dates, reverse=True)


async def _access_log(client: httpx.AsyncClient, citizen: Citizen) -> list[dict[str, Any]]:
    response = await client.get("/citizen/v1/me/access-log", headers=citizen.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_a_restricted_document_is_hidden_and_counted_and_emergency_access_sees_it_logged(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    citizen = await new_citizen(client, app)
    hospital = new_clinician(app, org_kind="sykehus")
    gp = new_clinician(app)
    for clinician in (hospital, gp):
        await relate(client, clinician, citizen.patient_id)
    secret = await upload(client, hospital, citizen.patient_id, title="Poliklinisk notat", type="outpatient-note")
    open_one = await upload(client, hospital, citizen.patient_id)

    restricted = await client.put(f"/citizen/v1/me/documents/{secret['id']}/restriction", headers=citizen.headers)
    assert restricted.status_code == 204, restricted.text
    assert {item["id"]: item["restricted"] for item in await my_documents(client, citizen)} == {
        secret["id"]: True,
        open_one["id"]: False,
    }

    page = await listing(client, gp, citizen.patient_id)
    assert [item["id"] for item in page["items"]] == [open_one["id"]]
    assert page["restrictedCount"] == 1
    hidden = await client.get(f"{documents_path(citizen.patient_id)}/{secret['id']}/content", headers=gp.headers)
    assert hidden.status_code == 404
    author_view = await listing(client, hospital, citizen.patient_id)
    assert {item["id"] for item in author_view["items"]} == {secret["id"], open_one["id"]}
    assert author_view["restrictedCount"] == 0

    doctor = new_clinician(app, org_kind="legevakt")
    opened = await client.post(
        f"/clinician/v1/patients/{citizen.patient_id}/emergency-access",
        json={"reason": "Bevisstløs pasient på legevakt, trenger journal"},
        headers=doctor.headers,
    )
    assert opened.status_code == 201, opened.text
    emergency_view = await listing(client, doctor, citizen.patient_id)
    assert {item["id"] for item in emergency_view["items"]} == {secret["id"], open_one["id"]}
    assert emergency_view["restrictedCount"] == 0
    read = await client.get(f"{documents_path(citizen.patient_id)}/{secret['id']}/content", headers=doctor.headers)
    assert read.status_code == 200
    log = await _access_log(client, citizen)
    assert {"hpr": doctor.hpr, "action": "read-content", "resourceId": secret["id"], "basis": "emergency"}.items() <= (
        next(entry for entry in log if entry["hpr"] == doctor.hpr and entry["action"] == "read-content").items()
    )

    lifted = await client.delete(f"/citizen/v1/me/documents/{secret['id']}/restriction", headers=citizen.headers)
    assert lifted.status_code == 204
    again = await listing(client, gp, citizen.patient_id)
    assert len(again["items"]) == 2
    assert again["restrictedCount"] == 0


async def test_a_document_hidden_from_the_patient_never_reaches_her(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    hospital = new_clinician(app, org_kind="sykehus")
    await relate(client, hospital, citizen.patient_id)
    hidden = await upload(
        client, hospital, citizen.patient_id, visibleToPatient=False, hiddenReason="Kan skade pasientens helse nå"
    )
    assert hidden["visibleToPatient"] is False
    assert hidden["hiddenReason"] == "Kan skade pasientens helse nå"

    assert await my_documents(client, citizen) == []
    for suffix in ("", "/content"):
        response = await client.get(f"/citizen/v1/me/documents/{hidden['id']}{suffix}", headers=citizen.headers)
        assert response.status_code == 404
    restrict = await client.put(f"/citizen/v1/me/documents/{hidden['id']}/restriction", headers=citizen.headers)
    assert restrict.status_code == 404
    changes = await client.get("/citizen/v1/me/changes", headers=citizen.headers)
    assert [item for item in changes.json()["items"] if item["resourceType"] == "document"] == []


async def test_every_listing_and_content_read_is_in_her_access_log(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    hospital = new_clinician(app, org_kind="sykehus")
    gp = new_clinician(app)
    for clinician in (hospital, gp):
        await relate(client, clinician, citizen.patient_id)
    document = await upload(client, hospital, citizen.patient_id)
    await listing(client, gp, citizen.patient_id)
    for _ in range(2):
        read = await client.get(f"{documents_path(citizen.patient_id)}/{document['id']}/content", headers=gp.headers)
        assert read.status_code == 200
    gp_rows = [
        (entry["action"], entry["resourceType"], entry["resourceId"], entry["basis"])
        for entry in await _access_log(client, citizen)
        if entry["hpr"] == gp.hpr and entry["resourceType"] == "document"
    ]
    assert gp_rows == [
        ("read-content", "document", document["id"], "care-relation"),
        ("read-content", "document", document["id"], "care-relation"),
        ("read", "document", None, "care-relation"),
    ]
