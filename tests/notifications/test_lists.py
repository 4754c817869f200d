"""The citizen's devices and topics page like every list: `limit` items, `next` until the last page, a bad cursor 400."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar

from backend.core.topics import TOPICS
from tests.factories import all_pages, new_citizen
from tests.notifications.conftest import register


async def test_devices_page_oldest_registration_first(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    tokens = [await register(client, citizen) for _ in range(3)]

    pages = await all_pages(client, "/citizen/v1/me/devices", citizen.headers, limit=2)

    assert [len(page) for page in pages] == [2, 1]
    assert [item["deviceToken"] for page in pages for item in page] == tokens


async def test_subscriptions_page_by_topic(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    for topic in TOPICS:
        assert (await client.put(f"/citizen/v1/me/subscriptions/{topic}", headers=citizen.headers)).status_code == 204

    pages = await all_pages(client, "/citizen/v1/me/subscriptions", citizen.headers, limit=3)

    assert [item["topic"] for page in pages for item in page] == sorted(TOPICS)
    assert [len(page) for page in pages] == [3, 3, 1]


@pytest.mark.parametrize("query", [{"cursor": "bm90LWEtY3Vyc29y"}, {"limit": 0}, {"limit": 201}])
async def test_a_bad_cursor_or_limit_is_a_400_naming_it(
    client: httpx.AsyncClient, app: Litestar, query: dict[str, str | int]
) -> None:
    citizen = await new_citizen(client, app)
    for path in ("/citizen/v1/me/devices", "/citizen/v1/me/subscriptions"):
        response = await client.get(path, params=query, headers=citizen.headers)
        assert response.status_code == 400, (path, response.text)
        assert [error["field"] for error in response.json()["errors"]] == list(query)
