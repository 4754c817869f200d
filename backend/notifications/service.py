"""Rules for push registrations and topic subscriptions, and the queries the push worker runs on them."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from backend.core import events
from backend.core.access import Grant
from backend.core.clock import utcnow
from backend.core.db import DB
from backend.core.errors import BadRequest, NotFound
from backend.core.topics import TOPICS, is_topic
from backend.notifications.schemas import Device, DeviceIn, DeviceList, Subscription, SubscriptionList

_DEVICE_TOKEN = re.compile(r"[0-9a-fA-F]{64}")


def _valid_token(token: str) -> str:
    if not _DEVICE_TOKEN.fullmatch(token):
        raise BadRequest("an APNs device token is 64 hexadecimal characters", field="deviceToken")
    return token.lower()


def _valid_topic(topic: str) -> str:
    if not is_topic(topic):
        raise BadRequest(f"unknown topic; known topics: {', '.join(sorted(TOPICS))}", field="topic")
    return topic


# --- devices ----------------------------------------------------------------------------------------------


async def register_device(me: Grant, token: str, data: DeviceIn) -> None:
    """Register (or refresh) the caller's device; a token registered by another citizen moves to the caller.

    The token is only known to whoever holds the phone, so registering it is proof enough: when a phone
    changes hands, its pushes follow the person now logged in. Re-registering reactivates a token APNs
    had refused, and its new `registered_at` protects it from APNs answers about the old registration.
    """
    token = _valid_token(token)
    async with DB.transaction(), DB.connection() as connection:
        # The token's owner (push_device_token, keyed by the token), locked: registrations of one token queue here.
        await connection.execute(
            "INSERT INTO push_device_token (token, patient_id, device_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            token,
            me.patient_id,
            uuid.uuid4(),
        )
        owner = await connection.fetchrow(
            "SELECT patient_id, device_id FROM push_device_token WHERE token = $1 FOR UPDATE", token
        )
        previous: uuid.UUID = owner["patient_id"]
        if previous != me.patient_id:
            # The phone changed hands: the token leaves the previous citizen's devices (the device keeps its id).
            await connection.execute("DELETE FROM push_device WHERE patient_id = $1 AND token = $2", previous, token)
            await connection.execute(
                "UPDATE push_device_token SET patient_id = $2 WHERE token = $1", token, me.patient_id
            )
        device_id = await connection.fetchval(
            """
            INSERT INTO push_device (id, patient_id, token, platform, environment, bundle_id, locale,
                                     registered_at, disabled_at, disabled_reason)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL)
            ON CONFLICT (patient_id, token) DO UPDATE SET
                platform = EXCLUDED.platform, environment = EXCLUDED.environment,
                bundle_id = EXCLUDED.bundle_id, locale = EXCLUDED.locale, registered_at = EXCLUDED.registered_at,
                disabled_at = NULL, disabled_reason = NULL
            RETURNING id
            """,
            owner["device_id"],
            me.patient_id,
            token,
            data.platform,
            data.environment,
            data.bundle_id,
            data.locale,
            utcnow(),
        )
        if previous != me.patient_id:
            await events.append_event(previous, events.EventType.DEVICE_REMOVED, device_id)
        await events.append_event(me.patient_id, events.EventType.DEVICE_REGISTERED, device_id)


async def remove_device(me: Grant, token: str) -> None:
    token = _valid_token(token)
    async with DB.transaction(), DB.connection() as connection:
        device_id = await connection.fetchval(
            "DELETE FROM push_device WHERE token = $1 AND patient_id = $2 RETURNING id", token, me.patient_id
        )
        if device_id is None:
            raise NotFound("no such device registered to you")
        await connection.execute(
            "DELETE FROM push_device_token WHERE token = $1 AND patient_id = $2", token, me.patient_id
        )
        await events.append_event(me.patient_id, events.EventType.DEVICE_REMOVED, device_id)


async def list_devices(me: Grant) -> DeviceList:
    async with DB.connection() as connection:
        rows = await connection.fetch(
            """
            SELECT token, platform, environment, bundle_id, locale, registered_at, disabled_at
            FROM push_device WHERE patient_id = $1 ORDER BY registered_at, token
            """,
            me.patient_id,
        )
    return DeviceList(
        items=[
            Device(
                device_token=row["token"],
                platform=row["platform"],
                environment=row["environment"],
                bundle_id=row["bundle_id"],
                locale=row["locale"],
                registered_at=row["registered_at"],
                active=row["disabled_at"] is None,
            )
            for row in rows
        ]
    )


# --- topic subscriptions ----------------------------------------------------------------------------------


async def subscribe(me: Grant, topic: str) -> None:
    topic = _valid_topic(topic)
    async with DB.transaction(), DB.connection() as connection:
        inserted = await connection.fetchval(
            """
            INSERT INTO topic_subscription (id, patient_id, topic, created_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT (patient_id, topic) DO NOTHING RETURNING id
            """,
            uuid.uuid4(),
            me.patient_id,
            topic,
            utcnow(),
        )
        if inserted is not None:
            # The worker finds a topic's followers here (keyed by the topic), not across patients' subscriptions.
            await connection.execute(
                "INSERT INTO topic_follower (topic, patient_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                topic,
                me.patient_id,
            )
            await events.append_event(me.patient_id, events.EventType.SUBSCRIPTION_ADDED, topic)


async def unsubscribe(me: Grant, topic: str) -> None:
    topic = _valid_topic(topic)
    async with DB.transaction(), DB.connection() as connection:
        removed = await connection.execute(
            "DELETE FROM topic_subscription WHERE patient_id = $1 AND topic = $2", me.patient_id, topic
        )
        if removed != "DELETE 0":
            await connection.execute(
                "DELETE FROM topic_follower WHERE topic = $1 AND patient_id = $2", topic, me.patient_id
            )
            await events.append_event(me.patient_id, events.EventType.SUBSCRIPTION_REMOVED, topic)


async def list_subscriptions(me: Grant) -> SubscriptionList:
    async with DB.connection() as connection:
        rows = await connection.fetch(
            "SELECT topic, created_at FROM topic_subscription WHERE patient_id = $1 ORDER BY topic", me.patient_id
        )
    return SubscriptionList(
        items=[Subscription(topic=row["topic"], title=TOPICS[row["topic"]], since=row["created_at"]) for row in rows]
    )


# --- what the push worker reads and writes ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Recipient:
    """An active device to notify, for a patient event or a followed topic."""

    device_id: uuid.UUID
    patient_id: uuid.UUID
    token: str
    environment: str
    locale: str
    registered_at: datetime


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    event_id: int
    event_type: str
    device_id: uuid.UUID
    patient_id: uuid.UUID  # the device's owner, for a topic event too
    outcome: str  # delivered | retry | failed | disabled | expired
    status: int
    reason: str | None
    apns_id: str | None
    worker: str
    at: datetime


def _recipient(row: asyncpg.Record) -> Recipient:
    return Recipient(
        device_id=row["id"],
        patient_id=row["patient_id"],
        token=row["token"],
        environment=row["environment"],
        locale=row["locale"],
        registered_at=row["registered_at"],
    )


async def devices_of_patients(patient_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[Recipient]]:
    ids = list(set(patient_ids))
    if not ids:
        return {}
    async with DB.connection() as connection:
        rows = await connection.fetch(
            """
            SELECT id, patient_id, token, environment, locale, registered_at FROM push_device
            WHERE patient_id = ANY($1::uuid[]) AND disabled_at IS NULL
            """,
            ids,
        )
    found: dict[uuid.UUID, list[Recipient]] = {}
    for row in rows:
        found.setdefault(row["patient_id"], []).append(_recipient(row))
    return found


async def devices_following(topics: Iterable[str]) -> dict[str, list[Recipient]]:
    """Active devices of everyone following each topic (a worker-side fan-out, not a request path)."""
    names = list(set(topics))
    if not names:
        return {}
    async with DB.connection() as connection:
        # Followers from topic_follower (keyed by the topic), then their devices (keyed by the patient).
        followers = await connection.fetch(
            "SELECT topic, patient_id FROM topic_follower WHERE topic = ANY($1::text[])", names
        )
    devices = await devices_of_patients(row["patient_id"] for row in followers)
    found: dict[str, list[Recipient]] = {}
    for row in followers:
        found.setdefault(row["topic"], []).extend(devices.get(row["patient_id"], []))
    return found


async def settled_deliveries(event_ids: Sequence[int]) -> set[tuple[int, uuid.UUID]]:
    """(event, device) pairs with a final outcome: a retried event is not sent to them again."""
    if not event_ids:
        return set()
    async with DB.connection() as connection:
        rows = await connection.fetch(
            """
            SELECT DISTINCT event_id, device_id FROM push_attempt
            WHERE event_id = ANY($1::bigint[]) AND outcome <> 'retry'
            """,
            list(event_ids),
        )
    return {(row["event_id"], row["device_id"]) for row in rows}


async def record_attempts(attempts: Sequence[AttemptRecord]) -> None:
    if not attempts:
        return
    async with DB.connection() as connection:
        await connection.execute(
            """
            INSERT INTO push_attempt (event_id, event_type, device_id, patient_id, outcome, status, reason, apns_id,
                                      worker, at)
            SELECT * FROM unnest($1::bigint[], $2::text[], $3::uuid[], $4::uuid[], $5::text[], $6::int[],
                                 $7::text[], $8::text[], $9::text[], $10::timestamptz[])
            """,
            [a.event_id for a in attempts],
            [a.event_type for a in attempts],
            [a.device_id for a in attempts],
            [a.patient_id for a in attempts],
            [a.outcome for a in attempts],
            [a.status for a in attempts],
            [a.reason for a in attempts],
            [a.apns_id for a in attempts],
            [a.worker for a in attempts],
            [a.at for a in attempts],
        )


async def disable_device(recipient: Recipient, reason: str, invalid_since: datetime, at: datetime) -> bool:
    """Stop sending to a token APNs refused, unless it was registered again after APNs's `invalid_since`."""
    async with DB.connection() as connection:
        result: str = await connection.execute(
            """
            UPDATE push_device SET disabled_at = $4, disabled_reason = $3
            WHERE id = $1 AND patient_id = $2 AND registered_at < $5 AND disabled_at IS NULL
            """,
            recipient.device_id,
            recipient.patient_id,
            reason,
            at,
            invalid_since,
        )
    return result != "UPDATE 0"


async def outbox_age_seconds() -> float:
    """Age of the oldest due, undelivered event (0 when the outbox is drained)."""
    async with DB.connection() as connection:
        age: float | None = await connection.fetchval(
            """
            SELECT EXTRACT(EPOCH FROM now() - min(available_at))::float8 FROM (
                SELECT available_at FROM event WHERE dispatched_at IS NULL AND available_at <= now()
                UNION ALL
                SELECT available_at FROM topic_event WHERE dispatched_at IS NULL AND available_at <= now()
            ) AS due
            """
        )
    return max(age or 0.0, 0.0)
