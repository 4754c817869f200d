"""The demo loader: three weeks of home blood pressure twice a day and weekly weight, loaded once however often run."""

from __future__ import annotations

from datetime import datetime

import asyncpg
from litestar import Litestar

from backend.core.clock import OSLO
from backend.measurements.demo import demo_items, load_measurements_demo
from backend.settings import Settings


def test_demo_items_are_three_weeks_of_blood_pressure_and_weekly_weight_all_valid() -> None:
    from backend.measurements.codes import ReadingComponent, validate_reading

    today = datetime(2026, 3, 30, 6, 0, tzinfo=OSLO)
    items = demo_items(today)
    bp = [item for item in items if item["code"] == "85354-9"]
    weights = [item for item in items if item["code"] == "29463-7"]
    assert len(bp) == 42
    assert len(weights) == 3
    assert len({item["id"] for item in items}) == 45
    assert demo_items(today) == items  # deterministic
    for item in items:
        components = [ReadingComponent(**part) for part in item.get("components", [])] or None
        moment = datetime.fromisoformat(item["effectiveAt"])
        assert moment < today
        assert validate_reading(item["code"], item.get("value"), item.get("unit"), components, moment, today) is None


async def test_loading_twice_stores_the_demo_once(app: Litestar, settings: Settings, db: asyncpg.Connection) -> None:
    await load_measurements_demo(settings)  # stores them unless another test loaded the demo already
    second = await load_measurements_demo(settings)
    assert "0 of 45" in second
    from backend.core.demo import demo_patient_id

    patient_id = await demo_patient_id()
    assert await db.fetchval("SELECT count(*) FROM measurement WHERE patient_id = $1", patient_id) == 45
