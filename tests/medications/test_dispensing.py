"""Dispensing at the pharmacy: only an apotek, for any existing patient (basis `pharmacy`), never more than what is
left, and of twenty concurrent dispensings of the last one exactly one wins."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from litestar import Litestar

from backend.core.clock import OSLO, frozen_at
from tests.factories import block, new_citizen, new_clinician
from tests.medications.factories import (
    dispense,
    entry,
    patient_with_prescription,
    pharmacy,
    prescriptions_url,
    related_clinician,
)


async def dispensings_stored(db: asyncpg.Connection, patient_id: uuid.UUID) -> int:
    count: int = await db.fetchval("SELECT count(*) FROM prescription_dispensing WHERE patient_id = $1", patient_id)
    return count


async def test_twenty_concurrent_dispensings_of_the_last_one_exactly_one_wins(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    patient, _, made = await patient_with_prescription(client, app, dispensings=1)
    chemists = [pharmacy(app) for _ in range(4)]
    answers = await asyncio.gather(*(dispense(client, chemists[i % 4], patient.id, made["id"]) for i in range(20)))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] + [409] * 19, [answer.text for answer in answers if answer.status_code != 409]
    assert await dispensings_stored(db, patient.id) == 1
    assert await db.fetchval("SELECT dispensed FROM prescription WHERE id = $1", uuid.UUID(made["id"])) == 1
    [winner] = [answer for answer in answers if answer.status_code == 201]
    assert winner.json()["dispensingsLeft"] == 0
    loser = next(answer for answer in answers if answer.status_code == 409)
    assert "completed" in loser.json()["detail"]


async def test_nothing_left_expired_or_cancelled_is_409_nothing_stored(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    chemist = pharmacy(app)
    # Completed: both dispensings made.
    patient, _, made = await patient_with_prescription(client, app, dispensings=1)
    assert (await dispense(client, chemist, patient.id, made["id"])).status_code == 201
    assert (await dispense(client, chemist, patient.id, made["id"])).status_code == 409
    assert await dispensings_stored(db, patient.id) == 1

    # Expired: the day after validUntil.
    valid_until = datetime.now(UTC).astimezone(OSLO).date() + timedelta(days=3)
    patient, _, made = await patient_with_prescription(client, app, validUntil=str(valid_until))
    with frozen_at(datetime.combine(valid_until + timedelta(days=1), datetime.min.time(), tzinfo=OSLO)):
        expired = await dispense(client, chemist, patient.id, made["id"], at=datetime.now(UTC).isoformat())
    assert expired.status_code == 409, expired.text
    assert "expired" in expired.json()["detail"]

    # Cancelled.
    patient, _, made = await patient_with_prescription(client, app)
    cancel = await client.post(
        prescriptions_url(patient.id, f"/{made['id']}/cancel"), json={"reason": "Seponert"}, headers=patient.gp.headers
    )
    assert cancel.status_code == 200, cancel.text
    cancelled = await dispense(client, chemist, patient.id, made["id"])
    assert cancelled.status_code == 409, cancelled.text
    assert await dispensings_stored(db, patient.id) == 0


@pytest.mark.parametrize(
    ("amount", "unit", "at_offset", "field"),
    [
        (31, "tablett", timedelta(0), "quantity.amount"),
        (10, "ml", timedelta(0), "quantity.unit"),
        (0, "tablett", timedelta(0), "quantity.amount"),
        (-3, "tablett", timedelta(0), "quantity.amount"),
        (30, "tablett", timedelta(hours=2), "at"),
        (30, "tablett", -timedelta(days=2), "at"),
    ],
)
async def test_more_than_prescribed_another_unit_or_an_impossible_time_is_400(
    client: httpx.AsyncClient,
    app: Litestar,
    db: asyncpg.Connection,
    amount: float,
    unit: str,
    at_offset: timedelta,
    field: str,
) -> None:
    patient, _, made = await patient_with_prescription(client, app)
    at = (datetime.now(UTC) + at_offset).isoformat()
    response = await dispense(client, pharmacy(app), patient.id, made["id"], amount=amount, unit=unit, at=at)
    assert response.status_code == 400, response.text
    assert field in response.text
    assert await dispensings_stored(db, patient.id) == 0
    assert await db.fetchval("SELECT dispensed FROM prescription WHERE id = $1", uuid.UUID(made["id"])) == 0


async def test_a_pharmacy_reaches_any_existing_patient_and_an_unknown_one_is_404(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    patient, _, made = await patient_with_prescription(client, app)
    chemist = pharmacy(app)
    # A block of the pharmacist's HPR number does not stop a pharmacy (as a laboratory's posting is not stopped):
    # her prescriptions must be dispensable at any pharmacy.
    await block(client, patient.citizen, chemist)
    assert (await dispense(client, chemist, patient.id, made["id"])).status_code == 201
    nobody = await dispense(client, chemist, uuid.uuid4(), made["id"])
    assert nobody.status_code == 404, nobody.text
    someone_else = await new_citizen(client, app)
    not_hers = await dispense(client, chemist, someone_else.patient_id, made["id"])
    assert not_hers.status_code == 404, not_hers.text
    rows = await db.fetch("SELECT basis, refusal, resource_type FROM audit_log WHERE hpr = $1 ORDER BY id", chemist.hpr)
    # Allowed for her; denied for no one (no such patient); allowed for the other citizen, whose record simply
    # has no such prescription (404, like any id that is not hers).
    assert [(r["basis"], r["refusal"]) for r in rows] == [
        ("pharmacy", None),
        ("denied", "no-patient"),
        ("pharmacy", None),
    ]


async def test_only_a_pharmacy_dispenses(client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection) -> None:
    patient, _, made = await patient_with_prescription(client, app)
    response = await dispense(client, patient.gp, patient.id, made["id"])
    assert response.status_code == 403, response.text
    row = await db.fetchrow(
        "SELECT basis, refusal FROM audit_log WHERE hpr = $1 AND resource_type = 'prescription-dispensing'",
        patient.gp.hpr,
    )
    assert (row["basis"], row["refusal"]) == ("denied", "role")
    assert await dispensings_stored(db, patient.id) == 0


async def test_a_pharmacy_reads_active_prescriptions_only(client: httpx.AsyncClient, app: Litestar) -> None:
    patient, _, made = await patient_with_prescription(client, app)
    chemist = pharmacy(app)
    other = entry("Paracet", "N02BE01")
    listed = await client.get(f"/clinician/v1/patients/{patient.id}/medications", headers=patient.gp.headers)
    put = await client.put(
        f"/clinician/v1/patients/{patient.id}/medications",
        json={"entries": [*listed.json()["entries"], other]},
        headers={**patient.gp.headers, "If-Match": '"1"'},
    )
    assert put.status_code == 200, put.text
    second = await client.post(
        prescriptions_url(patient.id),
        json={"id": str(uuid.uuid4()), "entryId": other["id"], "dosageText": "Ved behov", "dispensings": 1,
              "quantity": {"amount": 20, "unit": "tablett"}},
        headers=patient.gp.headers,
    )  # fmt: skip
    assert second.status_code == 201, second.text
    assert (await dispense(client, chemist, patient.id, second.json()["id"], amount=20)).status_code == 201

    seen = await client.get(prescriptions_url(patient.id), headers=chemist.headers)
    assert [p["id"] for p in seen.json()["items"]] == [made["id"]]  # the completed one is not shown
    asked = await client.get(prescriptions_url(patient.id, "?status=completed"), headers=chemist.headers)
    assert asked.status_code == 403, asked.text
    gp_sees = await client.get(prescriptions_url(patient.id), headers=patient.gp.headers)
    assert len(gp_sees.json()["items"]) == 2


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/clinician/v1/patients/{p}/medications", None),
        ("GET", "/clinician/v1/patients/{p}/lab-reports", None),
        ("GET", "/clinician/v1/patients/{p}/care-relations", None),
        ("POST", "/clinician/v1/patients/{p}/care-relations", {"kind": "gp"}),
        ("POST", "/clinician/v1/patients/{p}/emergency-access", {"reason": "Akutt behov for opplysninger"}),
        ("POST", "/clinician/v1/patients/{p}/prescriptions/{rx}/cancel", {"reason": "Feil"}),
        ("GET", "/clinician/v1/renewal-requests", None),
    ],
)
async def test_a_pharmacy_may_do_nothing_else_403_audited(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, method: str, path: str, body: object
) -> None:
    patient, _, made = await patient_with_prescription(client, app)
    chemist = pharmacy(app)
    url = path.format(p=patient.id, rx=made["id"])
    response = await client.request(method, url, json=body, headers=chemist.headers)
    assert response.status_code == 403, response.text
    refusals = await db.fetchval(
        "SELECT count(*) FROM (SELECT hpr, refusal FROM audit_log UNION ALL SELECT hpr, refusal FROM audit_log_global)"
        " a WHERE a.hpr = $1 AND a.refusal = 'role'",
        chemist.hpr,
    )
    assert refusals == 1


async def test_a_hospital_clinician_with_access_reads_every_status(client: httpx.AsyncClient, app: Litestar) -> None:
    patient, _, made = await patient_with_prescription(client, app)
    nurse = await related_clinician(client, app, patient, org_kind="sykehus", authorization="SP")
    seen = await client.get(prescriptions_url(patient.id, "?status=active"), headers=nurse.headers)
    assert [p["id"] for p in seen.json()["items"]] == [made["id"]]
    stranger = new_clinician(app)
    assert (await client.get(prescriptions_url(patient.id), headers=stranger.headers)).status_code == 404
