"""Identity and access (issue 3): a citizen's own record and a clinician read that writes an audit row."""

from __future__ import annotations

import random

from backend.core.identity import with_control_digits
from backend.dev.tokens import citizen_claims, clinician_claims, load_dev_signing_key, mint
from backend.settings import Settings
from bench.scenarios import BenchContext, Prepared, Scenario

PATIENTS = 200


def _synthetic_numbers(count: int) -> list[str]:
    chooser = random.Random(3)
    numbers: list[str] = []
    while len(numbers) < count:
        prefix = f"{chooser.randint(1, 28):02d}{chooser.randint(81, 92):02d}{chooser.randint(50, 99):02d}"
        number = with_control_digits(prefix + f"{chooser.randint(0, 499):03d}")
        if number is not None and number not in numbers:
            numbers.append(number)
    return numbers


async def _citizen_me(context: BenchContext) -> Prepared:
    key = load_dev_signing_key(Settings(data_dir=context.data_dir))
    token = mint(key, "citizen", citizen_claims(_synthetic_numbers(1)[0]), expires_in=3600)
    headers = {"Authorization": f"Bearer {token}"}
    response = await context.http.get("/citizen/v1/me", headers=headers)
    response.raise_for_status()
    return Prepared(headers=headers)


async def _clinician_read(context: BenchContext) -> Prepared:
    key = load_dev_signing_key(Settings(data_dir=context.data_dir))
    gp = mint(
        key,
        "clinician",
        clinician_claims(
            hpr="8800001", pid=_synthetic_numbers(1)[0], authorization="LE", org="970000001", org_kind="fastlege"
        ),
        expires_in=3600,
    )
    headers = {"Authorization": f"Bearer {gp}"}
    paths: list[str] = []
    for number in _synthetic_numbers(PATIENTS):
        lookup = await context.http.post("/clinician/v1/patients/lookup", json={"fnr": number}, headers=headers)
        lookup.raise_for_status()
        patient_id = lookup.json()["patientId"]
        relation = await context.http.post(
            f"/clinician/v1/patients/{patient_id}/care-relations", json={"kind": "gp"}, headers=headers
        )
        relation.raise_for_status()
        paths.append(f"/clinician/v1/patients/{patient_id}/care-relations")
    return Prepared(headers=headers, paths=paths)


SCENARIOS: list[Scenario] = [
    Scenario(
        name="citizen-me",
        path="/citizen/v1/me",
        setup=_citizen_me,
        description="GET /citizen/v1/me with a real ID-porten-style token (target ≥ 0.5× baseline)",
    ),
    Scenario(
        name="clinician-read-audited",
        path="/clinician/v1/patients/{id}/care-relations",
        setup=_clinician_read,
        description="clinician read across 200 patients: access decision + audit row + query (target ≥ 0.35×)",
    ),
]
