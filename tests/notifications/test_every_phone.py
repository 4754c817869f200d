"""Issue 19's "done when", end to end: a citizen with an Android phone and an iPad, her lab results and her switch.

A real release through the clinician API, the worker's real `push-notifications` job, the mock FCM and the mock
APNs; then her inbox and preferences through the citizen API.
"""

from __future__ import annotations

import httpx
from litestar import Litestar

from backend.jobs import Job
from backend.notifications.rules import APP_TITLE, LAB_RESULT
from backend.settings import Settings
from tests.factories import new_citizen, new_clinician, relate
from tests.labs.reports import hb, lab_report, posted, release
from tests.notifications.conftest import fcm_received_by, received_by, register
from tests.support.mock_apns import MockApns
from tests.support.mock_fcm import MockFcm


async def test_her_android_phone_and_ipad_are_told_of_a_released_result_and_her_switch_keeps_the_next_in_the_inbox(
    client: httpx.AsyncClient,
    app: Litestar,
    settings: Settings,
    apns_mock: MockApns,
    fcm_mock: MockFcm,
    phones_job: Job,
) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    android = await register(client, citizen, platform="android", locale="nb")
    ipad = await register(client, citizen, locale="nb")
    await phones_job(settings)  # whatever was due before

    first = await posted(client, gp, citizen.patient_id, lab_report(hb(9.1)))
    await phones_job(settings)
    assert fcm_received_by(fcm_mock, android) == []
    assert received_by(apns_mock, ipad) == []

    await release(client, gp, citizen.patient_id, first)
    await phones_job(settings)

    [on_android] = fcm_received_by(fcm_mock, android)
    assert on_android.status == 200
    assert on_android.message["notification"] == {"title": APP_TITLE, "body": LAB_RESULT.text("nb")}
    assert on_android.message["data"] == {"kind": "lab-result", "resourceId": first}
    [on_ipad] = received_by(apns_mock, ipad)
    assert on_ipad.status == 200
    assert on_ipad.payload == {
        "aps": {"alert": {"title": APP_TITLE, "body": LAB_RESULT.text("nb")}, "sound": "default",
                "thread-id": "lab-result"},
        "kind": "lab-result",
        "resourceId": first,
    }  # fmt: skip

    listed = (await client.get("/citizen/v1/me/notifications", headers=citizen.headers)).json()
    assert [(item["kind"], item["resourceId"], item["read"]) for item in listed["items"]] == [
        ("lab-result", first, False)
    ]
    assert listed["unread"] == 1
    opened = await client.get(f"/citizen/v1/me/lab-results/{first}", headers=citizen.headers)
    assert opened.status_code == 200

    preferences = (await client.get("/citizen/v1/me/notification-preferences", headers=citizen.headers)).json()
    preferences["kinds"]["labResults"] = False
    switched = await client.put("/citizen/v1/me/notification-preferences", json=preferences, headers=citizen.headers)
    assert switched.status_code == 200
    assert switched.json()["kinds"]["labResults"] is False

    second = await posted(client, gp, citizen.patient_id, lab_report(hb(12.9)))
    await release(client, gp, citizen.patient_id, second)
    await phones_job(settings)

    assert len(fcm_received_by(fcm_mock, android)) == 1
    assert len(received_by(apns_mock, ipad)) == 1
    listed = (await client.get("/citizen/v1/me/notifications", headers=citizen.headers)).json()
    assert [(item["kind"], item["resourceId"]) for item in listed["items"]] == [
        ("lab-result", second),
        ("lab-result", first),
    ]
    assert listed["unread"] == 2
