"""Push test helpers: a mock APNs on loopback, the real sender pointed at it, devices and events of a citizen."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import asyncpg
import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from backend.core import events
from backend.core.events import EventType
from backend.db.engine import DB
from backend.jobs import WORKER_JOBS, Job
from backend.notifications import worker
from backend.notifications.apns import ApnsSender
from backend.notifications.fcm import FcmSender
from backend.notifications.rules import QuietHours
from backend.notifications.worker import PushDispatcher, RetryPolicy
from backend.settings import ApnsSettings, FcmSettings, Settings
from tests.factories import Citizen
from tests.support.mock_apns import MockApns, ReceivedNotification
from tests.support.mock_fcm import MockFcm, ReceivedMessage

PUSH_KEY_ID = "PUSHKEY001"
PUSH_TEAM_ID = "PUSHTEAM01"
PUSH_TOPIC = "no.helsekort.app"

# Back-offs long enough that a retry only happens when a test makes the event due (make_due).
TEST_RETRY = RetryPolicy(base_seconds=60, cap_seconds=120, max_attempts=4)


def device_token() -> str:
    return secrets.token_hex(32)


def fcm_token() -> str:
    """An FCM registration token's shape: an instance id, a colon, and a long URL-safe part."""
    return f"{secrets.token_urlsafe(16)}:APA91b{secrets.token_urlsafe(96)}"


def fcm_received_by(mock: MockFcm, token: str) -> list[ReceivedMessage]:
    return [item for item in mock.received if item.device_token == token]


def received_by(mock: MockApns, token: str) -> list[ReceivedNotification]:
    """What the mock got for one device (other tests' events may reach their own devices too)."""
    return [item for item in mock.received if item.device_token == token]


@pytest.fixture(scope="session")
def push_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path_factory.mktemp("push") / f"AuthKey_{PUSH_KEY_ID}.p8"
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return path, key


@pytest.fixture
async def apns_mock(push_key: tuple[Path, ec.EllipticCurvePrivateKey]) -> AsyncIterator[MockApns]:
    async with MockApns(
        public_key=push_key[1].public_key(), key_id=PUSH_KEY_ID, team_id=PUSH_TEAM_ID, topic=PUSH_TOPIC
    ) as server:
        yield server


@pytest.fixture
def apns_settings(apns_mock: MockApns, push_key: tuple[Path, ec.EllipticCurvePrivateKey]) -> ApnsSettings:
    return ApnsSettings(
        endpoint=apns_mock.endpoint,
        ca_file=str(apns_mock.ca_file),
        key_file=str(push_key[0]),
        key_id=PUSH_KEY_ID,
        team_id=PUSH_TEAM_ID,
        topic=PUSH_TOPIC,
    )


@pytest.fixture
async def fcm_mock() -> AsyncIterator[MockFcm]:
    async with MockFcm() as server:
        yield server


@pytest.fixture
def fcm_settings(fcm_mock: MockFcm, tmp_path: Path) -> FcmSettings:
    account = fcm_mock.write_service_account(tmp_path / "fcm-service-account.json")
    return FcmSettings(credentials_file=str(account), endpoint=fcm_mock.endpoint, ca_file=str(fcm_mock.ca_file))


@pytest.fixture
async def phones_job(settings: Settings, apns_settings: ApnsSettings, fcm_settings: FcmSettings) -> AsyncIterator[Job]:
    """The worker's real `push-notifications` job with both transports (to the two mocks) and no server quiet hours;
    it runs rounds until nothing is due, as the worker's loop would (other tests leave events behind)."""
    [job] = [job for name, job in WORKER_JOBS if name == "push-notifications"]
    configured = replace(settings, apns=apns_settings, fcm=fcm_settings, quiet_hours="")
    await worker.close_push_senders()  # a dispatcher of another test's configuration must not be reused

    async def run(_: Settings) -> int:
        handled = 0
        while count := await job(configured):
            handled += count
        return handled

    yield run
    await worker.close_push_senders()


MakeDispatcher = Callable[..., PushDispatcher]


@pytest.fixture
async def make_dispatcher(
    app: object, apns_settings: ApnsSettings, fcm_settings: FcmSettings
) -> AsyncIterator[MakeDispatcher]:
    """Dispatchers sending through the real ApnsSender and FcmSender to the mocks (the app fixture opened the pool)."""
    senders: list[ApnsSender | FcmSender] = []

    def make(*, quiet_hours: str = "", retry: RetryPolicy = TEST_RETRY, **options: object) -> PushDispatcher:
        sender = ApnsSender(apns_settings, timeout=5.0)
        fcm = FcmSender(fcm_settings, timeout=5.0)
        senders.extend((sender, fcm))
        return PushDispatcher(sender, fcm=fcm, quiet_hours=QuietHours.parse(quiet_hours), retry=retry, **options)  # type: ignore[arg-type]

    yield make
    for sender in senders:
        await sender.close()


async def register(
    client: httpx.AsyncClient,
    citizen: Citizen,
    token: str | None = None,
    *,
    locale: str = "nb",
    environment: str = "production",
    platform: str = "ios",
) -> str:
    token = token or (fcm_token() if platform == "android" else device_token())
    response = await client.put(
        f"/citizen/v1/me/devices/{token}",
        json={"platform": platform, "environment": environment, "bundleId": PUSH_TOPIC, "locale": locale},
        headers=citizen.headers,
    )
    assert response.status_code == 204, response.text
    return token


async def append(
    patient_id: uuid.UUID, type: EventType, resource_id: str | None = None, *, citizen_visible: bool | None = None
) -> int:
    """Append a patient event as a domain would, in its own transaction; returns the event's id.

    For the worker's mechanics (retries, tokens, quiet hours); that real writes reach the phone is
    tests/notifications/test_end_to_end_pushes.py.
    """
    resource = resource_id or str(uuid.uuid4())
    async with DB.transaction():
        seq = await events.append_event(patient_id, type, resource, citizen_visible=citizen_visible)
    async with DB.connection() as connection:
        event_id: int = await connection.fetchval(
            "SELECT id FROM event WHERE patient_id = $1 AND seq = $2", patient_id, seq
        )
    return event_id


async def append_topic(topic: str, resource_id: str = "some-page") -> int:
    async with DB.transaction():
        await events.append_topic_event(topic, EventType.PAGE_PUBLISHED, resource_id)
    async with DB.connection() as connection:
        event_id: int = await connection.fetchval("SELECT max(id) FROM topic_event WHERE topic = $1", topic)
    return event_id


async def event_row(db: asyncpg.Connection, event_id: int) -> asyncpg.Record:
    # Event ids come from one sequence: a topic event's id is in topic_event, a patient event's in event.
    row = await db.fetchrow("SELECT * FROM event WHERE id = $1", event_id) or await db.fetchrow(
        "SELECT * FROM topic_event WHERE id = $1", event_id
    )
    assert row is not None
    return row


async def attempts_of(db: asyncpg.Connection, event_id: int) -> list[asyncpg.Record]:
    return list(await db.fetch("SELECT * FROM push_attempt WHERE event_id = $1 ORDER BY id", event_id))


async def make_due(db: asyncpg.Connection, event_id: int) -> None:
    """Fast-forward a deferred event's back-off instead of sleeping through it."""
    await db.execute("UPDATE event SET available_at = now() WHERE id = $1", event_id)


Drain = Callable[[PushDispatcher], Awaitable[int]]
