"""Every SQL statement of the notifications domain: devices, topic subscriptions, and what the push worker reads and writes.

Functions take a connection and plain values and return typed rows; the rules (a valid token, which event a
registration appends, who follows what) are in service.py, the sending in worker.py. The outbox claim itself
is core's (`backend.core.events.claim_events`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple


@dataclass(frozen=True, slots=True)
class Recipient:
    """An active device to notify, for a patient event or a followed topic."""

    device_id: uuid.UUID
    patient_id: uuid.UUID
    token: str
    environment: str
    locale: str
    registered_at: datetime
    platform: str = "ios"  # ios (APNs) | android (FCM)


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


class DeviceRow(NamedTuple):
    token: str
    platform: str
    environment: str
    bundle_id: str
    locale: str
    registered_at: datetime
    disabled_at: datetime | None


class SubscriptionRow(NamedTuple):
    topic: str
    created_at: datetime


class NewDevice(NamedTuple):
    platform: str
    environment: str
    bundle_id: str
    locale: str
    registered_at: datetime


class Registered(NamedTuple):
    device_id: uuid.UUID
    previous_owner: uuid.UUID | None  # who held the token before (None: a new token)


# --- the citizen's devices and subscriptions ----------------------------------------------------------------


# A token has one owner across patients: push_device_token (keyed by the token) says who; push_device rows are
# keyed by (patient_id, ...) like every patient table.
async def register_device(connection: Any, patient_id: uuid.UUID, token: str, device: NewDevice) -> Registered:
    """Insert the token for `patient_id`, or move and refresh it; inside the caller's transaction (it locks the token)."""
    # The token's owner, locked: registrations of one token queue here.
    await connection.execute(
        "INSERT INTO push_device_token (token, patient_id, device_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        token,
        patient_id,
        uuid.uuid4(),
    )
    owner = await connection.fetchrow(
        "SELECT patient_id, device_id FROM push_device_token WHERE token = $1 FOR UPDATE", token
    )
    previous: uuid.UUID = owner["patient_id"]
    if previous != patient_id:
        # The phone changed hands: the token leaves the previous citizen's devices (the device keeps its id).
        await connection.execute("DELETE FROM push_device WHERE patient_id = $1 AND token = $2", previous, token)
        await connection.execute("UPDATE push_device_token SET patient_id = $2 WHERE token = $1", token, patient_id)
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
        patient_id,
        token,
        device.platform,
        device.environment,
        device.bundle_id,
        device.locale,
        device.registered_at,
    )
    return Registered(device_id=device_id, previous_owner=previous if previous != patient_id else None)


async def delete_device(connection: Any, patient_id: uuid.UUID, token: str) -> uuid.UUID | None:
    """The removed device's id, or None when the token is not this patient's."""
    device_id: uuid.UUID | None = await connection.fetchval(
        "DELETE FROM push_device WHERE token = $1 AND patient_id = $2 RETURNING id", token, patient_id
    )
    if device_id is not None:
        await connection.execute(
            "DELETE FROM push_device_token WHERE token = $1 AND patient_id = $2", token, patient_id
        )
    return device_id


async def devices(
    connection: Any, patient_id: uuid.UUID, *, after: tuple[datetime, str] | None, limit: int
) -> list[DeviceRow]:
    """Oldest registration first (then by token), after the (registered_at, token) position when given."""
    rows = await connection.fetch(
        """
        SELECT token, platform, environment, bundle_id, locale, registered_at, disabled_at
        FROM push_device
        WHERE patient_id = $1 AND ($2::timestamptz IS NULL OR (registered_at, token) > ($2, $3::text))
        ORDER BY registered_at, token LIMIT $4
        """,
        patient_id,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [DeviceRow(*row) for row in rows]


# ON CONFLICT names the unique key (patient_id, topic): it already leads with the patient.
async def insert_subscription(connection: Any, patient_id: uuid.UUID, topic: str, at: datetime) -> bool:
    """True when she did not follow the topic yet."""
    inserted = await connection.fetchval(
        """
        INSERT INTO topic_subscription (id, patient_id, topic, created_at) VALUES ($1, $2, $3, $4)
        ON CONFLICT (patient_id, topic) DO NOTHING RETURNING id
        """,
        uuid.uuid4(),
        patient_id,
        topic,
        at,
    )
    if inserted is not None:
        # The worker finds a topic's followers here (keyed by the topic), not across patients' subscriptions.
        await connection.execute(
            "INSERT INTO topic_follower (topic, patient_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", topic, patient_id
        )
    return inserted is not None


async def delete_subscription(connection: Any, patient_id: uuid.UUID, topic: str) -> bool:
    """True when she followed the topic."""
    removed: str = await connection.execute(
        "DELETE FROM topic_subscription WHERE patient_id = $1 AND topic = $2", patient_id, topic
    )
    if removed != "DELETE 0":
        await connection.execute("DELETE FROM topic_follower WHERE topic = $1 AND patient_id = $2", topic, patient_id)
    return removed != "DELETE 0"


async def subscriptions(
    connection: Any, patient_id: uuid.UUID, *, after: str | None, limit: int
) -> list[SubscriptionRow]:
    """By topic, after the topic `after` when given."""
    rows = await connection.fetch(
        """
        SELECT topic, created_at FROM topic_subscription
        WHERE patient_id = $1 AND ($2::text IS NULL OR topic > $2) ORDER BY topic LIMIT $3
        """,
        patient_id,
        after,
        limit,
    )
    return [SubscriptionRow(row["topic"], row["created_at"]) for row in rows]


# --- the push worker ----------------------------------------------------------------------------------------


def _recipient(row: Any) -> Recipient:
    return Recipient(
        device_id=row["id"],
        patient_id=row["patient_id"],
        token=row["token"],
        environment=row["environment"],
        locale=row["locale"],
        registered_at=row["registered_at"],
        platform=row["platform"],
    )


async def active_devices_of(connection: Any, patient_ids: list[uuid.UUID]) -> list[Recipient]:
    rows = await connection.fetch(
        """
        SELECT id, patient_id, token, environment, locale, registered_at, platform FROM push_device
        WHERE patient_id = ANY($1::uuid[]) AND disabled_at IS NULL
        """,
        patient_ids,
    )
    return [_recipient(row) for row in rows]


async def active_devices_following(connection: Any, topics: list[str]) -> list[tuple[str, Recipient]]:
    """(topic, device) for every active device of everyone following one of `topics`."""
    # Followers from topic_follower (keyed by the topic), then their devices (keyed by the patient).
    followers = await connection.fetch(
        "SELECT topic, patient_id FROM topic_follower WHERE topic = ANY($1::text[])", topics
    )
    devices = await active_devices_of(connection, list({row["patient_id"] for row in followers}))
    by_patient: dict[uuid.UUID, list[Recipient]] = {}
    for device in devices:
        by_patient.setdefault(device.patient_id, []).append(device)
    return [(row["topic"], device) for row in followers for device in by_patient.get(row["patient_id"], [])]


async def settled_deliveries(connection: Any, event_ids: list[int]) -> set[tuple[int, uuid.UUID]]:
    rows = await connection.fetch(
        """
        SELECT DISTINCT event_id, device_id FROM push_attempt
        WHERE event_id = ANY($1::bigint[]) AND outcome <> 'retry'
        """,
        event_ids,
    )
    return {(row["event_id"], row["device_id"]) for row in rows}


async def insert_attempts(connection: Any, attempts: Sequence[AttemptRecord]) -> None:
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


async def disable_device(
    connection: Any, recipient: Recipient, reason: str, invalid_since: datetime, at: datetime
) -> bool:
    """True when the device was disabled (it was active and registered before `invalid_since`)."""
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


# --- the inbox --------------------------------------------------------------------------------------------


class InboxRow(NamedTuple):
    id: uuid.UUID
    kind: str
    resource_type: str
    resource_id: str
    at: datetime
    read_at: datetime | None


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """One event to put in the inbox: a patient's (patient_id set) or a topic's (every follower's)."""

    event_id: int
    patient_id: uuid.UUID | None
    topic: str | None
    kind: str
    resource_type: str
    resource_id: str
    at: datetime


async def insert_inbox(connection: Any, entries: Sequence[InboxEntry]) -> int:
    """Store each entry once (a retried or deferred event is offered again); returns how many rows were new."""
    patient = [entry for entry in entries if entry.patient_id is not None]
    topic = [entry for entry in entries if entry.patient_id is None and entry.topic]
    added = 0
    if patient:
        status: str = await connection.execute(
            """
            INSERT INTO inbox_notification (id, patient_id, event_id, kind, resource_type, resource_id, at)
            SELECT gen_random_uuid(), * FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::text[],
                                                     $6::timestamptz[])
            ON CONFLICT (patient_id, event_id) DO NOTHING
            """,
            [entry.patient_id for entry in patient],
            [entry.event_id for entry in patient],
            [entry.kind for entry in patient],
            [entry.resource_type for entry in patient],
            [entry.resource_id for entry in patient],
            [entry.at for entry in patient],
        )
        added += int(status.rsplit(" ", 1)[-1])
    if topic:
        # Every follower of the topic (topic_follower is keyed by the topic), then one row in each one's inbox.
        status = await connection.execute(
            """
            INSERT INTO inbox_notification (id, patient_id, event_id, kind, resource_type, resource_id, at)
            SELECT gen_random_uuid(), f.patient_id, e.event_id, e.kind, e.resource_type, e.resource_id, e.at
            FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])
                 AS e (topic, event_id, kind, resource_type, resource_id, at)
            JOIN topic_follower f ON f.topic = e.topic
            ON CONFLICT (patient_id, event_id) DO NOTHING
            """,
            [entry.topic for entry in topic],
            [entry.event_id for entry in topic],
            [entry.kind for entry in topic],
            [entry.resource_type for entry in topic],
            [entry.resource_id for entry in topic],
            [entry.at for entry in topic],
        )
        added += int(status.rsplit(" ", 1)[-1])
    return added


async def inbox(
    connection: Any, patient_id: uuid.UUID, *, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[InboxRow]:
    """Newest first (then by id), after the (at, id) position when given."""
    rows = await connection.fetch(
        """
        SELECT id, kind, resource_type, resource_id, at, read_at FROM inbox_notification
        WHERE patient_id = $1 AND ($2::timestamptz IS NULL OR (at, id) < ($2, $3::uuid))
        ORDER BY at DESC, id DESC LIMIT $4
        """,
        patient_id,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [InboxRow(*row) for row in rows]


async def unread_count(connection: Any, patient_id: uuid.UUID) -> int:
    count: int = await connection.fetchval(
        "SELECT count(*) FROM inbox_notification WHERE patient_id = $1 AND read_at IS NULL", patient_id
    )
    return count


async def mark_read(connection: Any, patient_id: uuid.UUID, notification_id: uuid.UUID, at: datetime) -> bool:
    """True when the notification is hers (read before or now)."""
    found = await connection.fetchval(
        """
        UPDATE inbox_notification SET read_at = coalesce(read_at, $3)
        WHERE patient_id = $1 AND id = $2 RETURNING id
        """,
        patient_id,
        notification_id,
        at,
    )
    return found is not None


async def mark_all_read(connection: Any, patient_id: uuid.UUID, at: datetime) -> int:
    status: str = await connection.execute(
        "UPDATE inbox_notification SET read_at = $2 WHERE patient_id = $1 AND read_at IS NULL", patient_id, at
    )
    return int(status.rsplit(" ", 1)[-1])


async def purge_inbox(connection: Any, before: datetime, limit: int) -> int:
    """Delete up to `limit` notifications older than `before` (in slices, so no purge holds locks for long)."""
    status: str = await connection.execute(
        """
        DELETE FROM inbox_notification WHERE (patient_id, id) IN (
            SELECT patient_id, id FROM inbox_notification WHERE at < $1 LIMIT $2)
        """,
        before,
        limit,
    )
    return int(status.rsplit(" ", 1)[-1])


# --- preferences ----------------------------------------------------------------------------------------


class PreferenceRow(NamedTuple):
    patient_id: uuid.UUID
    disabled_kinds: list[str]
    quiet_hours: str | None


async def preferences(connection: Any, patient_ids: list[uuid.UUID]) -> list[PreferenceRow]:
    rows = await connection.fetch(
        """
        SELECT patient_id, disabled_kinds, quiet_hours FROM notification_preference
        WHERE patient_id = ANY($1::uuid[])
        """,
        patient_ids,
    )
    return [PreferenceRow(row["patient_id"], list(row["disabled_kinds"]), row["quiet_hours"]) for row in rows]


async def save_preferences(
    connection: Any, patient_id: uuid.UUID, disabled_kinds: Sequence[str], quiet_hours: str | None, at: datetime
) -> None:
    await connection.execute(
        """
        INSERT INTO notification_preference (id, patient_id, disabled_kinds, quiet_hours, updated_at)
        VALUES ($1, $2, $3::varchar[], $4, $5)
        ON CONFLICT (patient_id) DO UPDATE SET
            disabled_kinds = EXCLUDED.disabled_kinds, quiet_hours = EXCLUDED.quiet_hours,
            updated_at = EXCLUDED.updated_at
        """,
        uuid.uuid4(),
        patient_id,
        disabled_kinds,
        quiet_hours,
        at,
    )
