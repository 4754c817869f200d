"""Lab results (issue 5): the citizen's result list and a trend, and the clinician's list with earlier results."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from backend.core.identity import with_control_digits
from backend.dev.tokens import citizen_claims, clinician_claims, load_dev_signing_key, mint
from backend.settings import Settings
from bench.scenarios import BenchContext, Prepared, Scenario

# Two years of monthly blood tests: 24 reports of five results each.
MONTHS = 24
NAMESPACE = uuid.UUID("8a4f9b7e-2c1d-4e6f-9a3b-5c7d1e2f3a4b")


def _citizen_number() -> str:
    chooser = random.Random(505)
    while True:
        prefix = f"{chooser.randint(1, 28):02d}{chooser.randint(81, 92):02d}{chooser.randint(50, 99):02d}"
        number = with_control_digits(prefix + f"{chooser.randint(500, 999):03d}")
        if number is not None:
            return number


def _observations(month: int) -> list[dict[str, object]]:
    wobble = (month % 5) / 10
    return [
        {"code": "718-7", "system": "loinc", "display": "Hemoglobin", "valueQuantity": 12.0 + wobble, "unit": "g/dL",
         "referenceRange": {"low": 11.7, "high": 15.3}},
        {"code": "2276-4", "system": "loinc", "display": "Ferritin", "valueQuantity": 20 + month, "unit": "ug/L",
         "referenceRange": {"low": 10, "high": 167}},
        {"code": "1988-5", "system": "loinc", "display": "CRP", "valueQuantity": 5, "valueComparator": "<",
         "unit": "mg/L", "referenceRange": {"high": 5}, "flag": "normal"},
        {"code": "59261-8", "system": "loinc", "display": "HbA1c", "valueQuantity": 34 + wobble, "unit": "mmol/mol",
         "referenceRange": {"low": 20, "high": 42}},
        {"code": "14749-6", "system": "loinc", "display": "Glukose", "valueQuantity": 5.0 + wobble,
         "unit": "mmol/L", "referenceRange": {"low": 4.0, "high": 6.0}},
    ]  # fmt: skip


async def _patient_with_two_years(context: BenchContext) -> tuple[dict[str, str], dict[str, str], str]:
    key = load_dev_signing_key(Settings(data_dir=context.data_dir))
    number = _citizen_number()
    citizen = {"Authorization": f"Bearer {mint(key, 'citizen', citizen_claims(number), expires_in=3600)}"}
    me = await context.http.get("/citizen/v1/me", headers=citizen)
    me.raise_for_status()
    patient_id = me.json()["patientId"]
    claims = clinician_claims(
        hpr="8800055", pid=number, authorization="LE", org="970000055", org_kind="fastlege", name="Fastlege Bench"
    )
    gp = {"Authorization": f"Bearer {mint(key, 'clinician', claims, expires_in=3600)}"}
    relation = await context.http.post(
        f"/clinician/v1/patients/{patient_id}/care-relations", json={"kind": "gp"}, headers=gp
    )
    relation.raise_for_status()
    # Whole days, so every scenario's setup in one run posts the same reports (a resend, not a conflict).
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=30 * MONTHS + 10)
    for month in range(MONTHS):
        specimen = start + timedelta(days=30 * month)
        response = await context.http.post(
            f"/clinician/v1/patients/{patient_id}/lab-reports",
            json={
                "id": str(uuid.uuid5(NAMESPACE, f"{patient_id}-{month}")),
                "category": "clinical-chemistry",
                "status": "final",
                "specimenAt": specimen.isoformat(),
                "issuedAt": (specimen + timedelta(hours=5)).isoformat(),
                "performingLab": {"name": "Bench Lab", "organisation": "970000099"},
                "observations": _observations(month),
            },
            headers=gp,
        )
        response.raise_for_status()
    return citizen, gp, patient_id


async def _citizen_list(context: BenchContext) -> Prepared:
    citizen, _, _ = await _patient_with_two_years(context)
    return Prepared(headers=citizen, paths=["/citizen/v1/me/lab-results?limit=10"])


async def _citizen_trend(context: BenchContext) -> Prepared:
    citizen, _, _ = await _patient_with_two_years(context)
    return Prepared(headers=citizen, paths=["/citizen/v1/me/lab-results/trends/718-7"])


async def _clinician_list(context: BenchContext) -> Prepared:
    _, gp, patient_id = await _patient_with_two_years(context)
    return Prepared(headers=gp, paths=[f"/clinician/v1/patients/{patient_id}/lab-reports?limit=10"])


SCENARIOS: list[Scenario] = [
    Scenario(
        name="lab-results-citizen-list",
        path="/citizen/v1/me/lab-results?limit=10",
        setup=_citizen_list,
        description="the citizen's 10 newest released reports (5 results each) of 24",
    ),
    Scenario(
        name="lab-results-citizen-trend",
        path="/citizen/v1/me/lab-results/trends/718-7",
        setup=_citizen_trend,
        description="one test over two years (24 points) from the trend index",
    ),
    Scenario(
        name="lab-reports-clinician-list",
        path="/clinician/v1/patients/{id}/lab-reports?limit=10",
        setup=_clinician_list,
        description="the clinician's 10 newest reports with up to 5 earlier results per test (audited read)",
    ),
]
