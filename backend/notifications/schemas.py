"""Request and response bodies of the citizen's push registration and topic subscription routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

# Reverse-DNS app identifier, as Apple's bundle ids are.
BundleId = Annotated[str, msgspec.Meta(min_length=3, max_length=155, pattern=r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")]


class DeviceIn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    platform: Literal["ios", "android"]
    environment: Literal["production", "sandbox"]
    bundle_id: BundleId  # Android: the application id, also reverse-DNS
    locale: Literal["nb", "nn", "en", "se"]


class Device(msgspec.Struct, kw_only=True, rename="camel"):
    device_token: str
    platform: str
    environment: str
    bundle_id: str
    locale: str
    registered_at: datetime
    active: bool  # false once APNs said the token is no longer valid; registering it again reactivates it


class DeviceList(msgspec.Struct, kw_only=True, rename="camel"):
    items: list[Device]
    next: str | None = None


class Subscription(msgspec.Struct, kw_only=True, rename="camel"):
    topic: str
    title: str
    since: datetime


class SubscriptionList(msgspec.Struct, kw_only=True, rename="camel"):
    items: list[Subscription]
    next: str | None = None


class Notification(msgspec.Struct, kw_only=True, rename="camel"):
    id: str
    kind: str
    text: str
    at: datetime
    read: bool
    resource_type: str
    resource_id: str


class NotificationList(msgspec.Struct, kw_only=True, rename="camel"):
    items: list[Notification]
    next: str | None = None
    unread: int


class ReadAll(msgspec.Struct, kw_only=True, rename="camel"):
    marked: int
    unread: int


class PreferenceKinds(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    lab_results: bool = True
    medications: bool = True
    prescriptions: bool = True
    pregnancy: bool = True
    documents: bool = True
    content: bool = True


QuietHoursText = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")]


class Preferences(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    kinds: PreferenceKinds
    quiet_hours: QuietHoursText | None = None
