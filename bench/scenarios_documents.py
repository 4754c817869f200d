"""Journal documents (issue 15): a GP listing her patients' documents from another organisation (the clinician
document list: the access decision with its audit row, the look-back and restriction predicate, `restrictedCount`).
Target: ≥ 0.3× the raw-asyncpg baseline."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta

from backend.dev.tokens import citizen_claims, clinician_claims, load_dev_signing_key, mint
from backend.settings import Settings
from bench.scenarios import BenchContext, Prepared, Scenario
from bench.scenarios_medications import _synthetic_numbers

PATIENTS = 20
DOCUMENTS = 8
TYPES = ("epicrisis", "outpatient-note", "referral", "radiology-report")


async def _documents(context: BenchContext) -> Prepared:
    """A GP and a hospital share 20 patients; the hospital published 8 documents each, and each patient
    restricted one of them."""
    key = load_dev_signing_key(Settings(data_dir=context.data_dir))
    numbers = _synthetic_numbers(PATIENTS + 2, seed=151)
    gp = mint(key, "clinician", clinician_claims(hpr="8915101", pid=numbers[-1], authorization="LE",
                                                 org="970151001", org_kind="fastlege"), expires_in=3600)  # fmt: skip
    hospital = mint(key, "clinician", clinician_claims(hpr="8915102", pid=numbers[-2], authorization="LE",
                                                       org="970151002", org_kind="sykehus"), expires_in=3600)  # fmt: skip
    gp_headers, hospital_headers = {"Authorization": f"Bearer {gp}"}, {"Authorization": f"Bearer {hospital}"}
    paths: list[str] = []
    content = b"%PDF-1.4\n" + b"0" * 20_000
    for number in numbers[:PATIENTS]:
        citizen = {"Authorization": f"Bearer {mint(key, 'citizen', citizen_claims(number), expires_in=3600)}"}
        me = await context.http.get("/citizen/v1/me", headers=citizen)
        me.raise_for_status()
        patient_id = me.json()["patientId"]
        for headers, kind in ((gp_headers, "gp"), (hospital_headers, "hospital")):
            relation = await context.http.post(
                f"/clinician/v1/patients/{patient_id}/care-relations", json={"kind": kind}, headers=headers
            )
            relation.raise_for_status()
        path = f"/clinician/v1/patients/{patient_id}/documents"
        for index in range(DOCUMENTS):
            metadata = {
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{patient_id}/{index}")),
                "type": TYPES[index % len(TYPES)],
                "title": f"Dokument {index}",
                "date": (date(2026, 11, 1) - timedelta(days=30 * index)).isoformat(),
            }
            posted = await context.http.post(
                path,
                files={
                    "metadata": (None, json.dumps(metadata), "application/json"),
                    "content": ("d.pdf", content + bytes([index]), "application/pdf"),
                },
                headers=hospital_headers,
            )
            posted.raise_for_status()  # 200 when an earlier server's setup in this run posted it already
        restricted = await context.http.put(f"/citizen/v1/me/documents/{metadata['id']}/restriction", headers=citizen)
        restricted.raise_for_status()
        paths.append(path)
    return Prepared(headers=gp_headers, paths=paths)


SCENARIOS: list[Scenario] = [
    Scenario(
        name="documents-list",
        path="/clinician/v1/patients/{id}/documents",
        setup=_documents,
        description="GP lists 8 hospital documents of each of 20 patients (audited; one restricted each)",
    ),
]
