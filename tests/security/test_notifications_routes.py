"""Push registration and topic routes, walked by the scope helper (citizen routes: only the caller's own)."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from litestar import Litestar

from backend.notifications import service
from backend.notifications.queries import InboxEntry
from tests.security.helper import PatientRoute, World, assert_route_scoped

DEVICE = {"platform": "ios", "environment": "production", "bundleId": "no.helsekort.app", "locale": "nb"}


async def owners_device(client: httpx.AsyncClient, world: World) -> dict[str, str]:
    token = secrets.token_hex(32)
    response = await client.put(f"/citizen/v1/me/devices/{token}", json=DEVICE, headers=world.owner.headers)
    assert response.status_code == 204, response.text
    return {"token": token}


async def owners_notification(client: httpx.AsyncClient, world: World) -> dict[str, str]:
    """One notification in the owner's inbox, as the worker stores it."""
    entry = InboxEntry(
        event_id=secrets.randbelow(2**62), patient_id=world.owner.patient_id, topic=None, kind="medications",
        resource_type="medication-list", resource_id=str(uuid.uuid4()), at=datetime.now(UTC),
    )  # fmt: skip
    assert await service.store_in_inbox([entry]) == 1
    listed = await client.get("/citizen/v1/me/notifications", headers=world.owner.headers)
    [item] = listed.json()["items"]
    return {"id": item["id"]}


PREFERENCES = {"kinds": {"labResults": False}, "quietHours": "22:30-06:30"}
ANDROID = {**DEVICE, "platform": "android"}

NOTIFICATION_ROUTES = [
    PatientRoute("GET", "/citizen/v1/me/devices", "citizen"),
    # Registering a token is possession of the phone: another citizen registering it moves it (tested in
    # tests/notifications), so this route has no "another citizen gets 404" walk.
    PatientRoute("PUT", "/citizen/v1/me/devices/" + "ab" * 32, "citizen", ok=(204,), body=lambda world, params: DEVICE),
    PatientRoute("DELETE", "/citizen/v1/me/devices/{token}", "citizen", ok=(204,), setup=owners_device),
    PatientRoute("GET", "/citizen/v1/me/subscriptions", "citizen"),
    PatientRoute("PUT", "/citizen/v1/me/subscriptions/svangerskap", "citizen", ok=(204,)),
    PatientRoute("DELETE", "/citizen/v1/me/subscriptions/svangerskap", "citizen", ok=(204,)),
    PatientRoute(
        "PUT", "/citizen/v1/me/devices/fcm:" + "Ab_-" * 30, "citizen", ok=(204,), body=lambda world, params: ANDROID
    ),
    PatientRoute("GET", "/citizen/v1/me/notifications", "citizen"),
    PatientRoute("POST", "/citizen/v1/me/notifications/{id}/read", "citizen", ok=(204,), setup=owners_notification),
    PatientRoute("POST", "/citizen/v1/me/notifications/read-all", "citizen"),
    PatientRoute("GET", "/citizen/v1/me/notification-preferences", "citizen"),
    PatientRoute("PUT", "/citizen/v1/me/notification-preferences", "citizen", body=lambda world, params: PREFERENCES),
]


@pytest.mark.parametrize("route", NOTIFICATION_ROUTES, ids=lambda route: route.id)
async def test_notification_route_is_scoped(client: httpx.AsyncClient, app: Litestar, route: PatientRoute) -> None:
    await assert_route_scoped(client, app, route)
