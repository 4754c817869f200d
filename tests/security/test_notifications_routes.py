"""Push registration and topic routes, walked by the scope helper (citizen routes: only the caller's own)."""

from __future__ import annotations

import secrets

import httpx
import pytest
from litestar import Litestar

from tests.security.helper import PatientRoute, World, assert_route_scoped

DEVICE = {"platform": "ios", "environment": "production", "bundleId": "no.helsekort.app", "locale": "nb"}


async def owners_device(client: httpx.AsyncClient, world: World) -> dict[str, str]:
    token = secrets.token_hex(32)
    response = await client.put(f"/citizen/v1/me/devices/{token}", json=DEVICE, headers=world.owner.headers)
    assert response.status_code == 204, response.text
    return {"token": token}


NOTIFICATION_ROUTES = [
    PatientRoute("GET", "/citizen/v1/me/devices", "citizen"),
    # Registering a token is possession of the phone: another citizen registering it moves it (tested in
    # tests/notifications), so this route has no "another citizen gets 404" walk.
    PatientRoute("PUT", "/citizen/v1/me/devices/" + "ab" * 32, "citizen", ok=(204,), body=lambda world, params: DEVICE),
    PatientRoute("DELETE", "/citizen/v1/me/devices/{token}", "citizen", ok=(204,), setup=owners_device),
    PatientRoute("GET", "/citizen/v1/me/subscriptions", "citizen"),
    PatientRoute("PUT", "/citizen/v1/me/subscriptions/svangerskap", "citizen", ok=(204,)),
    PatientRoute("DELETE", "/citizen/v1/me/subscriptions/svangerskap", "citizen", ok=(204,)),
]


@pytest.mark.parametrize("route", NOTIFICATION_ROUTES, ids=lambda route: route.id)
async def test_notification_route_is_scoped(client: httpx.AsyncClient, app: Litestar, route: PatientRoute) -> None:
    await assert_route_scoped(client, app, route)
