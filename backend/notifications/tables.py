"""Tables of push notifications: citizens' devices, their CMS topic subscriptions, and every delivery attempt.

Columns and nullability here match the database (tests/core/test_schema_catalogue.py). Keys do not: every
patient table's primary key is (patient_id, id) and its links to other patient tables are composite, which
Piccolo cannot declare; they, and the global lookup tables, live in the hand-written migrations of issue 13.
"""

from __future__ import annotations

import uuid

from piccolo.columns import UUID, Array, BigInt, BigSerial, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.core.db import DB
from backend.core.tables import Patient


class PushDevice(Table, tablename="push_device", db=DB):
    """An APNs or FCM device token; it belongs to one citizen at a time (registering it elsewhere moves it)."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, index=True, null=False)
    # One owner per token: push_device_token (keyed by the token); here unique per patient.
    token = Varchar(length=512)  # APNs: 64 hex characters; FCM: up to a few hundred, case-sensitive
    platform = Varchar(length=8)
    environment = Varchar(length=16)
    bundle_id = Varchar(length=155)
    locale = Varchar(length=2)
    # Compared with APNs's 410 timestamp: a token registered after it stays active.
    registered_at = Timestamptz(default=TimestamptzNow())
    disabled_at = Timestamptz(null=True, default=None)
    disabled_reason = Varchar(length=64, null=True, default=None)


class TopicSubscription(Table, tablename="topic_subscription", db=DB):
    """A citizen follows a CMS topic (backend.core.topics.TOPICS)."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, index=True, null=False)
    topic = Varchar(length=64)
    created_at = Timestamptz(default=TimestamptzNow())


class PushAttempt(Table, tablename="push_attempt", db=DB):
    """One send of one event to one device, with APNs's answer: the operators' record and the retry ledger.

    No foreign keys to the event or the device: devices are deleted by their owners and the record of
    what was sent must outlive them. `outcome` other than `retry` is final for that (event, device).
    """

    id = BigSerial(primary_key=True)
    event_id = BigInt()
    device_id = UUID()
    # The device's owner, for a topic event's send too.
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, null=False)
    event_type = Varchar(length=64)
    outcome = Varchar(length=16)
    status = Integer()
    reason = Varchar(length=64, null=True, default=None)
    apns_id = Varchar(length=64, null=True, default=None)
    worker = Varchar(length=64)
    at = Timestamptz(default=TimestamptzNow())


class InboxNotification(Table, tablename="inbox_notification", db=DB):
    """One notification in the citizen's in-app inbox: every event a rule tells her of, pushed or not.

    Keyed (patient_id, id); unique (patient_id, event_id), so a resent or retried event lands once. The text
    is not stored: the kind's text is rendered in the reader's locale. Kept 12 months (worker purge).
    """

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, null=False)
    event_id = BigInt()
    kind = Varchar(length=32)
    resource_type = Varchar(length=64)
    resource_id = Varchar(length=255)
    at = Timestamptz(default=TimestamptzNow())
    read_at = Timestamptz(null=True, default=None)


class NotificationPreference(Table, tablename="notification_preference", db=DB):
    """The citizen's push choices: kinds turned off, and her own quiet hours (NULL: the server's)."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    patient_id = ForeignKey(Patient, on_delete=OnDelete.restrict, null=False)
    disabled_kinds = Array(base_column=Varchar(length=32))
    quiet_hours = Varchar(length=11, null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


NOTIFICATION_TABLES: tuple[type[Table], ...] = (
    PushDevice,
    TopicSubscription,
    PushAttempt,
    InboxNotification,
    NotificationPreference,
)
