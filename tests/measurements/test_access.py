"""Måledata on the core access model: the SpO2 target's doctor-only rule is the route's Need role (refused before
anything about the patient, one denied audit row), and a laboratory reads or records nothing here."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
from litestar import Litestar

from tests.factories import Clinician, new_citizen, new_clinician, relate
from tests.measurements.factories import value_item
from tests.security.test_measurements_routes import NEWS2_SET


async def audit_rows(db: asyncpg.Connection, clinician: Clinician) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT patient_id, action, resource_type, basis, refusal FROM audit_log WHERE hpr = $1 ORDER BY id",
        clinician.hpr,
    )
    return [dict(row) for row in rows]


def target_path(patient_id: uuid.UUID) -> str:
    return f"/clinician/v1/patients/{patient_id}/spo2-target"


async def test_a_nurse_prescribing_or_clearing_the_target_is_refused_by_role_with_one_denied_row_each(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    nurse = new_clinician(app, org_kind="hjemmetjeneste", authorization="SP")
    await relate(client, nurse, citizen.patient_id)
    before = len(await audit_rows(db, nurse))
    path = target_path(citizen.patient_id)
    prescribed = await client.put(path, json={"target": "88-92"}, headers=nurse.headers)
    assert prescribed.status_code == 403, prescribed.text
    assert "doctor (authorization LE)" in prescribed.json()["detail"]
    cleared = await client.delete(path, headers=nurse.headers)
    assert cleared.status_code == 403, cleared.text
    denied = {"patient_id": citizen.patient_id, "action": "write", "resource_type": "spo2-target"}
    assert (await audit_rows(db, nurse))[before:] == [{**denied, "basis": "denied", "refusal": "role"}] * 2
    assert await db.fetchval("SELECT count(*) FROM spo2_target WHERE patient_id = $1", citizen.patient_id) == 0
    # She still reads the target in force (none), as an allowed read.
    shown = await client.get(path, headers=nurse.headers)
    assert shown.status_code == 200
    assert shown.json()["target"] is None
    assert (await audit_rows(db, nurse))[-1] == {**denied, "action": "read", "basis": "care-relation", "refusal": None}


async def test_the_role_is_refused_before_anything_about_the_patient_is_asked(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    """A midwife without any relation, or for a patient who does not exist, hears 403 by role, not 404."""
    citizen = await new_citizen(client, app)
    midwife = new_clinician(app, org_kind="helsestasjon", authorization="JO")
    for patient_id in (citizen.patient_id, uuid.uuid4()):
        response = await client.put(target_path(patient_id), json={"target": "88-92"}, headers=midwife.headers)
        assert response.status_code == 403, response.text
    assert [(row["basis"], row["refusal"]) for row in await audit_rows(db, midwife)] == [("denied", "role")] * 2


async def test_a_doctor_prescribes_through_the_same_need_and_is_audited_as_an_allowed_write(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    doctor = new_clinician(app, org_kind="sykehus", authorization="LE")
    await relate(client, doctor, citizen.patient_id)
    before = len(await audit_rows(db, doctor))
    path = target_path(citizen.patient_id)
    assert (await client.put(path, json={"target": "88-92"}, headers=doctor.headers)).status_code == 200
    assert (await client.delete(path, headers=doctor.headers)).status_code == 204
    assert [(row["action"], row["basis"], row["refusal"]) for row in (await audit_rows(db, doctor))[before:]] == [
        ("write", "care-relation", None)
    ] * 2
    # An unrelated doctor passes the role but not the patient decision: 404, audited as no-relation.
    stranger = new_clinician(app, org_kind="sykehus", authorization="LE")
    assert (await client.put(path, json={"target": "88-92"}, headers=stranger.headers)).status_code == 404
    assert [row["refusal"] for row in await audit_rows(db, stranger)] == ["no-relation"]


async def test_a_laboratory_reads_and_records_nothing_of_the_measurements(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    lab = new_clinician(app, org_kind="laboratorium", authorization="SP")
    base = f"/clinician/v1/patients/{citizen.patient_id}"
    attempts = [
        ("GET", f"{base}/measurements", None),
        ("GET", f"{base}/measurements/series?code=29463-7", None),
        ("POST", f"{base}/measurements", {"items": [value_item()]}),
        ("POST", f"{base}/news2", NEWS2_SET),
        ("GET", f"{base}/spo2-target", None),
    ]
    for method, path, body in attempts:
        response = await client.request(method, path, json=body, headers=lab.headers)
        assert response.status_code == 403, (path, response.text)
    rows = await audit_rows(db, lab)
    assert [(row["action"], row["resource_type"]) for row in rows] == [
        ("read", "measurement"),
        ("read", "measurement"),
        ("write", "measurement"),
        ("write", "news2"),
        ("read", "spo2-target"),
    ]
    assert {(row["basis"], row["refusal"]) for row in rows} == {("denied", "role")}
    assert await db.fetchval("SELECT count(*) FROM measurement WHERE patient_id = $1", citizen.patient_id) == 0
