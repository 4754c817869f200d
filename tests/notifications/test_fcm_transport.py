"""Android through FCM HTTP v1: the real FcmSender and worker against the mock FCM (HTTP/2, TLS, token endpoint)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from litestar import Litestar

from backend.core.events import EventType
from backend.notifications.fcm import INVALID_TOKEN, FcmSender
from backend.notifications.rules import LAB_RESULT, MEDICATIONS, collapse_id
from backend.settings import FcmSettings, SettingsError
from tests.factories import new_citizen
from tests.notifications.conftest import (
    MakeDispatcher,
    append,
    attempts_of,
    event_row,
    fcm_received_by,
    make_due,
    received_by,
    register,
)
from tests.support.mock_apns import MockApns
from tests.support.mock_fcm import MockFcm


async def test_an_android_phone_gets_the_content_free_message_with_collapse_key_priority_and_ttl(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, fcm_mock: MockFcm, make_dispatcher: MakeDispatcher
) -> None:
    citizen = await new_citizen(client, app)
    token = await register(client, citizen, locale="se", platform="android")
    report = str(uuid.uuid4())
    event_id = await append(citizen.patient_id, EventType.LAB_RESULT_RELEASED, report)

    await make_dispatcher().drain()

    [item] = fcm_received_by(fcm_mock, token)
    assert item.status == 200
    collapse = collapse_id(LAB_RESULT, "lab-result", report)
    assert item.message == {
        "token": token,
        "notification": {"title": "Helsekort", "body": "Don leat ožžon ođđa iskkusboađu"},
        "data": {"kind": "lab-result", "resourceId": report},
        "android": {
            "notification": {"tag": collapse, "channel_id": "lab-result"},
            "priority": "high",
            "collapse_key": collapse,
            "ttl": item.message["android"]["ttl"],
        },
    }
    ttl = int(item.message["android"]["ttl"].removesuffix("s"))
    assert timedelta(days=3) - timedelta(minutes=1) < timedelta(seconds=ttl) <= timedelta(days=3)
    [attempt] = await attempts_of(db, event_id)
    assert (attempt["outcome"], attempt["status"]) == ("delivered", 200)
    assert attempt["apns_id"]  # FCM's message id
    assert (await event_row(db, event_id))["dispatched_at"] is not None


async def test_the_access_token_is_reused_over_one_connection_and_renewed_once_after_a_401(
    client: httpx.AsyncClient, app: Litestar, fcm_mock: MockFcm, make_dispatcher: MakeDispatcher
) -> None:
    citizen = await new_citizen(client, app)
    tokens = [await register(client, citizen, platform="android") for _ in range(3)]
    for _ in range(4):
        await append(citizen.patient_id, EventType.MEDICATIONS_UPDATED)
    dispatcher = make_dispatcher()

    await dispatcher.drain()
    assert fcm_mock.tokens_issued == 1
    assert fcm_mock.connections_accepted == 2  # HTTP/2: every send on one connection, the token on another
    assert all(len(fcm_received_by(fcm_mock, token)) == 4 for token in tokens)

    fcm_mock.revoke_access_tokens()
    await append(citizen.patient_id, EventType.MEDICATIONS_UPDATED)
    await dispatcher.drain()

    assert fcm_mock.tokens_issued == 2  # one new token for the whole batch, not one per send
    for token in tokens:
        statuses = [item.status for item in fcm_received_by(fcm_mock, token)]
        assert statuses[:4] == [200] * 4
        assert statuses[-1] == 200
        assert set(statuses[4:-1]) <= {401}


@pytest.mark.parametrize(
    ("status", "error_code", "invalid_token", "reason"),
    [(404, "UNREGISTERED", False, "UNREGISTERED"), (400, "INVALID_ARGUMENT", True, INVALID_TOKEN)],
)
async def test_a_dead_token_is_disabled_unless_registered_again_since(
    client: httpx.AsyncClient,
    app: Litestar,
    db: asyncpg.Connection,
    fcm_mock: MockFcm,
    make_dispatcher: MakeDispatcher,
    status: int,
    error_code: str,
    invalid_token: bool,
    reason: str,
) -> None:
    citizen = await new_citizen(client, app)
    token = await register(client, citizen, platform="android")
    fcm_mock.respond(token, status, error_code=error_code, invalid_token=invalid_token)
    event_id = await append(citizen.patient_id, EventType.MEDICATIONS_UPDATED)

    await make_dispatcher().drain()

    [attempt] = await attempts_of(db, event_id)
    assert (attempt["outcome"], attempt["status"], attempt["reason"]) == ("disabled", status, reason)
    device = await db.fetchrow("SELECT disabled_at, disabled_reason FROM push_device WHERE token = $1", token)
    assert device["disabled_at"] is not None
    assert reason in device["disabled_reason"]
    listed = (await client.get("/citizen/v1/me/devices", headers=citizen.headers)).json()["items"]
    assert [item["active"] for item in listed] == [False]

    # Registering again reactivates it; nothing more is sent to it for the old event.
    await register(client, citizen, token, platform="android")
    await append(citizen.patient_id, EventType.MEDICATIONS_UPDATED)
    fcm_mock.respond(token, 200, times=1)
    await make_dispatcher().drain()
    assert await db.fetchval("SELECT disabled_at FROM push_device WHERE token = $1", token) is None


async def test_a_token_refused_for_a_send_made_before_it_was_registered_again_stays_active(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, make_dispatcher: MakeDispatcher
) -> None:
    from backend.notifications import service
    from backend.notifications.queries import Recipient

    citizen = await new_citizen(client, app)
    token = await register(client, citizen, platform="android")
    row = await db.fetchrow("SELECT id, registered_at FROM push_device WHERE token = $1", token)
    recipient = Recipient(row["id"], citizen.patient_id, token, "production", "nb", row["registered_at"], "android")
    # FCM's answer is about a send started before this registration: it says nothing of the new one.
    before = row["registered_at"] - timedelta(seconds=1)
    assert not await service.disable_device(recipient, "404 UNREGISTERED", before, before)
    assert await db.fetchval("SELECT disabled_at FROM push_device WHERE token = $1", token) is None


async def test_429_and_503_are_retried_after_retry_after_and_then_delivered(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, fcm_mock: MockFcm, make_dispatcher: MakeDispatcher
) -> None:
    citizen = await new_citizen(client, app)
    token = await register(client, citizen, platform="android")
    fcm_mock.respond(token, 429, times=1, retry_after="90")
    event_id = await append(citizen.patient_id, EventType.MEDICATIONS_UPDATED)
    dispatcher = make_dispatcher()

    await dispatcher.drain()
    [attempt] = await attempts_of(db, event_id)
    assert (attempt["outcome"], attempt["status"], attempt["reason"]) == ("retry", 429, "QUOTA_EXCEEDED")
    event = await event_row(db, event_id)
    assert event["dispatched_at"] is None
    # The back-off is at least what FCM asked for (the test policy alone would wait 30-60 s).
    assert event["available_at"] - attempt["at"] >= timedelta(seconds=89)

    fcm_mock.respond(token, 503, times=1)
    await make_due(db, event_id)
    await dispatcher.drain()
    await make_due(db, event_id)
    await dispatcher.drain()

    assert [a["outcome"] for a in await attempts_of(db, event_id)] == ["retry", "retry", "delivered"]
    assert [item.status for item in fcm_received_by(fcm_mock, token)] == [429, 503, 200]
    assert (await event_row(db, event_id))["dispatched_at"] is not None


async def test_a_mixed_household_gets_each_phone_its_own_transport(
    client: httpx.AsyncClient,
    app: Litestar,
    apns_mock: MockApns,
    fcm_mock: MockFcm,
    make_dispatcher: MakeDispatcher,
) -> None:
    citizen = await new_citizen(client, app)
    android = await register(client, citizen, platform="android", locale="nn")
    iphone = await register(client, citizen, locale="en")
    resource = str(uuid.uuid4())
    await append(citizen.patient_id, EventType.MEDICATIONS_UPDATED, resource)

    await make_dispatcher().drain()

    [on_android] = fcm_received_by(fcm_mock, android)
    assert on_android.message["notification"]["body"] == MEDICATIONS.text("nn")
    [on_iphone] = received_by(apns_mock, iphone)
    assert on_iphone.payload["aps"]["alert"]["body"] == MEDICATIONS.text("en")
    assert on_android.message["data"]["resourceId"] == on_iphone.payload["resourceId"] == resource


def test_a_broken_service_account_stops_the_sender_at_start(tmp_path: Path) -> None:
    broken = tmp_path / "account.json"
    broken.write_text('{"project_id": "p"}', encoding="utf-8")
    with pytest.raises(SettingsError, match="client_email"):
        FcmSender(FcmSettings(credentials_file=str(broken)))
    with pytest.raises(SettingsError, match="HELSEKORT_FCM_CREDENTIALS_FILE"):
        FcmSender(FcmSettings(credentials_file=str(tmp_path / "missing.json")))


async def test_a_malformed_token_is_answered_without_a_request(fcm_mock: MockFcm, fcm_settings: FcmSettings) -> None:
    async with FcmSender(fcm_settings) as sender:
        result = await sender.send("not a token/..", {"notification": {"title": "Helsekort", "body": "x"}})
    assert (result.status, result.reason) == (400, INVALID_TOKEN)
    assert list(fcm_mock.received) == []


async def test_an_access_token_refused_twice_is_retried_later_not_given_up(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, fcm_mock: MockFcm, make_dispatcher: MakeDispatcher
) -> None:
    citizen = await new_citizen(client, app)
    token = await register(client, citizen, platform="android")
    fcm_mock.respond(token, 401, times=2, error_code="THIRD_PARTY_AUTH_ERROR")
    event_id = await append(citizen.patient_id, EventType.MEDICATIONS_UPDATED)
    dispatcher = make_dispatcher()

    await dispatcher.drain()
    [attempt] = await attempts_of(db, event_id)
    assert (attempt["outcome"], attempt["status"]) == ("retry", 401)
    assert [item.status for item in fcm_received_by(fcm_mock, token)] == [401, 401]  # one new token, one more try

    await make_due(db, event_id)
    await dispatcher.drain()
    assert [a["outcome"] for a in await attempts_of(db, event_id)] == ["retry", "delivered"]


async def test_after_a_goaway_the_next_send_opens_a_new_connection(
    fcm_mock: MockFcm, fcm_settings: FcmSettings
) -> None:
    message = {"notification": {"title": "Helsekort", "body": MEDICATIONS.text("nb")}}
    async with FcmSender(fcm_settings) as sender:
        token = "reconnect:APA91b" + "x" * 40
        assert (await sender.send(token, message)).status == 200
        await fcm_mock.disconnect_all()
        results = await asyncio.gather(*(sender.send(token, message) for _ in range(5)))
        assert [result.status for result in results] == [200] * 5
        assert sender.connections_made == 2


@pytest.mark.parametrize("server_limit", [10, 1000])
async def test_a_burst_on_a_new_connection_keeps_to_the_servers_stream_limit(
    fcm_mock: MockFcm, fcm_settings: FcmSettings, server_limit: int
) -> None:
    # The server holds to h2's default of 100 streams until its own SETTINGS are acknowledged: a burst sent before
    # they arrive was refused as a protocol error, closing the connection under messages already delivered.
    fcm_mock.act_distant(max_concurrent_streams=server_limit)
    message = {"notification": {"title": "Helsekort", "body": MEDICATIONS.text("nb")}}
    tokens = [f"burst-{index}:APA91b" + "x" * 40 for index in range(300)]
    async with FcmSender(fcm_settings) as sender:
        results = await asyncio.gather(*(sender.send(token, message) for token in tokens))
        assert sender.connections_made == 1

    assert [result.status for result in results] == [200] * len(tokens)
    assert fcm_mock.protocol_errors == 0
    assert sorted(item.device_token for item in fcm_mock.delivered) == sorted(tokens), "each message was sent once"
    # Within the server's limit, and many at once: not one stream at a time.
    assert min(server_limit, 10) <= fcm_mock.peak_open_streams <= server_limit
