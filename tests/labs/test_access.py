"""Who may do what with lab reports, as the core access model audits it: every refusal is one denied row."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
from litestar import Litestar

from tests.factories import Clinician, new_citizen, new_clinician, relate
from tests.labs.reports import lab_report, post_report, posted


async def _lab_report_rows(db: asyncpg.Connection, clinician: Clinician) -> list[dict[str, Any]]:
    rows = await db.fetch(
        """
        SELECT action, resource_id, basis, refusal FROM audit_log
        WHERE hpr = $1 AND resource_type = 'lab-report' ORDER BY id
        """,
        clinician.hpr,
    )
    return [dict(row) for row in rows]


async def test_a_clinician_who_did_not_request_the_report_is_refused_on_record_and_nothing_changes(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    hospital = new_clinician(app, org_kind="sykehus")
    await relate(client, gp, citizen.patient_id)
    await relate(client, hospital, citizen.patient_id)
    report_id = await posted(client, gp, citizen.patient_id, lab_report())
    base = f"/clinician/v1/patients/{citizen.patient_id}/lab-reports/{report_id}"

    for action in ("hold", "release"):
        response = await client.post(f"{base}/{action}", headers=hospital.headers)
        assert response.status_code == 403, response.text
        assert "requester" in response.json()["detail"]

    # Access to the patient was allowed (care relation); the release rule refused each write after it.
    allowed_then_refused = [
        {"action": "write", "resource_id": report_id, "basis": "care-relation", "refusal": None},
        {"action": "write", "resource_id": report_id, "basis": "denied", "refusal": "role"},
    ]
    assert await _lab_report_rows(db, hospital) == allowed_then_refused * 2
    state = await db.fetchrow(
        "SELECT held, released_at FROM lab_report WHERE id = $1 AND patient_id = $2",
        uuid.UUID(report_id),
        citizen.patient_id,
    )
    assert dict(state) == {"held": False, "released_at": None}


async def test_a_laboratory_releasing_or_reading_is_refused_by_role_with_one_denied_row_each(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    lab = new_clinician(app, org_kind="laboratorium", authorization="SP")
    report_id = await posted(client, lab, citizen.patient_id, lab_report(requester=gp))
    base = f"/clinician/v1/patients/{citizen.patient_id}/lab-reports/{report_id}"

    assert (await client.post(f"{base}/release", headers=lab.headers)).status_code == 403
    assert (await client.post(f"{base}/hold", headers=lab.headers)).status_code == 403
    assert (await client.get(f"{base}/versions", headers=lab.headers)).status_code == 403

    assert await _lab_report_rows(db, lab) == [
        {"action": "write", "resource_id": report_id, "basis": "laboratory", "refusal": None},
        {"action": "write", "resource_id": report_id, "basis": "denied", "refusal": "role"},
        {"action": "write", "resource_id": report_id, "basis": "denied", "refusal": "role"},
        {"action": "read", "resource_id": report_id, "basis": "denied", "refusal": "role"},
    ]


async def test_a_laboratory_posting_for_a_patient_who_does_not_exist_is_404_on_record(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    gp = new_clinician(app)
    lab = new_clinician(app, org_kind="laboratorium", authorization="SP")
    body = lab_report(requester=gp)

    response = await post_report(client, lab, uuid.uuid4(), body)

    assert response.status_code == 404
    assert await _lab_report_rows(db, lab) == [
        {"action": "write", "resource_id": body["id"], "basis": "denied", "refusal": "no-patient"}
    ]


async def test_a_bad_report_is_400_before_the_access_decision_and_leaves_no_audit_row(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    stranger = new_clinician(app)
    response = await post_report(client, stranger, uuid.uuid4(), {**lab_report(), "priority": "urgent"})

    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "priority", "message": "not a field of this document"}]
    assert await _lab_report_rows(db, stranger) == []
