"""The legevakt overview (issue 16): one call, one audit row, every domain's section read in one composed statement.

Each of 20 patients has home nursing from Oslo, a 10-entry medication list and a NEWS2 set recorded an hour
ago; the legevakt doctor (municipality 0301) has a care relation to each. Target: at least 0.3x the baseline,
and p99 < 50 ms at 70 % of the maximum throughput (`python -m bench.overview_load`: wrk is closed loop).
"""

from __future__ import annotations

import json
import random
import uuid

from backend.dev.tokens import DevSigningKey, citizen_claims, clinician_claims, load_dev_signing_key, mint
from backend.settings import Settings
from bench.medications_load import initial_list
from bench.scenarios import BenchContext, Prepared, Scenario
from bench.scenarios_medications import _synthetic_numbers

PATIENTS = 20
SEED = 160

_SERVICE = {
    "service": "home-nursing",
    "status": "active",
    "from": "2026-06-01",
    "frequency": "3 ganger daglig",
    "provider": {"name": "Hjemmesykepleien Frogner", "unit": "Natt", "phone": "+47 23 40 50 60", "hours": "24/7"},
}
_VITALS = {
    "respirationRate": 20,
    "spo2": 95,
    "onOxygen": False,
    "systolic": 118,
    "diastolic": 70,
    "pulse": 96,
    "consciousness": "A",
    "temperature": 37.9,
}


def _clinician(key: DevSigningKey, numbers: list[str], index: int, org_kind: str, authorization: str) -> dict[str, str]:
    claims = clinician_claims(
        hpr=str(8_960_000 + index),
        pid=numbers[PATIENTS + index],
        authorization=authorization,
        org=str(970_160_000 + index),
        org_kind=org_kind,
    )
    return {"Authorization": f"Bearer {mint(key, 'clinician', claims, expires_in=3600)}"}


async def _overview(context: BenchContext) -> Prepared:
    key = load_dev_signing_key(Settings(data_dir=context.data_dir))
    numbers = _synthetic_numbers(PATIENTS + 3, SEED)
    legevakt = _clinician(key, numbers, 0, "legevakt", "LE")
    home_care = _clinician(key, numbers, 1, "hjemmetjeneste", "SP")
    gp = _clinician(key, numbers, 2, "fastlege", "LE")
    entries = json.dumps({"entries": initial_list(10, random.Random(SEED))}).encode()
    paths: list[str] = []
    for index, number in enumerate(numbers[:PATIENTS]):
        citizen = mint(key, "citizen", citizen_claims(number), expires_in=3600)
        me = await context.http.get("/citizen/v1/me", headers={"Authorization": f"Bearer {citizen}"})
        me.raise_for_status()
        patient = f"/clinician/v1/patients/{me.json()['patientId']}"
        for headers, kind in ((legevakt, "legevakt"), (home_care, "homecare"), (gp, "gp")):
            (
                await context.http.post(f"{patient}/care-relations", json={"kind": kind}, headers=headers)
            ).raise_for_status()
        service_id = uuid.uuid5(uuid.NAMESPACE_OID, f"bench-service-{index}")
        written = await context.http.put(f"{patient}/municipal-services/{service_id}", json=_SERVICE, headers=home_care)
        written.raise_for_status()
        listed = await context.http.put(
            f"{patient}/medications",
            content=entries,
            headers={**gp, "If-Match": '"0"', "Content-Type": "application/json"},
        )
        if listed.status_code != 412:  # 412: an earlier server's setup in this run wrote it already
            listed.raise_for_status()
        (await context.http.post(f"{patient}/news2", json=_VITALS, headers=home_care)).raise_for_status()
        paths.append(f"{patient}/overview")
    return Prepared(headers=legevakt, paths=paths)


SCENARIOS: list[Scenario] = [
    Scenario(
        name="legevakt-overview",
        path="/clinician/v1/patients/{id}/overview",
        setup=_overview,
        description="legevakt doctor opens the one-call overview of 20 patients (services, medicines, NEWS2; one audit row)",
    ),
]
