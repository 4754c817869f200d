"""Request and response bodies of the citizen's push registration and topic subscription routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

# Reverse-DNS app identifier, as Apple's bundle ids are.
BundleId = Annotated[str, msgspec.Meta(min_length=3, max_length=155, pattern=r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")]


class DeviceIn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    platform: Literal["ios"]
    environment: Literal["production", "sandbox"]
    bundle_id: BundleId
    locale: Literal["nb", "nn", "en"]


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
