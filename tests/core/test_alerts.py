"""Clinical alerts: listed by status for the clinicians of the patient, acknowledged once with who and when
(API.md "Alerts"), audited through the core access decision."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
from litestar import Litestar

from tests.factories import Citizen, Clinician, block, new_citizen, new_clinician, relate

ALERTS = "/clinician/v1/alerts"
# 2 (rate 22) + 1 (SpO2 95) + 1 (systolic 105) + 1 (pulse 95) = NEWS2 5: medium, a warning for every relation.
MEDIUM: dict[str, Any] = {
    "respirationRate": 22, "spo2": 95, "onOxygen": False, "systolic": 105, "pulse": 95, "consciousness": "A",
    "temperature": 37.0,
}  # fmt: skip


async def news2_alert(client: httpx.AsyncClient, clinician: Clinician, citizen: Citizen) -> str:
    response = await client.post(
        f"/clinician/v1/patients/{citizen.patient_id}/news2", json=MEDIUM, headers=clinician.headers
    )
    assert response.status_code == 201, response.text
    alert_id: str = response.json()["alertId"]
    assert alert_id is not None
    return alert_id


async def listed(
    client: httpx.AsyncClient, clinician: Clinician, citizen: Citizen, status: str | None = None
) -> list[dict[str, Any]]:
    response = await client.get(ALERTS, params={"status": status} if status else {}, headers=clinician.headers)
    assert response.status_code == 200, response.text
    return [item for item in response.json()["items"] if item["patientId"] == str(citizen.patient_id)]


async def acknowledge(
    client: httpx.AsyncClient, clinician: Clinician, alert_id: str, body: dict[str, Any] | None = None
) -> httpx.Response:
    return await client.post(f"{ALERTS}/{alert_id}/acknowledge", json=body, headers=clinician.headers)


async def test_an_acknowledgement_is_kept_with_who_and_when_and_shown_to_the_other_clinicians(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    legevakt = new_clinician(app, org_kind="legevakt", name="Lege Per Vik")
    gp = new_clinician(app, name="Fastlege Ola Hansen")
    for clinician in (legevakt, gp):
        await relate(client, clinician, citizen.patient_id)
    alert_id = await news2_alert(client, legevakt, citizen)
    opened = await listed(client, gp, citizen)
    assert [(item["id"], item["status"], item["acknowledgedBy"]) for item in opened] == [(alert_id, "open", None)]
    assert opened == await listed(client, gp, citizen, "open")

    response = await acknowledge(client, gp, alert_id, {"note": "Called the patient; reviewed at the office."})
    assert response.status_code == 200, response.text
    done = response.json()
    assert done["status"] == "acknowledged"
    assert done["acknowledgedBy"] == {
        "hpr": gp.hpr, "name": "Fastlege Ola Hansen", "authorization": "LE", "organisation": gp.org,
        "orgKind": "fastlege",
    }  # fmt: skip
    assert done["acknowledgedAt"] is not None
    assert done["note"] == "Called the patient; reviewed at the office."
    # The other clinician of the patient sees it as acknowledged, by whom and when; no longer as open.
    for reader in (legevakt, gp):
        assert await listed(client, reader, citizen) == []
        assert await listed(client, reader, citizen, "acknowledged") == [done]
    audit = await db.fetch(
        "SELECT hpr, action, resource_type, resource_id, basis FROM audit_log "
        "WHERE patient_id = $1 AND resource_type = 'alert'",
        citizen.patient_id,
    )
    assert [(row["hpr"], row["action"], row["resource_id"], row["basis"]) for row in audit] == [
        (gp.hpr, "write", alert_id, "care-relation")
    ]


async def test_a_second_acknowledgement_is_409_naming_the_first_and_changes_nothing(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    citizen = await new_citizen(client, app)
    legevakt = new_clinician(app, org_kind="legevakt")
    gp = new_clinician(app)
    for clinician in (legevakt, gp):
        await relate(client, clinician, citizen.patient_id)
    alert_id = await news2_alert(client, legevakt, citizen)
    first = (await acknowledge(client, legevakt, alert_id, {"note": "seen"})).json()
    for again in (gp, legevakt):
        response = await acknowledge(client, again, alert_id, {"note": "me too"})
        assert response.status_code == 409, response.text
        assert response.json()["acknowledgedBy"]["hpr"] == legevakt.hpr
    assert await listed(client, gp, citizen, "acknowledged") == [first]


async def test_out_of_scope_alerts_are_404_like_absent_ones(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    legevakt = new_clinician(app, org_kind="legevakt")
    await relate(client, legevakt, citizen.patient_id)
    blocked = new_clinician(app, org_kind="legevakt", org=legevakt.org)
    await block(client, citizen, blocked)
    unrelated = new_clinician(app, org_kind="legevakt")
    alert_id = await news2_alert(client, legevakt, citizen)
    for outsider in (unrelated, blocked):
        assert await listed(client, outsider, citizen) == []
        response = await acknowledge(client, outsider, alert_id)
        assert response.status_code == 404, response.text
    assert (await acknowledge(client, legevakt, str(uuid.uuid4()))).status_code == 404
    assert [item["status"] for item in await listed(client, legevakt, citizen)] == ["open"]
    # A body is optional; without a note the acknowledgement has none.
    response = await acknowledge(client, legevakt, alert_id)
    assert (response.status_code, response.json()["note"]) == (200, None)


async def test_bad_input_is_400_naming_the_field(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    legevakt = new_clinician(app, org_kind="legevakt")
    await relate(client, legevakt, citizen.patient_id)
    alert_id = await news2_alert(client, legevakt, citizen)
    for params, field in (({"status": "closed"}, "status"), ({"cursor": "not-a-cursor"}, "cursor")):
        response = await client.get(ALERTS, params=params, headers=legevakt.headers)
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["field"] == field
    for body in ({"note": ""}, {"note": "x" * 2001}, {"reason": "seen"}):
        response = await acknowledge(client, legevakt, alert_id, body)
        assert response.status_code == 400, (body, response.text)
    assert [item["status"] for item in await listed(client, legevakt, citizen)] == ["open"]


async def test_lists_are_cursor_paged_newest_first(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    legevakt = new_clinician(app, org_kind="legevakt")
    await relate(client, legevakt, citizen.patient_id)
    raised = [await news2_alert(client, legevakt, citizen) for _ in range(3)]
    for alert_id in raised:
        assert (await acknowledge(client, legevakt, alert_id)).status_code == 200
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"status": "acknowledged", "limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await client.get(ALERTS, params=params, headers=legevakt.headers)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == list(reversed(raised))
