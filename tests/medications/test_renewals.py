"""Renewal requests ("forny resept"): the citizen asks once at a time, the GP's inbox, approve and decline, who may
answer, and the reminder 30 days before a prescription expires, sent once even with several workers."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar

from backend.core.clock import OSLO
from backend.jobs import WORKER_JOBS
from backend.settings import Settings
from tests.factories import Citizen, new_clinician
from tests.medications.factories import (
    Patient,
    dispense,
    patient_with_prescription,
    pharmacy,
    prescriptions_url,
    related_clinician,
)


async def ask(
    client: httpx.AsyncClient,
    citizen: Citizen,
    prescription_id: str,
    headers: dict[str, str] | None = None,
    **body: Any,
) -> httpx.Response:
    return await client.post(
        f"/citizen/v1/me/prescriptions/{prescription_id}/renewal-requests",
        json=body,
        headers={**citizen.headers, **(headers or {})},
    )


async def asked(client: httpx.AsyncClient, patient: Patient, prescription_id: str) -> dict[str, Any]:
    response = await ask(client, patient.citizen, prescription_id, note="Trenger mer")
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def requests_stored(db: asyncpg.Connection, patient_id: uuid.UUID) -> int:
    count: int = await db.fetchval("SELECT count(*) FROM renewal_request WHERE patient_id = $1", patient_id)
    return count


async def test_one_pending_request_at_a_time_and_the_idempotency_key_replays(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    patient, _, made = await patient_with_prescription(client, app)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await ask(client, patient.citizen, made["id"], key, note="Snart tom")
    replay = await ask(client, patient.citizen, made["id"], key, note="Snart tom")
    assert (first.status_code, replay.status_code) == (201, 201)
    assert first.json() == replay.json()
    second = await ask(client, patient.citizen, made["id"])
    assert second.status_code == 409, second.text
    assert await requests_stored(db, patient.id) == 1


async def test_concurrent_requests_for_one_prescription_make_one(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    patient, _, made = await patient_with_prescription(client, app)
    answers = await asyncio.gather(*(ask(client, patient.citizen, made["id"]) for _ in range(5)))
    assert sorted(answer.status_code for answer in answers) == [201, 409, 409, 409, 409]
    assert await requests_stored(db, patient.id) == 1


async def test_a_cancelled_prescription_or_another_citizens_is_not_renewed(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    patient, _, made = await patient_with_prescription(client, app)
    other, _, others = await patient_with_prescription(client, app)
    assert (await ask(client, patient.citizen, others["id"])).status_code == 404
    assert (await ask(client, patient.citizen, str(uuid.uuid4()))).status_code == 404
    cancel = await client.post(
        prescriptions_url(patient.id, f"/{made['id']}/cancel"), json={"reason": "Seponert"}, headers=patient.gp.headers
    )
    assert cancel.status_code == 200, cancel.text
    refused = await ask(client, patient.citizen, made["id"])
    assert refused.status_code == 409, refused.text
    too_long = await ask(client, other.citizen, others["id"], note="x" * 2001)
    assert too_long.status_code == 400, too_long.text
    assert await requests_stored(db, patient.id) == 0
    assert await requests_stored(db, other.id) == 0


async def test_the_inbox_holds_the_practices_patients_only(client: httpx.AsyncClient, app: Litestar) -> None:
    patient, _, made = await patient_with_prescription(client, app)
    request = await asked(client, patient, made["id"])
    colleague = new_clinician(app, org=patient.gp.org)
    other_practice = new_clinician(app)
    hospital = await related_clinician(client, app, patient, org_kind="sykehus", authorization="LE")
    for clinician, expected in ((colleague, [request["id"]]), (other_practice, []), (hospital, [])):
        inbox = await client.get("/clinician/v1/renewal-requests", headers=clinician.headers)
        assert inbox.status_code == 200, inbox.text
        assert [item["id"] for item in inbox.json()["items"]] == expected
    assert inbox.json()["next"] is None
    approved = await client.get("/clinician/v1/renewal-requests?status=approved", headers=colleague.headers)
    assert approved.json()["items"] == []
    wrong = await client.get("/clinician/v1/renewal-requests?status=maybe", headers=colleague.headers)
    assert wrong.status_code == 400


async def test_decline_with_a_reason_she_reads(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    patient, _, made = await patient_with_prescription(client, app)
    request = await asked(client, patient, made["id"])
    url = f"/clinician/v1/renewal-requests/{request['id']}/decline"
    no_reason = await client.post(url, json={"reason": " "}, headers=patient.gp.headers)
    assert no_reason.status_code == 400, no_reason.text
    declined = await client.post(url, json={"reason": "Trenger kontroll først"}, headers=patient.gp.headers)
    assert declined.status_code == 200, declined.text
    mine = await client.get("/citizen/v1/me/renewal-requests", headers=patient.citizen.headers)
    [answer] = mine.json()["items"]
    assert (answer["status"], answer["declineReason"]) == ("declined", "Trenger kontroll først")
    assert answer["answeredBy"]["hpr"] == patient.gp.hpr
    again = await client.post(
        f"/clinician/v1/renewal-requests/{request['id']}/approve", json={}, headers=patient.gp.headers
    )
    assert again.status_code == 409, again.text
    # The prescription itself is unchanged, and she may ask again.
    assert await db.fetchval("SELECT cancelled_at FROM prescription WHERE id = $1", uuid.UUID(made["id"])) is None
    assert (await ask(client, patient.citizen, made["id"])).status_code == 201


async def test_approve_with_validity_and_dispensings(client: httpx.AsyncClient, app: Litestar) -> None:
    patient, _, made = await patient_with_prescription(client, app)
    request = await asked(client, patient, made["id"])
    valid_until = datetime.now(UTC).astimezone(OSLO).date() + timedelta(days=90)
    url = f"/clinician/v1/renewal-requests/{request['id']}/approve"
    too_far = await client.post(url, json={"validUntil": "2099-01-01"}, headers=patient.gp.headers)
    assert too_far.status_code == 400, too_far.text
    approved = await client.post(
        url, json={"validUntil": str(valid_until), "dispensings": 6}, headers=patient.gp.headers
    )
    assert approved.status_code == 200, approved.text
    rows = {
        p["id"]: p
        for p in (await client.get(prescriptions_url(patient.id), headers=patient.gp.headers)).json()["items"]
    }
    new = rows[approved.json()["newPrescriptionId"]]
    assert (new["validUntil"], new["dispensings"], new["dosageText"]) == (str(valid_until), 6, made["dosageText"])
    assert rows[made["id"]]["status"] == "cancelled"


@pytest.mark.parametrize(("authorization", "status"), [("SP", 403), ("JO", 403)])
async def test_only_an_le_answers(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, authorization: str, status: int
) -> None:
    patient, _, made = await patient_with_prescription(client, app)
    request = await asked(client, patient, made["id"])
    nurse = new_clinician(app, org=patient.gp.org, authorization=authorization)
    response = await client.post(
        f"/clinician/v1/renewal-requests/{request['id']}/approve", json={}, headers=nurse.headers
    )
    assert response.status_code == status, response.text
    row = await db.fetchrow("SELECT basis, refusal FROM audit_log WHERE hpr = $1", nurse.hpr)
    assert (row["basis"], row["refusal"]) == ("denied", "role")
    assert await db.fetchval("SELECT status FROM renewal_request WHERE id = $1", uuid.UUID(request["id"])) == "pending"


async def test_a_doctor_without_access_or_an_unknown_request_is_404(client: httpx.AsyncClient, app: Litestar) -> None:
    patient, _, made = await patient_with_prescription(client, app)
    request = await asked(client, patient, made["id"])
    stranger = new_clinician(app)
    for request_id in (request["id"], str(uuid.uuid4())):
        response = await client.post(
            f"/clinician/v1/renewal-requests/{request_id}/approve", json={}, headers=stranger.headers
        )
        assert response.status_code == 404, response.text
    chemist = pharmacy(app)
    refused = await client.post(
        f"/clinician/v1/renewal-requests/{request['id']}/decline", json={"reason": "Nei"}, headers=chemist.headers
    )
    assert refused.status_code == 403, refused.text


async def test_approving_a_request_whose_entry_was_stopped_is_409(client: httpx.AsyncClient, app: Litestar) -> None:
    patient, item, made = await patient_with_prescription(client, app)
    request = await asked(client, patient, made["id"])
    today = datetime.now(UTC).astimezone(OSLO).date()
    stop = await client.put(
        f"/clinician/v1/patients/{patient.id}/medications",
        json={"entries": [{**item, "stoppedAt": str(today), "stopReason": "Ikke lenger aktuelt"}]},
        headers={**patient.gp.headers, "If-Match": '"1"'},
    )
    assert stop.status_code == 200, stop.text
    response = await client.post(
        f"/clinician/v1/renewal-requests/{request['id']}/approve", json={}, headers=patient.gp.headers
    )
    assert response.status_code == 409, response.text


# --- the reminder ---------------------------------------------------------------------------------------------


async def test_one_reminder_30_days_before_expiry_even_with_several_workers(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, settings: Settings
) -> None:
    today = datetime.now(UTC).astimezone(OSLO).date()
    soon, _, expiring = await patient_with_prescription(client, app, validUntil=str(today + timedelta(days=20)))
    later, _, not_yet = await patient_with_prescription(client, app, validUntil=str(today + timedelta(days=60)))
    done, _, completed = await patient_with_prescription(
        client, app, validUntil=str(today + timedelta(days=5)), dispensings=1
    )
    assert (await dispense(client, pharmacy(app), done.id, completed["id"])).status_code == 201
    [job] = [job for name, job in WORKER_JOBS if name == "prescription-reminders"]
    configured = replace(settings)
    await asyncio.gather(*(job(configured) for _ in range(4)))
    await job(configured)

    async def reminders(patient_id: uuid.UUID) -> list[str]:
        rows = await db.fetch(
            "SELECT resource_id FROM event WHERE patient_id = $1 AND type = 'prescription.expiring'", patient_id
        )
        return [row["resource_id"] for row in rows]

    assert await reminders(soon.id) == [expiring["id"]]
    assert await reminders(later.id) == []
    assert await reminders(done.id) == []
    assert not_yet["id"]
