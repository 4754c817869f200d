"""Rules for push registrations and topic subscriptions, and what the push worker asks of the database.

The citizen's routes act on her own record only (`MeGrant`); every statement is in queries.py.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Annotated

import msgspec

from backend.core import events
from backend.core.access import Grant
from backend.core.clock import utcnow
from backend.core.db import DB
from backend.core.errors import BadRequest, NotFound
from backend.core.paging import Instant, Position, clamp_limit, decode_cursor, keyset_page
from backend.core.topics import TOPICS, is_topic
from backend.notifications import queries
from backend.notifications.queries import AttemptRecord, Recipient
from backend.notifications.schemas import Device, DeviceIn, DeviceList, Subscription, SubscriptionList

__all__ = [
    "AttemptRecord",
    "Recipient",
    "devices_following",
    "devices_of_patients",
    "disable_device",
    "list_devices",
    "list_subscriptions",
    "outbox_age_seconds",
    "record_attempts",
    "register_device",
    "remove_device",
    "settled_deliveries",
    "subscribe",
    "unsubscribe",
]

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
    device = queries.NewDevice(data.platform, data.environment, data.bundle_id, data.locale, utcnow())
    async with DB.transaction(), DB.connection() as connection:
        registered = await queries.register_device(connection, me.patient_id, token, device)
        if registered.previous_owner is not None and registered.previous_owner != me.patient_id:
            await events.append_event(registered.previous_owner, events.EventType.DEVICE_REMOVED, registered.device_id)
        await events.append_event(me.patient_id, events.EventType.DEVICE_REGISTERED, registered.device_id)


async def remove_device(me: Grant, token: str) -> None:
    token = _valid_token(token)
    async with DB.transaction(), DB.connection() as connection:
        device_id = await queries.delete_device(connection, me.patient_id, token)
        if device_id is None:
            raise NotFound("no such device registered to you")
        await events.append_event(me.patient_id, events.EventType.DEVICE_REMOVED, device_id)


class _AfterDevice(Position):
    at: Instant
    token: Annotated[str, msgspec.Meta(max_length=64)]


async def list_devices(me: Grant, cursor: str | None, limit: int | None) -> DeviceList:
    size = clamp_limit(limit)
    position = decode_cursor(cursor, _AfterDevice)
    async with DB.connection() as connection:
        rows = await queries.devices(
            connection, me.patient_id, after=(position.at, position.token) if position else None, limit=size + 1
        )
    kept, following = keyset_page(rows, size, lambda row: _AfterDevice(at=row.registered_at, token=row.token))
    return DeviceList(
        items=[
            Device(
                device_token=row.token,
                platform=row.platform,
                environment=row.environment,
                bundle_id=row.bundle_id,
                locale=row.locale,
                registered_at=row.registered_at,
                active=row.disabled_at is None,
            )
            for row in kept
        ],
        next=following,
    )


# --- topic subscriptions ----------------------------------------------------------------------------------


async def subscribe(me: Grant, topic: str) -> None:
    topic = _valid_topic(topic)
    async with DB.transaction(), DB.connection() as connection:
        if await queries.insert_subscription(connection, me.patient_id, topic, utcnow()):
            await events.append_event(me.patient_id, events.EventType.SUBSCRIPTION_ADDED, topic)


async def unsubscribe(me: Grant, topic: str) -> None:
    topic = _valid_topic(topic)
    async with DB.transaction(), DB.connection() as connection:
        if await queries.delete_subscription(connection, me.patient_id, topic):
            await events.append_event(me.patient_id, events.EventType.SUBSCRIPTION_REMOVED, topic)


class _AfterTopic(Position):
    topic: Annotated[str, msgspec.Meta(max_length=64)]


async def list_subscriptions(me: Grant, cursor: str | None, limit: int | None) -> SubscriptionList:
    size = clamp_limit(limit)
    position = decode_cursor(cursor, _AfterTopic)
    async with DB.connection() as connection:
        rows = await queries.subscriptions(
            connection, me.patient_id, after=position.topic if position else None, limit=size + 1
        )
    kept, following = keyset_page(rows, size, lambda row: _AfterTopic(topic=row.topic))
    return SubscriptionList(
        items=[Subscription(topic=row.topic, title=TOPICS[row.topic], since=row.created_at) for row in kept],
        next=following,
    )


# --- what the push worker reads and writes ------------------------------------------------------------------


async def devices_of_patients(patient_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[Recipient]]:
    ids = list(set(patient_ids))
    if not ids:
        return {}
    async with DB.connection() as connection:
        recipients = await queries.active_devices_of(connection, ids)
    found: dict[uuid.UUID, list[Recipient]] = {}
    for recipient in recipients:
        found.setdefault(recipient.patient_id, []).append(recipient)
    return found


async def devices_following(topics: Iterable[str]) -> dict[str, list[Recipient]]:
    """Active devices of everyone following each topic (a worker-side fan-out, not a request path)."""
    names = list(set(topics))
    if not names:
        return {}
    async with DB.connection() as connection:
        pairs = await queries.active_devices_following(connection, names)
    found: dict[str, list[Recipient]] = {}
    for topic, recipient in pairs:
        found.setdefault(topic, []).append(recipient)
    return found


async def settled_deliveries(event_ids: Sequence[int]) -> set[tuple[int, uuid.UUID]]:
    """(event, device) pairs with a final outcome: a retried event is not sent to them again."""
    if not event_ids:
        return set()
    async with DB.connection() as connection:
        return await queries.settled_deliveries(connection, list(event_ids))


async def record_attempts(attempts: Sequence[AttemptRecord]) -> None:
    if not attempts:
        return
    async with DB.connection() as connection:
        await queries.insert_attempts(connection, attempts)


async def disable_device(recipient: Recipient, reason: str, invalid_since: datetime, at: datetime) -> bool:
    """Stop sending to a token APNs refused, unless it was registered again after APNs's `invalid_since`."""
    async with DB.connection() as connection:
        return await queries.disable_device(connection, recipient, reason, invalid_since, at)


outbox_age_seconds = events.outbox_age_seconds  # the worker's queue-age gauge reads core's outbox
