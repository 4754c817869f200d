"""Upload items as the app sends them, for the måledata tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

BP = "85354-9"
WEIGHT = "29463-7"
PULSE = "8867-4"


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def bp_item(
    systolic: Any = 128,
    diastolic: Any = 82,
    *,
    at: str | None = None,
    item_id: uuid.UUID | str | None = "new",
    device: dict[str, str] | None = None,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "code": BP,
        "effectiveAt": at or ago(hours=1),
        "components": [
            {"code": "8480-6", "value": systolic, "unit": "mm[Hg]"},
            {"code": "8462-4", "value": diastolic, "unit": "mm[Hg]"},
        ],
    }
    if item_id == "new":
        item["id"] = str(uuid.uuid4())
    elif item_id is not None:
        item["id"] = str(item_id)
    if device is not None:
        item["device"] = device
    return item


def value_item(
    code: str = WEIGHT,
    value: Any = 72.5,
    unit: str = "kg",
    *,
    at: str | None = None,
    item_id: uuid.UUID | str | None = "new",
    device: dict[str, str] | None = None,
) -> dict[str, Any]:
    item: dict[str, Any] = {"code": code, "value": value, "unit": unit, "effectiveAt": at or ago(hours=1)}
    if item_id == "new":
        item["id"] = str(uuid.uuid4())
    elif item_id is not None:
        item["id"] = str(item_id)
    if device is not None:
        item["device"] = device
    return item
