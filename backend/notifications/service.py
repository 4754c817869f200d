"""Rules for push registrations and topic subscriptions, and what the push worker asks of the database.

The citizen's routes act on her own record only (`MeGrant`); every statement is in queries.py.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

import msgspec
from prometheus_client import Counter

from backend.core import events
from backend.core.access import Grant
from backend.core.clock import utcnow
from backend.core.db import DB
from backend.core.errors import BadRequest, NotFound
from backend.core.paging import BeforeTimeAndId, Instant, Position, clamp_limit, decode_cursor, keyset_page
from backend.core.settings import SettingsError
from backend.core.topics import TOPICS, is_topic
from backend.notifications import queries
from backend.notifications.queries import AttemptRecord, InboxEntry, Recipient
from backend.notifications.rules import LOCALES, PREFERENCE_KINDS, QuietHours, text_of
from backend.notifications.schemas import (
    Device,
    DeviceIn,
    DeviceList,
    Notification,
    NotificationList,
    PreferenceKinds,
    Preferences,
    ReadAll,
    Subscription,
    SubscriptionList,
)

__all__ = [
    "AttemptRecord",
    "Choice",
    "InboxEntry",
    "Recipient",
    "devices_following",
    "devices_of_patients",
    "disable_device",
    "get_preferences",
    "list_devices",
    "list_notifications",
    "list_subscriptions",
    "mark_all_read",
    "mark_read",
    "outbox_age_seconds",
    "preferences_of",
    "purge_inbox",
    "put_preferences",
    "record_attempts",
    "register_device",
    "remove_device",
    "settled_deliveries",
    "store_in_inbox",
    "subscribe",
    "unsubscribe",
]

_DEVICE_TOKEN = re.compile(r"[0-9a-fA-F]{64}")
# FCM registration tokens: URL-safe characters (and ':'), case-sensitive, typically 150-200 long.
_FCM_TOKEN = re.compile(r"[A-Za-z0-9_:\-]{20,512}")

# The API process's count of registrations by transport (its /metrics); the worker counts the sends.
REGISTRATIONS = Counter("helsekort_push_registrations", "Devices registered for push, by transport", ["transport"])


def _valid_token(token: str, platform: str | None = None) -> str:
    """An APNs token (stored in lower case), or an FCM token (kept as given: FCM's are case-sensitive).

    Without a platform (removing a device) a 64-hex token is an APNs token, anything else FCM-shaped an FCM one.
    """
    if platform != "android" and _DEVICE_TOKEN.fullmatch(token):
        return token.lower()
    if platform != "ios" and _FCM_TOKEN.fullmatch(token):
        return token
    if platform == "ios":
        raise BadRequest("an APNs device token is 64 hexadecimal characters", field="deviceToken")
    raise BadRequest(
        "a device token is an APNs token (64 hexadecimal characters) or an FCM registration token"
        " (20-512 letters, digits, '_', '-', ':')",
        field="deviceToken",
    )


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
    token = _valid_token(token, data.platform)
    device = queries.NewDevice(data.platform, data.environment, data.bundle_id, data.locale, utcnow())
    async with DB.transaction(), DB.connection() as connection:
        registered = await queries.register_device(connection, me.patient_id, token, device)
        if registered.previous_owner is not None and registered.previous_owner != me.patient_id:
            await events.append_event(registered.previous_owner, events.EventType.DEVICE_REMOVED, registered.device_id)
        await events.append_event(me.patient_id, events.EventType.DEVICE_REGISTERED, registered.device_id)
    REGISTRATIONS.labels(transport="fcm" if data.platform == "android" else "apns").inc()


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


# --- the inbox ----------------------------------------------------------------------------------------------


def _locale(locale: str | None) -> str:
    if locale is None:
        return "nb"
    if locale not in LOCALES:
        raise BadRequest(f"locale must be one of {', '.join(LOCALES)}", field="locale")
    return locale


def _notification_id(notification_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(notification_id)
    except ValueError:
        raise NotFound("no such notification") from None


async def list_notifications(me: Grant, cursor: str | None, limit: int | None, locale: str | None) -> NotificationList:
    """Her notifications, newest first, with each kind's text in `locale` (default nb) and her unread count."""
    language = _locale(locale)
    size = clamp_limit(limit)
    position = decode_cursor(cursor, BeforeTimeAndId)
    async with DB.connection() as connection:
        rows = await queries.inbox(
            connection, me.patient_id, after=(position.at, position.id) if position else None, limit=size + 1
        )
        unread = await queries.unread_count(connection, me.patient_id)
    kept, following = keyset_page(rows, size, lambda row: BeforeTimeAndId(at=row.at, id=row.id))
    return NotificationList(
        items=[
            Notification(
                id=str(row.id),
                kind=row.kind,
                text=text_of(row.kind, language),
                at=row.at,
                read=row.read_at is not None,
                resource_type=row.resource_type,
                resource_id=row.resource_id,
            )
            for row in kept
        ],
        next=following,
        unread=unread,
    )


async def mark_read(me: Grant, notification_id: str) -> None:
    """Mark one of hers read (again: no change); another's, or none, is 404."""
    found_id = _notification_id(notification_id)
    async with DB.connection() as connection:
        if not await queries.mark_read(connection, me.patient_id, found_id, utcnow()):
            raise NotFound("no such notification")


async def mark_all_read(me: Grant) -> ReadAll:
    async with DB.connection() as connection:
        marked = await queries.mark_all_read(connection, me.patient_id, utcnow())
        unread = await queries.unread_count(connection, me.patient_id)
    return ReadAll(marked=marked, unread=unread)


async def store_in_inbox(entries: Sequence[InboxEntry]) -> int:
    """The worker's part: every notifying event lands in the inbox once, before (and whether or not) it pushes."""
    if not entries:
        return 0
    async with DB.connection() as connection:
        return await queries.insert_inbox(connection, entries)


INBOX_KEPT = timedelta(days=365)


async def purge_inbox(*, slice_size: int = 5000) -> int:
    """Delete notifications older than 12 months, a slice at a time; returns how many went."""
    before = utcnow() - INBOX_KEPT
    removed = 0
    while True:
        async with DB.connection() as connection:
            count = await queries.purge_inbox(connection, before, slice_size)
        removed += count
        if count < slice_size:
            return removed


# --- preferences ------------------------------------------------------------------------------------------

# The JSON names of the kinds (PreferenceKinds's camelCase fields), in PREFERENCE_KINDS's order.
_KIND_FIELDS = dict(zip(PREFERENCE_KINDS, PreferenceKinds.__struct_fields__, strict=True))


async def get_preferences(me: Grant) -> Preferences:
    async with DB.connection() as connection:
        rows = await queries.preferences(connection, [me.patient_id])
    disabled = set(rows[0].disabled_kinds) if rows else set()
    quiet = rows[0].quiet_hours if rows else None
    kinds = PreferenceKinds(**{field: kind not in disabled for kind, field in _KIND_FIELDS.items()})
    return Preferences(kinds=kinds, quiet_hours=quiet)


async def put_preferences(me: Grant, data: Preferences) -> Preferences:
    """Replace her preferences; quiet hours that start and end at the same time are refused (naming the field)."""
    if data.quiet_hours is not None:
        try:
            QuietHours.parse(data.quiet_hours)
        except SettingsError:
            raise BadRequest("quiet hours must start and end at different times", field="quietHours") from None
    disabled = [kind for kind, field in _KIND_FIELDS.items() if not getattr(data.kinds, field)]
    async with DB.connection() as connection:
        await queries.save_preferences(connection, me.patient_id, disabled, data.quiet_hours, utcnow())
    return await get_preferences(me)


@dataclass(frozen=True, slots=True)
class Choice:
    """What the worker needs of one citizen's preferences."""

    disabled: frozenset[str]
    quiet_hours: QuietHours | None  # None: the server's


async def preferences_of(patient_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Choice]:
    ids = list(set(patient_ids))
    if not ids:
        return {}
    async with DB.connection() as connection:
        rows = await queries.preferences(connection, ids)
    found: dict[uuid.UUID, Choice] = {}
    for row in rows:
        try:
            quiet = QuietHours.parse(row.quiet_hours) if row.quiet_hours else None
        except SettingsError:
            quiet = None  # refused when stored; the server's hours stand in should one ever be malformed
        found[row.patient_id] = Choice(disabled=frozenset(row.disabled_kinds), quiet_hours=quiet)
    return found


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
    """Stop sending to a token APNs or FCM refused, unless it was registered again after APNs's `invalid_since`."""
    async with DB.connection() as connection:
        return await queries.disable_device(connection, recipient, reason, invalid_since, at)


outbox_age_seconds = events.outbox_age_seconds  # the worker's queue-age gauge reads core's outbox
