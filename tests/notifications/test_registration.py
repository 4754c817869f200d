"""Citizens register devices for push and follow CMS topics; bad input is refused with the field named."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from litestar import Litestar

from tests.factories import new_citizen
from tests.notifications.conftest import PUSH_TOPIC, device_token, fcm_token, register

DEVICE = {"platform": "ios", "environment": "production", "bundleId": PUSH_TOPIC, "locale": "nb"}


async def test_registered_device_is_listed_with_its_settings(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    token = await register(client, citizen, locale="nn", environment="sandbox")

    listed = (await client.get("/citizen/v1/me/devices", headers=citizen.headers)).json()

    [device] = listed["items"]
    assert device["deviceToken"] == token
    assert (device["platform"], device["environment"], device["bundleId"], device["locale"]) == (
        "ios",
        "sandbox",
        PUSH_TOPIC,
        "nn",
    )
    assert device["active"] is True
    assert listed["next"] is None


async def test_registering_again_updates_the_device_and_upper_case_tokens_are_the_same_device(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    citizen = await new_citizen(client, app)
    token = await register(client, citizen, locale="nb")
    await register(client, citizen, token.upper(), locale="en")

    items = (await client.get("/citizen/v1/me/devices", headers=citizen.headers)).json()["items"]

    assert [(item["deviceToken"], item["locale"]) for item in items] == [(token, "en")]


async def test_a_token_registered_by_another_citizen_moves_to_her(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    first, second = await new_citizen(client, app), await new_citizen(client, app)
    token = await register(client, first)

    await register(client, second, token)

    assert (await client.get("/citizen/v1/me/devices", headers=first.headers)).json()["items"] == []
    [moved] = (await client.get("/citizen/v1/me/devices", headers=second.headers)).json()["items"]
    assert moved["deviceToken"] == token
    assert await db.fetchval("SELECT count(*) FROM push_device WHERE token = $1", token) == 1
    # The previous owner's change feed says a device left, without naming it.
    feed = (await client.get("/citizen/v1/me/changes", headers=first.headers)).json()["items"]
    assert [item["type"] for item in feed][-1] == "device.removed"


@pytest.mark.parametrize(
    "token",
    ["abc", "g" * 64, "a" * 63, "a" * 65, "0123456789abcdef" * 3 + "0123456789abcdeZ"],
)
async def test_malformed_token_is_refused_naming_it_and_nothing_is_stored(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, token: str
) -> None:
    citizen = await new_citizen(client, app)

    response = await client.put(f"/citizen/v1/me/devices/{token}", json=DEVICE, headers=citizen.headers)

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "deviceToken"
    assert await db.fetchval("SELECT count(*) FROM push_device WHERE patient_id = $1", citizen.patient_id) == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"locale": "sma"}, "locale"),
        ({"locale": "de"}, "locale"),
        ({"platform": "windows"}, "platform"),
        ({"environment": "staging"}, "environment"),
        ({"bundleId": "no spaces allowed"}, "bundleId"),
        ({"nickname": "my phone"}, "nickname"),
    ],
)
async def test_bad_registration_body_is_refused_naming_the_field(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, change: dict[str, str], field: str
) -> None:
    citizen = await new_citizen(client, app)

    response = await client.put(
        f"/citizen/v1/me/devices/{device_token()}", json={**DEVICE, **change}, headers=citizen.headers
    )

    assert response.status_code == 400
    assert field in response.json()["detail"]
    assert await db.fetchval("SELECT count(*) FROM push_device WHERE patient_id = $1", citizen.patient_id) == 0


async def test_missing_locale_is_refused(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    body = {key: value for key, value in DEVICE.items() if key != "locale"}

    response = await client.put(f"/citizen/v1/me/devices/{device_token()}", json=body, headers=citizen.headers)

    assert response.status_code == 400
    assert "locale" in response.json()["detail"]


async def test_removing_my_device_stops_it_and_someone_elses_token_is_not_found(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    owner, other = await new_citizen(client, app), await new_citizen(client, app)
    token = await register(client, owner)

    refused = await client.delete(f"/citizen/v1/me/devices/{token}", headers=other.headers)
    assert refused.status_code == 404
    assert await db.fetchval("SELECT patient_id FROM push_device WHERE token = $1", token) == owner.patient_id

    assert (await client.delete(f"/citizen/v1/me/devices/{token}", headers=owner.headers)).status_code == 204
    assert await db.fetchval("SELECT count(*) FROM push_device WHERE token = $1", token) == 0
    assert (await client.delete(f"/citizen/v1/me/devices/{token}", headers=owner.headers)).status_code == 404


async def test_removing_a_malformed_token_names_it(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)

    response = await client.delete("/citizen/v1/me/devices/not-a-token", headers=citizen.headers)

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "deviceToken"


async def test_following_topics_lists_them_with_titles(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    for topic in ("svangerskap", "legemidler", "svangerskap"):
        response = await client.put(f"/citizen/v1/me/subscriptions/{topic}", headers=citizen.headers)
        assert response.status_code == 204

    items = (await client.get("/citizen/v1/me/subscriptions", headers=citizen.headers)).json()["items"]

    assert [(item["topic"], item["title"]) for item in items] == [
        ("legemidler", "Legemidler"),
        ("svangerskap", "Svangerskap"),
    ]
    assert all(item["since"] for item in items)


async def test_unfollowing_removes_only_that_topic(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    for topic in ("journal", "kommune"):
        await client.put(f"/citizen/v1/me/subscriptions/{topic}", headers=citizen.headers)

    assert (await client.delete("/citizen/v1/me/subscriptions/journal", headers=citizen.headers)).status_code == 204
    # Unfollowing what I do not follow is already done.
    assert (await client.delete("/citizen/v1/me/subscriptions/journal", headers=citizen.headers)).status_code == 204

    items = (await client.get("/citizen/v1/me/subscriptions", headers=citizen.headers)).json()["items"]
    assert [item["topic"] for item in items] == ["kommune"]


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
async def test_unknown_topic_is_refused_naming_it_and_nothing_is_stored(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, method: str
) -> None:
    citizen = await new_citizen(client, app)

    response = await client.request(method, "/citizen/v1/me/subscriptions/astrology", headers=citizen.headers)

    assert response.status_code == 400
    body = response.json()
    assert body["errors"][0]["field"] == "topic"
    assert "svangerskap" in body["detail"]
    assert await db.fetchval("SELECT count(*) FROM topic_subscription WHERE patient_id = $1", citizen.patient_id) == 0


async def test_an_android_phone_registers_its_fcm_token_as_given_and_in_sami(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    token = await register(client, citizen, locale="se", platform="android")
    assert token != token.lower()  # FCM tokens are case-sensitive: kept exactly

    [device] = (await client.get("/citizen/v1/me/devices", headers=citizen.headers)).json()["items"]
    assert (device["deviceToken"], device["platform"], device["locale"], device["active"]) == (
        token,
        "android",
        "se",
        True,
    )
    assert (await client.delete(f"/citizen/v1/me/devices/{token}", headers=citizen.headers)).status_code == 204
    assert await db.fetchval("SELECT count(*) FROM push_device WHERE patient_id = $1", citizen.patient_id) == 0


@pytest.mark.parametrize(("platform", "token"), [("ios", fcm_token()), ("android", "short:token")])
async def test_a_token_of_the_wrong_shape_for_its_platform_is_refused(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, platform: str, token: str
) -> None:
    citizen = await new_citizen(client, app)

    response = await client.put(
        f"/citizen/v1/me/devices/{token}", json={**DEVICE, "platform": platform}, headers=citizen.headers
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "deviceToken"
    assert await db.fetchval("SELECT count(*) FROM push_device WHERE patient_id = $1", citizen.patient_id) == 0
