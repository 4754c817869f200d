"""Måledata (issue 7): the citizen's blood-pressure chart and a clinician's page of the list.

The upload throughput (measurements stored per second through the API against raw COPY) is measured by
`python -m bench.measurements_load`: wrk resends one fixed body, which would only measure duplicates.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from backend.core.identity import with_control_digits
from backend.dev.tokens import citizen_claims, clinician_claims, load_dev_signing_key, mint
from backend.settings import Settings
from bench.scenarios import BenchContext, Prepared, Scenario

DAYS = 90
NAMESPACE = uuid.UUID("3b0c4d52-8f7e-4a51-9d1e-6a2f1c7b9e04")


def _citizen_number() -> str:
    chooser = random.Random(707)
    while True:
        prefix = f"{chooser.randint(1, 28):02d}{chooser.randint(81, 92):02d}{chooser.randint(50, 99):02d}"
        number = with_control_digits(prefix + f"{chooser.randint(500, 999):03d}")
        if number is not None:
            return number


def _readings() -> list[dict[str, object]]:
    """Ninety days of blood pressure morning and evening, with fixed ids (a second setup only resends)."""
    chooser = random.Random(90)
    start = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0) - timedelta(days=DAYS)
    items: list[dict[str, object]] = []
    for day in range(DAYS):
        for hours in (0, 13):
            systolic = chooser.randint(105, 150)
            items.append(
                {
                    "id": str(uuid.uuid5(NAMESPACE, f"{day}-{hours}")),
                    "code": "85354-9",
                    "effectiveAt": (start + timedelta(days=day, hours=hours)).isoformat(),
                    "components": [
                        {"code": "8480-6", "value": systolic, "unit": "mm[Hg]"},
                        {"code": "8462-4", "value": chooser.randint(60, systolic - 25), "unit": "mm[Hg]"},
                    ],
                }
            )
    return items


async def _patient(context: BenchContext) -> tuple[dict[str, str], dict[str, str], str]:
    key = load_dev_signing_key(Settings(data_dir=context.data_dir))
    number = _citizen_number()
    citizen = {"Authorization": f"Bearer {mint(key, 'citizen', citizen_claims(number), expires_in=3600)}"}
    me = await context.http.get("/citizen/v1/me", headers=citizen)
    me.raise_for_status()
    patient_id = me.json()["patientId"]
    upload = await context.http.post("/citizen/v1/me/measurements", json={"items": _readings()}, headers=citizen)
    upload.raise_for_status()
    claims = clinician_claims(
        hpr="8800077", pid=number, authorization="LE", org="970000077", org_kind="fastlege", name="Fastlege Bench"
    )
    gp = {"Authorization": f"Bearer {mint(key, 'clinician', claims, expires_in=3600)}"}
    relation = await context.http.post(
        f"/clinician/v1/patients/{patient_id}/care-relations", json={"kind": "gp"}, headers=gp
    )
    relation.raise_for_status()
    return citizen, gp, patient_id


async def _citizen_series(context: BenchContext) -> Prepared:
    citizen, _, _ = await _patient(context)
    return Prepared(headers=citizen)


async def _clinician_list(context: BenchContext) -> Prepared:
    _, gp, patient_id = await _patient(context)
    return Prepared(headers=gp, paths=[f"/clinician/v1/patients/{patient_id}/measurements?code=85354-9&limit=50"])


SCENARIOS: list[Scenario] = [
    Scenario(
        name="measurements-series",
        path="/citizen/v1/me/measurements/series?code=85354-9",
        setup=_citizen_series,
        description="citizen's blood-pressure chart: 180 points of 90 days",
    ),
    Scenario(
        name="measurements-clinician-list",
        path="/clinician/v1/patients/{patientId}/measurements",
        setup=_clinician_list,
        description="GP reads the newest 50 blood pressures (access decision and audit row per read)",
    ),
]
