"""The push worker sends events from the outbox through the real ApnsSender to the mock APNs, and settles APNs's answers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from litestar import Litestar
from prometheus_client import REGISTRY

from backend.core import events
from backend.core.clock import frozen_at
from backend.core.events import EventType
from backend.notifications.rules import HEALTH_CARD, LAB_RESULT, MEDICATIONS, TOPIC_NEWS, collapse_id
from backend.notifications.worker import RetryPolicy
from tests.factories import new_citizen
from tests.notifications.conftest import (
    MakeDispatcher,
    append,
    append_topic,
    attempts_of,
    event_row,
    fcm_received_by,
    make_due,
    received_by,
    register,
)
from tests.support.mock_apns import MockApns
from tests.support.mock_fcm import MockFcm


async def test_a_released_result_a_card_entry_and_a_medication_change_each_reach_the_device(
    client: httpx.AsyncClient,
    app: Litestar,
    db: asyncpg.Connection,
    apns_mock: MockApns,
    make_dispatcher: MakeDispatcher,
) -> None:
    citizen = await new_citizen(client, app)
    token = await register(client, citizen, locale="nb")
    report, card, medication_list = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    ids = [
        await append(citizen.patient_id, EventType.LAB_RESULT_RELEASED, report),
        await append(citizen.patient_id, EventType.PREGNANCY_CONSULTATION_ADDED, card),
        await append(citizen.patient_id, EventType.MEDICATIONS_UPDATED, medication_list),
    ]
    sent_before = REGISTRY.get_sample_value("helsekort_push_sent_total", {"transport": "apns"}) or 0.0

    await make_dispatcher().drain()

    received = received_by(apns_mock, token)
    assert [item.payload["aps"]["alert"]["body"] for item in received] == [
        "Du har fått et nytt prøvesvar",
        "Helsekortet ditt har ny informasjon",
        "Legemiddellisten din er endret",
    ]
    assert [item.payload["resourceId"] for item in received] == [report, card, medication_list]
    assert [item.collapse_id for item in received] == [
        collapse_id(LAB_RESULT, "lab-result", report),
        collapse_id(HEALTH_CARD, "pregnancy-card", card),
        collapse_id(MEDICATIONS, "medication-list", medication_list),
    ]
    assert all(item.status == 200 for item in received)
    assert all(item.headers["apns-push-type"] == "alert" for item in received)
    assert all(item.headers["apns-priority"] == "10" for item in received)
    for event_id in ids:
        assert (await event_row(db, event_id))["dispatched_at"] is not None
        [attempt] = await attempts_of(db, event_id)
        assert (attempt["outcome"], attempt["status"], attempt["patient_id"]) == ("delivered", 200, citizen.patient_id)
        assert attempt["apns_id"]
    assert (REGISTRY.get_sample_value("helsekort_push_sent_total", {"transport": "apns"}) or 0.0) - sent_before >= 3


async def test_each_device_gets_the_text_in_its_own_locale(
    client: httpx.AsyncClient, app: Litestar, apns_mock: MockApns, make_dispatcher: MakeDispatcher
) -> None:
    citizen = await new_citizen(client, app)
    tokens = {locale: await register(client, citizen, locale=locale) for locale in ("nb", "nn", "en")}
    await append(citizen.patient_id, EventType.LAB_RESULT_RELEASED)

    await make_dispatcher().drain()

    bodies = {
        locale: received_by(apns_mock, token)[0].payload["aps"]["alert"]["body"] for locale, token in tokens.items()
    }
    assert bodies == {
        "nb": "Du har fått et nytt prøvesvar",
        "nn": "Eit nytt prøvesvar er klart",
        "en": "A new test result is ready",
    }


async def test_sandbox_devices_are_sent_to_as_well(
    client: httpx.AsyncClient, app: Litestar, apns_mock: MockApns, make_dispatcher: MakeDispatcher
) -> None:
    citizen = await new_citizen(client, app)
    token = await register(client, citizen, environment="sandbox")
    await append(citizen.patient_id, EventType.MEDICATIONS_UPDATED)

    await make_dispatcher().drain()

    assert [item.status for item in received_by(apns_mock, token)] == [200]


async def test_events_no_rule_notifies_are_acknowledged_without_a_push(
    client: httpx.AsyncClient,
    app: Litestar,
    db: asyncpg.Connection,
    apns_mock: MockApns,
    make_dispatcher: MakeDispatcher,
) -> None:
    citizen = await new_citizen(client, app)
    token = await register(client, citizen)
    event_id = await append(citizen.patient_id, EventType.BLOCK_ADDED, "12345")

    await make_dispatcher().drain()

    assert received_by(apns_mock, token) == []
    assert (await event_row(db, event_id))["dispatched_at"] is not None
    assert await attempts_of(db, event_id) == []


async def test_an_event_of_a_citizen_without_devices_is_acknowledged(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, make_dispatcher: MakeDispatcher
) -> None:
    citizen = await new_citizen(client, app)
    event_id = await append(citizen.patient_id, EventType.LAB_RESULT_RELEASED)

    await make_dispatcher().drain()

    assert (await event_row(db, event_id))["dispatched_at"] is not None


async def test_topic_news_reaches_followers_only_at_low_priority(
    client: httpx.AsyncClient, app: Litestar, apns_mock: MockApns, make_dispatcher: MakeDispatcher
) -> None:
    follower, stranger = await new_citizen(client, app), await new_citizen(client, app)
    following = await register(client, follower, locale="en")
    not_following = await register(client, stranger)
    await client.put("/citizen/v1/me/subscriptions/maledata", headers=follower.headers)
    await client.put("/citizen/v1/me/subscriptions/journal", headers=stranger.headers)
    await append_topic("maledata", resource_id="blodtrykk-hjemme")

    await make_dispatcher().drain()

    [news] = received_by(apns_mock, following)
    assert news.payload["aps"]["alert"]["body"] == "New information on a topic you follow"
    assert news.headers["apns-priority"] == "5"
    assert news.collapse_id == collapse_id(TOPIC_NEWS, "page", "blodtrykk-hjemme")
    assert received_by(apns_mock, not_following) == []


async def test_unregistered_token_is_disabled_and_not_sent_to_again(
    client: httpx.AsyncClient,
    app: Litestar,
    db: asyncpg.Connection,
    apns_mock: MockApns,
    make_dispatcher: MakeDispatcher,
) -> None:
    citizen = await new_citizen(client, app)
    token = await register(client, citizen)
    apns_mock.respond(token, 410)  # timestamp: now, after the registration
    first = await append(citizen.patient_id, EventType.MEDICATIONS_UPDATED)
    dispatcher = make_dispatcher()

    await dispatcher.drain()

    [attempt] = await attempts_of(db, first)
    assert (attempt["outcome"], attempt["status"], attempt["reason"]) == ("disabled", 410, "Unregistered")
    assert (await event_row(db, first))["dispatched_at"] is not None
    [device] = (await client.get("/citizen/v1/me/devices", headers=citizen.headers)).json()["items"]
    assert device["active"] is False

    second = await append(citizen.patient_id, EventType.MEDICATIONS_UPDATED)
    await dispatcher.drain()

    assert len(received_by(apns_mock, token)) == 1
    assert await attempts_of(db, second) == []


async def test_bad_device_token_is_disabled(
    client: httpx.AsyncClient,
    app: Litestar,
    db: asyncpg.Connection,
    apns_mock: MockApns,
    make_dispatcher: MakeDispatcher,
) -> None:
    citizen = await new_citizen(client, app)
    token = await register(client, citizen)
    apns_mock.respond(token, 400)  # BadDeviceToken
    event_id = await append(citizen.patient_id, EventType.EMERGENCY_ACCESS_OPENED)

    await make_dispatcher().drain()

    [attempt] = await attempts_of(db, event_id)
    assert (attempt["outcome"], attempt["reason"]) == ("disabled", "BadDeviceToken")
    assert await db.fetchval("SELECT disabled_reason FROM push_device WHERE token = $1", token) == "400 BadDeviceToken"


async def test_token_registered_again_after_apns_timestamp_stays_active(
    client: httpx.AsyncClient,
    app: Litestar,
    db: asyncpg.Connection,
    apns_mock: MockApns,
    make_dispatcher: MakeDispatcher,
) -> None:
    citizen = await new_citizen(client, app)
    token = await register(client, citizen)
    # APNs learned the token was invalid an hour ago; the app has registered it since.
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    apns_mock.respond(token, 410, timestamp_ms=int(an_hour_ago.timestamp() * 1000))
    event_id = await append(citizen.patient_id, EventType.LAB_RESULT_RELEASED)

    await make_dispatcher().drain()

    [attempt] = await attempts_of(db, event_id)
    assert attempt["outcome"] == "failed"
    assert attempt["status"] == 410
    [device] = (await client.get("/citizen/v1/me/devices", headers=citizen.headers)).json()["items"]
    assert device["active"] is True


async def test_registering_a_disabled_token_again_reactivates_it(
    client: httpx.AsyncClient, app: Litestar, apns_mock: MockApns, make_dispatcher: MakeDispatcher
) -> None:
    citizen = await new_citizen(client, app)
    token = await register(client, citizen)
    apns_mock.respond(token, 410, times=1, timestamp_ms=int(datetime.now(UTC).timestamp() * 1000) + 1000)
    await append(citizen.patient_id, EventType.MEDICATIONS_UPDATED)
    dispatcher = make_dispatcher()
    await dispatcher.drain()

    await register(client, citizen, token)
    await append(citizen.patient_id, EventType.MEDICATIONS_UPDATED)
    await dispatcher.drain()

    assert [item.status for item in received_by(apns_mock, token)] == [410, 200]


async def test_too_many_requests_is_retried_after_a_backoff_then_delivered(
    client: httpx.AsyncClient,
    app: Litestar,
    db: asyncpg.Connection,
    apns_mock: MockApns,
    make_dispatcher: MakeDispatcher,
) -> None:
    citizen = await new_citizen(client, app)
    token = await register(client, citizen)
    apns_mock.respond(token, 429, times=1)
    event_id = await append(citizen.patient_id, EventType.LAB_RESULT_RELEASED)
    dispatcher = make_dispatcher(retry=RetryPolicy(base_seconds=60, cap_seconds=3600, max_attempts=5))

    await dispatcher.drain()

    deferred = await event_row(db, event_id)
    assert deferred["dispatched_at"] is None
    assert deferred["claimed_by"] is None
    # Exponential with jitter: the first back-off is between half the base and the base.
    wait = (deferred["available_at"] - datetime.now(UTC)).total_seconds()
    assert 25 <= wait <= 61
    assert [a["outcome"] for a in await attempts_of(db, event_id)] == ["retry"]

    await make_due(db, event_id)
    await dispatcher.drain()

    assert [(a["outcome"], a["status"]) for a in await attempts_of(db, event_id)] == [
        ("retry", 429),
        ("delivered", 200),
    ]
    assert [item.status for item in received_by(apns_mock, token)] == [429, 200]
    assert (await event_row(db, event_id))["dispatched_at"] is not None


async def test_backoff_grows_exponentially_with_jitter_up_to_the_cap() -> None:
    policy = RetryPolicy(base_seconds=5, cap_seconds=60, max_attempts=10)
    for attempt, ceiling in [(1, 5), (2, 10), (3, 20), (4, 40), (5, 60), (9, 60)]:
        delays = {policy.delay(attempt) for _ in range(50)}
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
        assert len(delays) > 1  # jittered


async def test_server_errors_are_retried_until_the_attempts_run_out(
    client: httpx.AsyncClient,
    app: Litestar,
    db: asyncpg.Connection,
    apns_mock: MockApns,
    make_dispatcher: MakeDispatcher,
) -> None:
    citizen = await new_citizen(client, app)
    token = await register(client, citizen)
    apns_mock.respond(token, 500)
    event_id = await append(citizen.patient_id, EventType.MEDICATIONS_UPDATED)
    dispatcher = make_dispatcher(retry=RetryPolicy(base_seconds=30, cap_seconds=60, max_attempts=3))

    for _ in range(3):
        await dispatcher.drain()
        await make_due(db, event_id)

    outcomes = [(a["outcome"], a["status"], a["reason"]) for a in await attempts_of(db, event_id)]
    assert outcomes == [
        ("retry", 500, "InternalServerError"),
        ("retry", 500, "InternalServerError"),
        ("failed", 500, "InternalServerError"),
    ]
    row = await event_row(db, event_id)
    assert row["dispatched_at"] is not None
    assert row["attempts"] == 3
    # A server error says nothing about the token.
    assert await db.fetchval("SELECT disabled_at FROM push_device WHERE token = $1", token) is None


async def test_a_retry_is_sent_only_to_the_devices_that_need_it(
    client: httpx.AsyncClient,
    app: Litestar,
    db: asyncpg.Connection,
    apns_mock: MockApns,
    make_dispatcher: MakeDispatcher,
) -> None:
    citizen = await new_citizen(client, app)
    phone, tablet = await register(client, citizen), await register(client, citizen)
    apns_mock.respond(tablet, 503, times=1)
    event_id = await append(citizen.patient_id, EventType.PREGNANCY_CARD_UPDATED)
    dispatcher = make_dispatcher()

    await dispatcher.drain()
    await make_due(db, event_id)
    await dispatcher.drain()

    assert [item.status for item in received_by(apns_mock, phone)] == [200]
    assert [item.status for item in received_by(apns_mock, tablet)] == [503, 200]
    assert (await event_row(db, event_id))["dispatched_at"] is not None


async def test_other_client_errors_fail_without_retry(
    client: httpx.AsyncClient,
    app: Litestar,
    db: asyncpg.Connection,
    apns_mock: MockApns,
    make_dispatcher: MakeDispatcher,
) -> None:
    citizen = await new_citizen(client, app)
    token = await register(client, citizen)
    apns_mock.respond(token, 400, reason="DeviceTokenNotForTopic")
    event_id = await append(citizen.patient_id, EventType.MEDICATIONS_UPDATED)

    await make_dispatcher().drain()

    [attempt] = await attempts_of(db, event_id)
    assert (attempt["outcome"], attempt["status"], attempt["reason"]) == ("failed", 400, "DeviceTokenNotForTopic")
    assert (await event_row(db, event_id))["dispatched_at"] is not None
    assert await db.fetchval("SELECT disabled_at FROM push_device WHERE token = $1", token) is None


async def test_the_same_resource_always_has_the_same_collapse_id(
    client: httpx.AsyncClient, app: Litestar, apns_mock: MockApns, make_dispatcher: MakeDispatcher
) -> None:
    citizen = await new_citizen(client, app)
    token = await register(client, citizen)
    card, other_card = str(uuid.uuid4()), str(uuid.uuid4())
    for resource in (card, card, other_card):
        await append(citizen.patient_id, EventType.PREGNANCY_CARD_UPDATED, resource)

    await make_dispatcher().drain()

    first, again, other = (item.collapse_id for item in received_by(apns_mock, token))
    assert first == again
    assert first != other
    assert first is not None
    assert card not in first


async def test_a_result_released_at_night_waits_until_quiet_hours_end(
    client: httpx.AsyncClient,
    app: Litestar,
    db: asyncpg.Connection,
    apns_mock: MockApns,
    make_dispatcher: MakeDispatcher,
) -> None:
    citizen = await new_citizen(client, app)
    token = await register(client, citizen)
    result = await append(citizen.patient_id, EventType.LAB_RESULT_RELEASED)
    medication = await append(citizen.patient_id, EventType.MEDICATIONS_UPDATED)
    dispatcher = make_dispatcher(quiet_hours="22:00-07:00")

    # 23:30 in Oslo on a January night (22:30 UTC).
    with frozen_at(datetime(2026, 1, 15, 22, 30, tzinfo=UTC)):
        await dispatcher.drain()

    held = await event_row(db, result)
    assert held["dispatched_at"] is None
    assert held["available_at"] == datetime(2026, 1, 16, 6, 0, tzinfo=UTC)  # 07:00 in Oslo
    assert (await event_row(db, medication))["dispatched_at"] is not None
    assert [item.payload["kind"] for item in received_by(apns_mock, token)] == ["medications"]

    # 07:00 in Oslo: the result goes out.
    with frozen_at(datetime(2026, 1, 16, 6, 0, tzinfo=UTC)):
        await dispatcher.drain()

    assert [item.payload["kind"] for item in received_by(apns_mock, token)] == ["medications", "lab-result"]
    assert (await event_row(db, result))["dispatched_at"] is not None


async def test_an_event_older_than_its_notification_lifetime_is_not_sent(
    client: httpx.AsyncClient,
    app: Litestar,
    db: asyncpg.Connection,
    apns_mock: MockApns,
    make_dispatcher: MakeDispatcher,
) -> None:
    citizen = await new_citizen(client, app)
    token = await register(client, citizen)
    stale = await append(citizen.patient_id, EventType.LAB_RESULT_RELEASED)
    await db.execute("UPDATE event SET at = now() - interval '4 days' WHERE id = $1", stale)

    await make_dispatcher().drain()

    assert received_by(apns_mock, token) == []
    assert (await event_row(db, stale))["dispatched_at"] is not None
    assert await attempts_of(db, stale) == []


async def test_expiration_header_follows_the_rule_lifetime(
    client: httpx.AsyncClient,
    app: Litestar,
    db: asyncpg.Connection,
    apns_mock: MockApns,
    make_dispatcher: MakeDispatcher,
) -> None:
    citizen = await new_citizen(client, app)
    token = await register(client, citizen)
    event_id = await append(citizen.patient_id, EventType.LAB_RESULT_RELEASED)
    at = (await event_row(db, event_id))["at"]

    await make_dispatcher().drain()

    [item] = received_by(apns_mock, token)
    assert abs(int(item.headers["apns-expiration"]) - int((at + LAB_RESULT.lifetime).timestamp())) <= 2


async def test_unreachable_apns_is_retried_later(
    client: httpx.AsyncClient,
    app: Litestar,
    db: asyncpg.Connection,
    apns_mock: MockApns,
    make_dispatcher: MakeDispatcher,
) -> None:
    citizen = await new_citizen(client, app)
    token = await register(client, citizen)
    event_id = await append(citizen.patient_id, EventType.MEDICATIONS_UPDATED)
    dispatcher = make_dispatcher()
    await apns_mock.stop()

    await dispatcher.drain()

    [attempt] = await attempts_of(db, event_id)
    assert (attempt["outcome"], attempt["status"], attempt["reason"]) == ("retry", 0, "connection-error")
    assert (await event_row(db, event_id))["dispatched_at"] is None
    assert received_by(apns_mock, token) == []


async def test_a_drain_over_many_batches_sends_each_event_once_to_each_phone_and_leaves_nothing_claimed(
    client: httpx.AsyncClient,
    app: Litestar,
    db: asyncpg.Connection,
    apns_mock: MockApns,
    fcm_mock: MockFcm,
    make_dispatcher: MakeDispatcher,
) -> None:
    # The drain claims the next batch while it sends the current one; a claim is made per citizen, so small
    # batches and several citizens make that happen often.
    phones: list[tuple[str, str]] = []
    expected: list[list[str]] = []
    ids: list[int] = []
    for _ in range(5):
        citizen = await new_citizen(client, app)
        phones.append((await register(client, citizen), await register(client, citizen, platform="android")))
        resources = [str(uuid.uuid4()) for _ in range(2)]
        ids += [await append(citizen.patient_id, EventType.MEDICATIONS_UPDATED, resource) for resource in resources]
        expected.append(sorted(collapse_id(MEDICATIONS, "medication-list", resource) for resource in resources))
    dispatcher = make_dispatcher(batch_size=2)

    # A spent budget ends the drain, after handling what it had already claimed: nothing is left under a lease.
    await dispatcher.drain(budget_seconds=0.0)
    assert await db.fetchval("SELECT count(*) FROM event WHERE claimed_by = $1", dispatcher.worker_id) == 0
    rows = [await event_row(db, event_id) for event_id in ids]
    assert sum(row["dispatched_at"] is not None for row in rows) < len(ids)  # it stopped early

    await dispatcher.drain()

    for (iphone, android), collapse_ids in zip(phones, expected, strict=True):
        assert sorted(item.collapse_id for item in received_by(apns_mock, iphone)) == collapse_ids
        assert sorted(item.message["android"]["collapse_key"] for item in fcm_received_by(fcm_mock, android)) == (
            collapse_ids
        )
    for event_id in ids:
        row = await event_row(db, event_id)
        assert row["dispatched_at"] is not None
        assert row["claimed_by"] is None
        assert sorted(attempt["outcome"] for attempt in await attempts_of(db, event_id)) == ["delivered", "delivered"]


async def test_a_claim_takes_no_more_than_its_limit_of_one_citizens_events(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    # The per-citizen claim statement itself (claim_events picks citizens from the whole outbox, other tests'
    # events too): with its pick rescanned per row, it once took all nine of her events for a limit of two.
    citizen = await new_citizen(client, app)
    ids = [await append(citizen.patient_id, EventType.MEDICATIONS_UPDATED) for _ in range(9)]
    worker = f"test:{uuid.uuid4().hex[:8]}"
    lease_end = await db.fetchval("SELECT now() + interval '1 minute'")
    try:
        status = await db.execute(events._CLAIM_PATIENT, citizen.patient_id, worker, 2, lease_end)
        claimed = await db.fetch("SELECT id FROM event WHERE claimed_by = $1 ORDER BY id", worker)
    finally:
        await db.execute("UPDATE event SET claimed_by = NULL, claim_expires_at = NULL WHERE claimed_by = $1", worker)

    assert status == "UPDATE 2"
    assert [row["id"] for row in claimed] == ids[:2]  # the oldest first
