"""The in-app inbox and the citizen's notification preferences, through the API and the real worker."""

from __future__ import annotations

import uuid
from datetime import time, timedelta

import asyncpg
import httpx
import pytest
from litestar import Litestar

from backend.core.clock import OSLO, utcnow
from backend.core.events import EventType
from backend.notifications import worker
from backend.notifications.rules import (
    DOCUMENTS,
    EMERGENCY_ACCESS,
    LAB_RESULT,
    MEDICATIONS,
    PRESCRIPTIONS,
    RULES,
    TOPIC_NEWS,
    NotificationRule,
)
from backend.settings import Settings
from tests.factories import new_citizen
from tests.notifications.conftest import (
    MakeDispatcher,
    append,
    append_topic,
    event_row,
    fcm_received_by,
    make_due,
    received_by,
    register,
)
from tests.support.mock_apns import MockApns
from tests.support.mock_fcm import MockFcm

ALL_ON = {"labResults": True, "medications": True, "prescriptions": True, "pregnancy": True, "documents": True,
          "content": True}  # fmt: skip


async def inbox(client: httpx.AsyncClient, headers: dict[str, str], **params: str | int) -> dict[str, object]:
    response = await client.get("/citizen/v1/me/notifications", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def test_every_notification_lands_in_the_inbox_newest_first_in_her_language_and_can_be_read(
    client: httpx.AsyncClient, app: Litestar, make_dispatcher: MakeDispatcher
) -> None:
    citizen = await new_citizen(client, app)
    report, medication_list = str(uuid.uuid4()), str(uuid.uuid4())
    await append(citizen.patient_id, EventType.LAB_RESULT_RELEASED, report)
    await append(citizen.patient_id, EventType.MEDICATIONS_UPDATED, medication_list)
    await append(citizen.patient_id, EventType.MEASUREMENTS_UPLOADED)  # tells nobody: not in the inbox either

    await make_dispatcher().drain()  # no device at all: the inbox still gets them

    body = await inbox(client, citizen.headers, locale="se")
    items = body["items"]
    assert isinstance(items, list)
    assert [(item["kind"], item["resourceId"], item["read"]) for item in items] == [
        ("medications", medication_list, False),
        ("lab-result", report, False),
    ]
    assert [item["text"] for item in items] == [MEDICATIONS.text("se"), LAB_RESULT.text("se")]
    assert [item["resourceType"] for item in items] == ["medication-list", "lab-result"]
    assert body["unread"] == 2
    assert body["next"] is None

    # Paged one at a time, the same two in the same order.
    first = await inbox(client, citizen.headers, limit=1)
    second = await inbox(client, citizen.headers, limit=1, cursor=str(first["next"]))
    assert [item["id"] for item in [*first["items"], *second["items"]]] == [item["id"] for item in items]  # type: ignore[misc]
    assert second["next"] is None

    read = await client.post(f"/citizen/v1/me/notifications/{items[1]['id']}/read", headers=citizen.headers)
    assert read.status_code == 204
    again = await client.post(f"/citizen/v1/me/notifications/{items[1]['id']}/read", headers=citizen.headers)
    assert again.status_code == 204
    after = await inbox(client, citizen.headers)
    assert [item["read"] for item in after["items"]] == [False, True]  # type: ignore[attr-defined]
    assert after["unread"] == 1

    all_read = await client.post("/citizen/v1/me/notifications/read-all", headers=citizen.headers)
    assert all_read.status_code == 200
    assert all_read.json() == {"marked": 1, "unread": 0}
    assert (await inbox(client, citizen.headers))["unread"] == 0


async def test_another_citizens_notification_is_not_found_and_bad_input_is_named(
    client: httpx.AsyncClient, app: Litestar, make_dispatcher: MakeDispatcher
) -> None:
    owner, other = await new_citizen(client, app), await new_citizen(client, app)
    await append(owner.patient_id, EventType.MEDICATIONS_UPDATED)
    await make_dispatcher().drain()
    [item] = (await inbox(client, owner.headers))["items"]  # type: ignore[misc]

    for path in (f"{item['id']}/read", "not-an-id/read", f"{uuid.uuid4()}/read"):
        response = await client.post(f"/citizen/v1/me/notifications/{path}", headers=other.headers)
        assert response.status_code == 404, path
    assert (await inbox(client, owner.headers))["unread"] == 1
    assert (await inbox(client, other.headers))["items"] == []

    bad_locale = await client.get("/citizen/v1/me/notifications", params={"locale": "de"}, headers=owner.headers)
    assert bad_locale.status_code == 400
    assert bad_locale.json()["errors"][0]["field"] == "locale"
    bad_cursor = await client.get("/citizen/v1/me/notifications", params={"cursor": "xyz"}, headers=owner.headers)
    assert bad_cursor.status_code == 400


async def test_an_event_retried_and_sent_again_is_in_the_inbox_once(
    client: httpx.AsyncClient,
    app: Litestar,
    db: asyncpg.Connection,
    apns_mock: MockApns,
    make_dispatcher: MakeDispatcher,
) -> None:
    citizen = await new_citizen(client, app)
    token = await register(client, citizen)
    apns_mock.respond(token, 503, times=1)
    event_id = await append(citizen.patient_id, EventType.MEDICATIONS_UPDATED)
    dispatcher = make_dispatcher()

    await dispatcher.drain()
    await make_due(db, event_id)
    await dispatcher.drain()

    assert [item.status for item in received_by(apns_mock, token)] == [503, 200]
    assert len((await inbox(client, citizen.headers))["items"]) == 1  # type: ignore[arg-type]


async def test_preferences_default_to_everything_on_and_are_replaced_whole(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    citizen = await new_citizen(client, app)
    url = "/citizen/v1/me/notification-preferences"

    assert (await client.get(url, headers=citizen.headers)).json() == {"kinds": ALL_ON, "quietHours": None}

    chosen = {"kinds": {**ALL_ON, "labResults": False, "content": False}, "quietHours": "23:30-06:15"}
    saved = await client.put(url, json=chosen, headers=citizen.headers)
    assert saved.status_code == 200, saved.text
    assert saved.json() == chosen
    assert (await client.get(url, headers=citizen.headers)).json() == chosen

    # A kind left out is on; quietHours left out (or null) is the server's.
    partial = await client.put(url, json={"kinds": {"medications": False}}, headers=citizen.headers)
    assert partial.json() == {"kinds": {**ALL_ON, "medications": False}, "quietHours": None}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kinds": {**ALL_ON, "astrology": False}}, "astrology"),
        ({"kinds": {**ALL_ON, "labResults": "no"}}, "labResults"),
        ({"kinds": ALL_ON, "quietHours": "25:00-07:00"}, "quietHours"),
        ({"kinds": ALL_ON, "quietHours": "22:00"}, "quietHours"),
        ({"kinds": ALL_ON, "quietHours": "22:00-22:00"}, "quietHours"),
        ({"quietHours": "22:00-07:00"}, "kinds"),
        ({"kinds": ALL_ON, "sleep": True}, "sleep"),
    ],
)
async def test_bad_preferences_are_refused_naming_the_field_and_nothing_is_stored(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, body: dict[str, object], field: str
) -> None:
    citizen = await new_citizen(client, app)

    response = await client.put("/citizen/v1/me/notification-preferences", json=body, headers=citizen.headers)

    assert response.status_code == 400, response.text
    problem = response.json()
    assert field in problem["detail"] or any(field in str(error) for error in problem.get("errors", []))
    count = await db.fetchval("SELECT count(*) FROM notification_preference WHERE patient_id = $1", citizen.patient_id)
    assert count == 0


async def test_a_kind_turned_off_pushes_to_no_phone_but_stays_in_the_inbox_and_emergency_access_always_pushes(
    client: httpx.AsyncClient,
    app: Litestar,
    apns_mock: MockApns,
    fcm_mock: MockFcm,
    make_dispatcher: MakeDispatcher,
) -> None:
    citizen = await new_citizen(client, app)
    iphone = await register(client, citizen)
    android = await register(client, citizen, platform="android")
    off = {"kinds": {**ALL_ON, "medications": False, "content": False}}
    assert (await client.put("/citizen/v1/me/notification-preferences", json=off, headers=citizen.headers)).is_success
    await client.put("/citizen/v1/me/subscriptions/legemidler", headers=citizen.headers)
    medication_list, access = str(uuid.uuid4()), str(uuid.uuid4())
    await append(citizen.patient_id, EventType.MEDICATIONS_UPDATED, medication_list)
    await append(citizen.patient_id, EventType.EMERGENCY_ACCESS_OPENED, access)
    await append_topic("legemidler", "nye-legemiddelrad")

    await make_dispatcher().drain()

    assert [item.payload["kind"] for item in received_by(apns_mock, iphone)] == [EMERGENCY_ACCESS.kind]
    assert [item.message["data"]["kind"] for item in fcm_received_by(fcm_mock, android)] == [EMERGENCY_ACCESS.kind]
    kinds = [item["kind"] for item in (await inbox(client, citizen.headers))["items"]]  # type: ignore[attr-defined]
    assert sorted(kinds) == sorted([MEDICATIONS.kind, EMERGENCY_ACCESS.kind, TOPIC_NEWS.kind])


def _window_around_now() -> str:
    now = utcnow().astimezone(OSLO)
    start, end = now - timedelta(hours=1), now + timedelta(hours=1)
    return f"{start:%H:%M}-{end:%H:%M}"


async def test_her_quiet_hours_override_the_servers_and_the_inbox_does_not_wait(
    client: httpx.AsyncClient,
    app: Litestar,
    db: asyncpg.Connection,
    apns_mock: MockApns,
    make_dispatcher: MakeDispatcher,
) -> None:
    sleeper, other = await new_citizen(client, app), await new_citizen(client, app)
    sleeper_phone, other_phone = await register(client, sleeper), await register(client, other)
    window = _window_around_now()
    night = {"kinds": ALL_ON, "quietHours": window}
    assert (await client.put("/citizen/v1/me/notification-preferences", json=night, headers=sleeper.headers)).is_success
    held = await append(sleeper.patient_id, EventType.LAB_RESULT_RELEASED)
    sent = await append(other.patient_id, EventType.LAB_RESULT_RELEASED)

    await make_dispatcher(quiet_hours="").drain()  # the server has no quiet hours

    assert received_by(apns_mock, sleeper_phone) == []
    assert len(received_by(apns_mock, other_phone)) == 1
    row = await event_row(db, held)
    assert row["dispatched_at"] is None
    end = time.fromisoformat(window.split("-")[1])
    assert row["available_at"].astimezone(OSLO).time().replace(second=0, microsecond=0) == end
    assert (await event_row(db, sent))["dispatched_at"] is not None
    assert (await inbox(client, sleeper.headers))["unread"] == 1  # in the inbox already


async def test_the_inbox_keeps_twelve_months(
    client: httpx.AsyncClient,
    app: Litestar,
    db: asyncpg.Connection,
    make_dispatcher: MakeDispatcher,
    settings: Settings,
) -> None:
    citizen = await new_citizen(client, app)
    await append(citizen.patient_id, EventType.MEDICATIONS_UPDATED)
    await append(citizen.patient_id, EventType.MEDICATIONS_UPDATED)
    await make_dispatcher().drain()
    old, recent = await db.fetch(
        "SELECT id FROM inbox_notification WHERE patient_id = $1 ORDER BY event_id", citizen.patient_id
    )
    await db.execute(
        "UPDATE inbox_notification SET at = now() - interval '366 days' WHERE patient_id = $1 AND id = $2",
        citizen.patient_id,
        old["id"],
    )
    await db.execute(
        "UPDATE inbox_notification SET at = now() - interval '364 days' WHERE patient_id = $1 AND id = $2",
        citizen.patient_id,
        recent["id"],
    )
    worker._purged_at.clear()

    assert await worker.inbox_purge_job(settings) >= 1
    assert await worker.inbox_purge_job(settings) == 0  # at most once an hour

    left = await db.fetch("SELECT id FROM inbox_notification WHERE patient_id = $1", citizen.patient_id)
    assert [row["id"] for row in left] == [recent["id"]]


@pytest.mark.parametrize(("rule", "switch"), [(PRESCRIPTIONS, "prescriptions"), (DOCUMENTS, "documents")])
async def test_a_kind_not_yet_mapped_is_ready_for_its_events_inbox_texts_and_switch(
    client: httpx.AsyncClient,
    app: Litestar,
    apns_mock: MockApns,
    make_dispatcher: MakeDispatcher,
    monkeypatch: pytest.MonkeyPatch,
    rule: NotificationRule,
    switch: str,
) -> None:
    """Prescriptions and documents add their events to RULES (their capabilities); what they need is here: a kind
    with texts in every locale, the inbox, and the citizen's switch. Stood in for by an existing member."""
    stand_in = EventType.MEDICATIONS_RECONCILED
    monkeypatch.setitem(RULES, stand_in, rule)
    on, off = await new_citizen(client, app), await new_citizen(client, app)
    on_phone, off_phone = await register(client, on, locale="nn"), await register(client, off)
    muted = {"kinds": {**ALL_ON, switch: False}}
    assert (await client.put("/citizen/v1/me/notification-preferences", json=muted, headers=off.headers)).is_success
    await append(on.patient_id, stand_in)
    await append(off.patient_id, stand_in)

    await make_dispatcher().drain()

    [pushed] = received_by(apns_mock, on_phone)
    assert (pushed.payload["kind"], pushed.payload["aps"]["alert"]["body"]) == (rule.kind, rule.text("nn"))
    assert received_by(apns_mock, off_phone) == []
    for citizen in (on, off):
        [item] = (await inbox(client, citizen.headers, locale="se"))["items"]  # type: ignore[misc]
        assert (item["kind"], item["text"]) == (rule.kind, rule.text("se"))
