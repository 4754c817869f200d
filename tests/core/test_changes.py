"""The change feed: per-patient order without gaps, cursor paging, nothing from other patients."""

from __future__ import annotations

import asyncio

import httpx
from litestar import Litestar

from tests.factories import new_citizen, new_clinician


async def test_changes_come_in_order_and_page_by_cursor(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    other = await new_citizen(client, app)
    for hpr in ("1001", "1002", "1003", "1004", "1005"):
        assert (await client.put(f"/citizen/v1/me/blocks/{hpr}", headers=citizen.headers)).status_code == 204
    await client.put("/citizen/v1/me/blocks/2001", headers=other.headers)

    first = (await client.get("/citizen/v1/me/changes?limit=2", headers=citizen.headers)).json()
    assert [item["seq"] for item in first["items"]] == [1, 2]
    assert first["hasMore"] is True
    assert [item["resourceId"] for item in first["items"]] == ["1001", "1002"]
    rest = (await client.get(f"/citizen/v1/me/changes?since={first['next']}", headers=citizen.headers)).json()
    assert [item["seq"] for item in rest["items"]] == [3, 4, 5]
    assert rest["hasMore"] is False
    assert all(item["type"] == "block.added" for item in rest["items"])
    # Nothing new: the same position comes back so the app can keep polling from it.
    idle = (await client.get(f"/citizen/v1/me/changes?since={rest['next']}", headers=citizen.headers)).json()
    assert idle["items"] == []
    assert idle["next"] == rest["next"]


async def test_concurrent_writes_for_one_patient_get_distinct_sequence_numbers(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    statuses = await asyncio.gather(
        *[
            client.post(
                f"/clinician/v1/patients/{citizen.patient_id}/care-relations", json={"kind": "gp"}, headers=gp.headers
            )
            for _ in range(8)
        ]
    )
    assert [response.status_code for response in statuses] == [201] * 8
    items = (await client.get("/citizen/v1/me/changes?limit=100", headers=citizen.headers)).json()["items"]
    assert [item["seq"] for item in items] == list(range(1, 9))


async def test_changes_limit_is_validated(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    assert (await client.get("/citizen/v1/me/changes?limit=0", headers=citizen.headers)).status_code == 400
    assert (await client.get("/citizen/v1/me/changes?limit=10000", headers=citizen.headers)).status_code == 400
    assert (await client.get("/citizen/v1/me/changes?since=garbage", headers=citizen.headers)).status_code == 400


async def test_events_about_what_she_cannot_see_stay_out_of_her_feed(client: httpx.AsyncClient, app: Litestar) -> None:
    from backend.core import events
    from backend.db.engine import DB

    citizen = await new_citizen(client, app)
    async with DB.transaction():
        await events.append_event(citizen.patient_id, events.EventType.LAB_RESULT_NEW, "r1")
        await events.append_event(citizen.patient_id, events.EventType.LAB_RESULT_RELEASED, "r1")
    items = (await client.get("/citizen/v1/me/changes", headers=citizen.headers)).json()["items"]
    assert [(item["type"], item["seq"]) for item in items] == [("lab-result.released", 2)]
