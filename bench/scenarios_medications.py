"""Medication list (issue 6): a clinician reading 30-entry lists, and re-sending one unchanged (lock, read, compare).

A PUT that changes the list moves its version, so every next request needs another If-Match: wrk's
fixed requests cannot express that. The changing-write benchmark (the issue's p99 target) is
`python -m bench.medications_load`; the scenarios here measure what wrk can: the read with its ETag,
and a PUT of an unchanged list (authorize, validate 30 entries, lock, read, compare; no new version).
"""

from __future__ import annotations

import json
import random

from backend.core.identity import with_control_digits
from backend.dev.tokens import citizen_claims, clinician_claims, load_dev_signing_key, mint
from backend.settings import Settings
from bench.medications_load import initial_list
from bench.scenarios import BenchContext, Prepared, Scenario

PATIENTS = 20
ENTRIES = 30


def _synthetic_numbers(count: int, seed: int) -> list[str]:
    chooser = random.Random(seed)
    numbers: list[str] = []
    while len(numbers) < count:
        prefix = f"{chooser.randint(1, 28):02d}{chooser.randint(81, 92):02d}{chooser.randint(50, 99):02d}"
        number = with_control_digits(prefix + f"{chooser.randint(0, 499):03d}")
        if number is not None and number not in numbers:
            numbers.append(number)
    return numbers


async def _lists(context: BenchContext, seed: int) -> tuple[dict[str, str], list[str], bytes]:
    """A GP with `PATIENTS` patients, each with the same 30 entries at version 1 (entry ids are per patient)."""
    key = load_dev_signing_key(Settings(data_dir=context.data_dir))
    numbers = _synthetic_numbers(PATIENTS + 1, seed)
    gp_claims = clinician_claims(
        hpr=str(8_900_000 + seed), pid=numbers[-1], authorization="LE", org=str(970_100_000 + seed), org_kind="fastlege"
    )
    headers = {"Authorization": f"Bearer {mint(key, 'clinician', gp_claims, expires_in=3600)}"}
    body = json.dumps({"entries": initial_list(ENTRIES, random.Random(seed))}).encode()
    paths: list[str] = []
    for number in numbers[:PATIENTS]:
        citizen = mint(key, "citizen", citizen_claims(number), expires_in=3600)
        me = await context.http.get("/citizen/v1/me", headers={"Authorization": f"Bearer {citizen}"})
        me.raise_for_status()
        patient_id = me.json()["patientId"]
        relation = await context.http.post(
            f"/clinician/v1/patients/{patient_id}/care-relations", json={"kind": "gp"}, headers=headers
        )
        relation.raise_for_status()
        path = f"/clinician/v1/patients/{patient_id}/medications"
        written = await context.http.put(
            path, content=body, headers={**headers, "If-Match": '"0"', "Content-Type": "application/json"}
        )
        if written.status_code != 412:  # 412: an earlier server's setup in this run wrote it already
            written.raise_for_status()
        paths.append(path)
    return headers, paths, body


async def _read(context: BenchContext) -> Prepared:
    headers, paths, _ = await _lists(context, seed=61)
    return Prepared(headers=headers, paths=paths)


async def _put_unchanged(context: BenchContext) -> Prepared:
    headers, paths, body = await _lists(context, seed=62)
    return Prepared(headers={**headers, "If-Match": '"1"', "Content-Type": "application/json"}, paths=paths, body=body)


SCENARIOS: list[Scenario] = [
    Scenario(
        name="medications-read",
        path="/clinician/v1/patients/{id}/medications",
        setup=_read,
        description="GP reads 30-entry medication lists of 20 patients (audited, ETag)",
    ),
    Scenario(
        name="medications-put-unchanged",
        path="/clinician/v1/patients/{id}/medications",
        method="PUT",
        setup=_put_unchanged,
        description="PUT of an unchanged 30-entry list at its version (no new version); changing writes: "
        "python -m bench.medications_load",
    ),
]
