"""Demo data: three weeks of the demo citizen's home blood pressure (morning and evening) and weekly weight."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, time, timedelta
from typing import Any

import msgspec

from backend.core.clock import OSLO, oslo_now
from backend.core.demo import demo_loader, demo_patient_id
from backend.core.settings import Settings
from backend.measurements.codes import BLOOD_PRESSURE_PANEL, DIASTOLIC, SYSTOLIC
from backend.measurements.service import upload_measurements

# Fixed ids (uuid5 of the slot) make the loader idempotent: a second run answers `duplicate` for each.
_DEMO_NAMESPACE = uuid.UUID("6f1d2a55-8a36-4e0e-9a53-5b8f0f7c2d11")
DAYS = 21
DEVICE = {"serial": "DEMO-OMRON-M7-0001", "model": "Omron M7 Intelli IT"}
SCALE = {"serial": "DEMO-WITHINGS-0001", "model": "Withings Body+"}


def _at(day: datetime, clock: time) -> str:
    return datetime.combine(day.date(), clock, tzinfo=OSLO).isoformat()


def demo_items(today: datetime) -> list[dict[str, Any]]:
    """Days 1..21 before `today` (Europe/Oslo), so nothing lies in the future; values from a fixed seed."""
    chooser = random.Random(2026)  # noqa: S311 - repeatable demo values, not a secret
    items: list[dict[str, Any]] = []
    for back in range(DAYS, 0, -1):
        day = today - timedelta(days=back)
        for slot, clock in (("morning", time(7, 30)), ("evening", time(21, 0))):
            systolic = chooser.randint(108, 134)
            diastolic = chooser.randint(66, min(86, systolic - 30))
            items.append(
                {
                    "id": str(uuid.uuid5(_DEMO_NAMESPACE, f"bp-{back}-{slot}")),
                    "code": BLOOD_PRESSURE_PANEL,
                    "effectiveAt": _at(day, clock),
                    "components": [
                        {"code": SYSTOLIC, "value": systolic, "unit": "mm[Hg]"},
                        {"code": DIASTOLIC, "value": diastolic, "unit": "mm[Hg]"},
                    ],
                    "device": DEVICE,
                }
            )
        if back % 7 == 0:
            items.append(
                {
                    "id": str(uuid.uuid5(_DEMO_NAMESPACE, f"weight-{back}")),
                    "code": "29463-7",
                    "value": round(68.0 + (DAYS - back) * 0.1, 1),
                    "unit": "kg",
                    "effectiveAt": _at(day, time(7, 15)),
                    "device": SCALE,
                }
            )
    return items


# After the pregnancy card, so the pregnancy context applies to the home readings.
@demo_loader("measurements", after=("core", "pregnancy"))
async def load_measurements_demo(settings: Settings) -> str:
    patient_id = await demo_patient_id()
    body = msgspec.json.encode({"items": demo_items(oslo_now())})
    answer = await upload_measurements(patient_id, body, source="citizen")
    created = sum(1 for result in answer.results if result.status == "created")
    return f"demo: {created} of {len(answer.results)} home measurements stored for the demo citizen"
