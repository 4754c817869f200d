"""GET /citizen/v1/measurement-codes: the catalogue an upload accepts, served to the app (issue 12)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from litestar import Litestar

from backend.measurements.codes import MEASUREMENTS
from tests.factories import new_citizen


async def test_codes_need_a_citizen_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/citizen/v1/measurement-codes")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


def _reading(item: dict[str, Any], pick: str, at: datetime) -> dict[str, Any]:
    def value(entry: dict[str, Any]) -> float:
        low, high = entry["minimum"], entry["maximum"]
        return {"inside": (low + high) / 2, "below": low - 1, "above": high + 1}[pick]

    reading: dict[str, Any] = {"code": item["code"], "effectiveAt": at.isoformat()}
    if item["components"]:
        # Blood pressure: systolic (first) above diastolic, both moved together.
        parts = item["components"]
        reading["components"] = [{"code": p["code"], "value": value(p), "unit": p["unit"]} for p in parts]
    else:
        reading |= {"value": value(item), "unit": item["unit"]}
    return reading


async def test_every_listed_code_is_accepted_inside_its_range_and_refused_outside(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    citizen = await new_citizen(client, app)
    response = await client.get("/citizen/v1/measurement-codes", headers=citizen.headers)
    assert response.status_code == 200
    items = response.json()["items"]
    listed = {item["code"] for item in items} | {p["code"] for item in items for p in item["components"] or []}
    assert listed == set(MEASUREMENTS)
    assert all(item["display"]["nb"] and item["display"]["en"] for item in items)
    at = datetime.now(UTC) - timedelta(hours=1)
    for pick, expected in (("inside", "created"), ("below", "rejected"), ("above", "rejected")):
        batch = [_reading(item, pick, at - timedelta(minutes=n)) for n, item in enumerate(items)]
        upload = await client.post("/citizen/v1/me/measurements", json={"items": batch}, headers=citizen.headers)
        assert upload.status_code == 200, upload.text
        results = upload.json()["results"]
        assert [result["status"] for result in results] == [expected] * len(items), (pick, results)
        if expected == "rejected":
            assert all("plausible range" in result["reason"] for result in results), results


async def test_systolic_and_diastolic_are_listed_only_inside_blood_pressure(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    citizen = await new_citizen(client, app)
    items = (await client.get("/citizen/v1/measurement-codes", headers=citizen.headers)).json()["items"]
    top = [item["code"] for item in items]
    assert "8480-6" not in top
    assert "8462-4" not in top
    panel = next(item for item in items if item["code"] == "85354-9")
    assert panel["unit"] is None
    assert [part["code"] for part in panel["components"]] == ["8480-6", "8462-4"]
