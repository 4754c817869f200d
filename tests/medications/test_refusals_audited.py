"""Every refusal on the medication list is one audited row with its true outcome.

A role that may not write (a nurse) or read (a laboratory) is refused by core before anything about the
patient is asked: 403 and one denied row with refusal `role`. A midwife changing an entry outside her
list is refused by the list's own rule after her access was granted: her allowed decision, then one
denied row of the same action, and nothing written.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
from litestar import Litestar

from tests.factories import Clinician, new_clinician
from tests.medications.factories import entry, list_url, patient_with_gp, put, related_clinician, write


async def _rows(db: asyncpg.Connection, clinician: Clinician) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT action, resource_type, basis, refusal FROM audit_log WHERE hpr = $1 ORDER BY id", clinician.hpr
    )
    return [dict(row) for row in rows]


async def test_a_nurse_reconciling_is_one_denied_role_row_and_nothing_is_stored(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    patient = await patient_with_gp(client, app)
    nurse = await related_clinician(client, app, patient, org_kind="hjemmetjeneste", authorization="SP")
    before = await _rows(db, nurse)
    response = await client.post(
        list_url(patient.id, "/reconciliations"), json={"sources": ["patient"]}, headers=nurse.headers
    )
    assert response.status_code == 403, response.text
    assert "doctors (LE)" in response.json()["detail"]
    assert (await _rows(db, nurse))[len(before) :] == [
        {"action": "write", "resource_type": "medication-reconciliation", "basis": "denied", "refusal": "role"}
    ]
    stored = await db.fetchval("SELECT count(*) FROM medication_reconciliation WHERE patient_id = $1", patient.id)
    assert stored == 0


async def test_a_laboratory_reading_the_list_its_history_or_the_discrepancies_is_refused_by_role(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    patient = await patient_with_gp(client, app)
    lab = new_clinician(app, org_kind="laboratorium", authorization="SP")
    for suffix in ("", "/history", "/history/0", "/discrepancies"):
        response = await client.get(list_url(patient.id, suffix), headers=lab.headers)
        assert response.status_code == 403, (suffix, response.text)
    rows = await _rows(db, lab)
    assert [(row["action"], row["basis"], row["refusal"]) for row in rows] == [("read", "denied", "role")] * 4
    assert {row["resource_type"] for row in rows} == {"medication-list", "medication-discrepancy"}


async def test_a_midwife_outside_her_list_is_audited_as_refused_and_nothing_is_written(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    patient = await patient_with_gp(client, app)
    midwife = await related_clinician(client, app, patient, org_kind="helsestasjon", authorization="JO")
    base = await write(client, patient.gp, patient.id, [entry("Paracet", "N02BE01")], 0)
    before = await _rows(db, midwife)
    response = await put(client, midwife, patient.id, [*base["entries"], entry("Levaxin", "H03AA01")], 1)
    assert response.status_code == 403, response.text
    assert (await _rows(db, midwife))[len(before) :] == [
        {"action": "write", "resource_type": "medication-list", "basis": "care-relation", "refusal": None},
        {"action": "write", "resource_type": "medication-list", "basis": "denied", "refusal": "role"},
    ]
    assert await db.fetchval("SELECT version FROM medication_list WHERE patient_id = $1", patient.id) == 1


async def test_a_midwife_inside_her_list_leaves_only_her_allowed_row(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    patient = await patient_with_gp(client, app)
    midwife = await related_clinician(client, app, patient, org_kind="helsestasjon", authorization="JO")
    before = await _rows(db, midwife)
    await write(client, midwife, patient.id, [entry("Folsyre", "B03BB01")], 0)
    assert (await _rows(db, midwife))[len(before) :] == [
        {"action": "write", "resource_type": "medication-list", "basis": "care-relation", "refusal": None}
    ]
