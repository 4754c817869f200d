"""Prescriptions (issue 17): the citizen's prescription list (target ≥ 0.35× the raw-asyncpg baseline).

One citizen with a GP and a 10-entry medication list, each entry prescribed (10 prescriptions, two of them
dispensed once at a pharmacy), reads her list: each request resolves her token, reads the page with every
status computed at read time and the dispensings left.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime

from backend.core.identity import with_control_digits
from backend.dev.tokens import citizen_claims, clinician_claims, load_dev_signing_key, mint
from backend.settings import Settings
from bench.medications_load import initial_list
from bench.scenarios import BenchContext, Prepared, Scenario

PRESCRIPTIONS = 10
NAMESPACE = uuid.UUID("0c5e2b7a-91d4-4f3e-8a6b-2d7c9e1f4a50")


def _citizen_number() -> str:
    chooser = random.Random(1717)
    while True:
        prefix = f"{chooser.randint(1, 28):02d}{chooser.randint(81, 92):02d}{chooser.randint(50, 99):02d}"
        number = with_control_digits(prefix + f"{chooser.randint(500, 999):03d}")
        if number is not None:
            return number


async def _citizen_with_prescriptions(context: BenchContext) -> Prepared:
    key = load_dev_signing_key(Settings(data_dir=context.data_dir))
    number = _citizen_number()
    citizen = {"Authorization": f"Bearer {mint(key, 'citizen', citizen_claims(number), expires_in=3600)}"}
    me = await context.http.get("/citizen/v1/me", headers=citizen)
    me.raise_for_status()
    patient_id = me.json()["patientId"]
    gp = {
        "Authorization": "Bearer "
        + mint(
            key,
            "clinician",
            clinician_claims(hpr="8800117", pid=number, authorization="LE", org="970000117", org_kind="fastlege"),
            expires_in=3600,
        )
    }
    chemist = {
        "Authorization": "Bearer "
        + mint(
            key,
            "clinician",
            clinician_claims(hpr="8800118", pid=number, authorization="SP", org="970000118", org_kind="apotek"),
            expires_in=3600,
        )
    }
    relation = await context.http.post(
        f"/clinician/v1/patients/{patient_id}/care-relations", json={"kind": "gp"}, headers=gp
    )
    relation.raise_for_status()
    entries = initial_list(PRESCRIPTIONS, random.Random(1717))
    written = await context.http.put(
        f"/clinician/v1/patients/{patient_id}/medications",
        json={"entries": entries},
        headers={**gp, "If-Match": '"0"'},
    )
    if written.status_code != 412:  # 412: an earlier server's setup in this run wrote it already
        written.raise_for_status()
    for index, entry in enumerate(entries):
        prescription_id = str(uuid.uuid5(NAMESPACE, entry["id"]))
        prescribed = await context.http.post(
            f"/clinician/v1/patients/{patient_id}/prescriptions",
            json={
                "id": prescription_id,
                "entryId": entry["id"],
                "dosageText": entry["dosage"],
                "quantity": {"amount": 100, "unit": "tablett"},
                "dispensings": 4,
            },
            headers=gp,
        )
        if prescribed.status_code != 409:  # 409: written by an earlier setup on another day (another validUntil)
            prescribed.raise_for_status()
        # An earlier setup's prescription comes back as a replay: dispense only on a fresh one.
        if index < 2 and prescribed.status_code == 201 and prescribed.json()["dispensingsLeft"] == 4:
            dispensed = await context.http.post(
                f"/clinician/v1/patients/{patient_id}/prescriptions/{prescription_id}/dispensings",
                json={"quantity": {"amount": 100, "unit": "tablett"}, "at": datetime.now(UTC).isoformat()},
                headers=chemist,
            )
            dispensed.raise_for_status()
    return Prepared(headers=citizen, paths=["/citizen/v1/me/prescriptions"])


SCENARIOS: list[Scenario] = [
    Scenario(
        name="prescriptions-citizen-list",
        path="/citizen/v1/me/prescriptions",
        setup=_citizen_with_prescriptions,
        description="the citizen's 10 prescriptions with status and dispensings left (target >= 0.35x baseline)",
    ),
]
