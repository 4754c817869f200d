"""Reading measurements back: by code and period, newest first, cursor-paged; and the compact series for charts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from litestar import Litestar

from tests.factories import Citizen, new_citizen, new_clinician, relate
from tests.measurements.factories import BP, PULSE, WEIGHT, bp_item, value_item

MEASUREMENTS = "/citizen/v1/me/measurements"
START = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)


def at(day: int, hour: int = 0) -> str:
    return (START + timedelta(days=day, hours=hour)).isoformat().replace("+00:00", "Z")


async def upload_history(client: httpx.AsyncClient, citizen: Citizen) -> None:
    """Ten days: blood pressure morning and evening, pulse daily, weight on days 0, 7."""
    items = []
    for day in range(10):
        items.append(bp_item(120 + day, 80, at=at(day)))
        items.append(bp_item(130 + day, 85, at=at(day, 12)))
        items.append(value_item(PULSE, 60 + day, "/min", at=at(day, 1)))
    items += [value_item(WEIGHT, 70.5, at=at(0, 2)), value_item(WEIGHT, 70.1, at=at(7, 2))]
    response = await client.post(MEASUREMENTS, json={"items": items}, headers=citizen.headers)
    assert {result["status"] for result in response.json()["results"]} == {"created"}


async def test_list_is_newest_first_and_filters_by_code_and_period(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    await upload_history(client, citizen)
    response = await client.get(MEASUREMENTS, params={"code": BP, "from": at(2), "to": at(4)}, headers=citizen.headers)
    assert response.status_code == 200, response.text
    page = response.json()
    # Inclusive at both ends: day 2 morning and evening, day 3 both, day 4 morning.
    assert [item["effectiveAt"] for item in page["items"]] == [at(4), at(3, 12), at(3), at(2, 12), at(2)]
    assert page["next"] is None
    first = page["items"][0]
    assert first["code"] == BP
    assert first["value"] is None
    assert first["components"] == [
        {"code": "8480-6", "value": 124.0, "unit": "mm[Hg]"},
        {"code": "8462-4", "value": 80.0, "unit": "mm[Hg]"},
    ]
    assert first["source"] == "citizen"
    weights = (await client.get(MEASUREMENTS, params={"code": WEIGHT}, headers=citizen.headers)).json()["items"]
    assert [(item["value"], item["unit"]) for item in weights] == [(70.1, "kg"), (70.5, "kg")]


async def test_cursor_pages_walk_every_measurement_once_newest_first(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    await upload_history(client, citizen)
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = {"limit": "7", **({"cursor": cursor} if cursor else {})}
        page = (await client.get(MEASUREMENTS, params=params, headers=citizen.headers)).json()
        seen += [item["effectiveAt"] for item in page["items"]]
        pages += 1
        cursor = page["next"]
        if cursor is None:
            break
    assert len(seen) == 32
    assert pages == 5
    assert seen == sorted(seen, reverse=True)
    assert len(set(seen)) == 32


async def test_cursor_paging_with_equal_times_neither_skips_nor_repeats(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    citizen = await new_citizen(client, app)
    same = at(1)
    items = [value_item(PULSE, 60 + index, "/min", at=same) for index in range(5)]
    await client.post(MEASUREMENTS, json={"items": items}, headers=citizen.headers)
    ids: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await client.get(MEASUREMENTS, params=params, headers=citizen.headers)).json()
        ids += [item["id"] for item in page["items"]]
        if (cursor := page["next"]) is None:
            break
    assert len(ids) == 5
    assert len(set(ids)) == 5


async def test_series_is_compact_and_oldest_first(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    await upload_history(client, citizen)
    bp = (
        await client.get(f"{MEASUREMENTS}/series", params={"code": BP, "from": at(8)}, headers=citizen.headers)
    ).json()
    assert bp == {
        "code": BP,
        "unit": "mm[Hg]",
        "points": [[at(8), 128.0, 80.0], [at(8, 12), 138.0, 85.0], [at(9), 129.0, 80.0], [at(9, 12), 139.0, 85.0]],
        "truncated": False,
    }
    pulse = (
        await client.get(f"{MEASUREMENTS}/series", params={"code": PULSE, "to": at(1, 1)}, headers=citizen.headers)
    ).json()
    assert pulse["unit"] == "/min"
    assert pulse["points"] == [[at(0, 1), 60.0], [at(1, 1), 61.0]]
    empty = (await client.get(f"{MEASUREMENTS}/series", params={"code": "8310-5"}, headers=citizen.headers)).json()
    assert empty == {"code": "8310-5", "unit": "Cel", "points": [], "truncated": False}


async def test_bad_query_parameters_are_refused_naming_the_field(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    cases = [
        (MEASUREMENTS, {"code": "1234-5"}, "code"),
        (MEASUREMENTS, {"code": "8480-6"}, "code"),
        (MEASUREMENTS, {"from": at(3), "to": at(1)}, "from"),
        (MEASUREMENTS, {"from": "2026-01-01T00:00:00"}, "from"),
        (MEASUREMENTS, {"from": "yesterday"}, "from"),
        (MEASUREMENTS, {"cursor": "not-a-cursor"}, "cursor"),
        (MEASUREMENTS, {"limit": "0"}, "limit"),
        (f"{MEASUREMENTS}/series", {}, "code"),
    ]
    for path, params, field in cases:
        response = await client.get(path, params=params, headers=citizen.headers)
        assert response.status_code == 400, (params, response.text)
        keys = [error["field"] for error in response.json().get("errors", [])]
        assert field in keys, (params, response.text)


async def test_a_related_clinician_reads_the_same_list_and_series(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    await upload_history(client, citizen)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    base = f"/clinician/v1/patients/{citizen.patient_id}/measurements"
    mine = (await client.get(MEASUREMENTS, params={"code": PULSE}, headers=citizen.headers)).json()
    theirs = (await client.get(base, params={"code": PULSE}, headers=gp.headers)).json()
    assert theirs == mine
    series = (await client.get(f"{base}/series", params={"code": WEIGHT}, headers=gp.headers)).json()
    assert [point[1] for point in series["points"]] == [70.5, 70.1]
    # The reads are in the citizen's access log.
    log = (await client.get("/citizen/v1/me/access-log", headers=citizen.headers)).json()["items"]
    assert [entry["resourceType"] for entry in log if entry["hpr"] == gp.hpr][:2] == ["measurement", "measurement"]


async def test_a_citizen_sees_only_her_own_measurements(client: httpx.AsyncClient, app: Litestar) -> None:
    owner, other = await new_citizen(client, app), await new_citizen(client, app)
    await upload_history(client, owner)
    page = (await client.get(MEASUREMENTS, headers=other.headers)).json()
    assert page == {"items": [], "next": None}
