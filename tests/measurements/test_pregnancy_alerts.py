"""Home blood pressure in an ongoing pregnancy: ≥140/90 warns, ≥160/110 is urgent, to the midwife and the GP."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar

from backend.core.alerts import pregnancy_blood_pressure_severity
from backend.core.context import PREGNANCY, set_context
from tests.factories import Citizen, Clinician, consent, new_citizen, new_clinician, relate
from tests.measurements.factories import bp_item

UPLOAD = "/citizen/v1/me/measurements"


@pytest.mark.parametrize(
    ("systolic", "diastolic", "severity"),
    [
        (139, 89, None),
        (140, 70, "warning"),
        (120, 90, "warning"),
        (159, 109, "warning"),
        (160, 80, "urgent"),
        (150, 110, "urgent"),
    ],
)
def test_thresholds_on_both_sides_of_each_edge(systolic: float, diastolic: float, severity: str | None) -> None:
    assert pregnancy_blood_pressure_severity(systolic, diastolic) == severity


async def pregnant_citizen_with_carers(
    client: httpx.AsyncClient, app: Litestar
) -> tuple[Citizen, Clinician, Clinician, Clinician]:
    citizen = await new_citizen(client, app)
    await consent(client, citizen)  # her card's consent: without it no clinician sees these alerts
    await set_context(citizen.patient_id, PREGNANCY, "ongoing")
    midwife = new_clinician(app, org_kind="helsestasjon", authorization="JO")
    gp = new_clinician(app)
    hospital = new_clinician(app, org_kind="sykehus")
    for clinician in (midwife, gp, hospital):
        await relate(client, clinician, citizen.patient_id)
    return citizen, midwife, gp, hospital


async def alerts_for_patient(client: httpx.AsyncClient, clinician: Clinician, citizen: Citizen) -> list[dict[str, Any]]:
    items = (await client.get("/clinician/v1/alerts", headers=clinician.headers)).json()["items"]
    return [item for item in items if item["patientId"] == str(citizen.patient_id)]


async def test_a_batch_alerts_once_for_its_worst_reading_to_midwife_and_gp(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen, midwife, gp, hospital = await pregnant_citizen_with_carers(client, app)
    items = [bp_item(142, 85), bp_item(165, 100), bp_item(120, 80)]
    response = await client.post(UPLOAD, json={"items": items}, headers=citizen.headers)
    worst_id = await db.fetchval(
        "SELECT id FROM measurement WHERE patient_id = $1 AND client_id = $2",
        citizen.patient_id,
        uuid.UUID(response.json()["results"][1]["id"]),
    )
    for carer in (midwife, gp):
        alerts = await alerts_for_patient(client, carer, citizen)
        assert len(alerts) == 1
        alert = alerts[0]
        assert (alert["kind"], alert["severity"], alert["resourceType"]) == (
            "pregnancy-blood-pressure",
            "urgent",
            "measurement",
        )
        assert "165/100" in alert["message"]
        assert alert["resourceId"] == str(worst_id)
    assert await alerts_for_patient(client, hospital, citizen) == []


async def test_a_warning_level_reading_raises_a_warning(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen, midwife, _, _ = await pregnant_citizen_with_carers(client, app)
    await client.post(UPLOAD, json={"items": [bp_item(135, 92)]}, headers=citizen.headers)
    alerts = await alerts_for_patient(client, midwife, citizen)
    assert [alert["severity"] for alert in alerts] == ["warning"]


async def test_normal_readings_and_resends_raise_nothing(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen, midwife, _, _ = await pregnant_citizen_with_carers(client, app)
    await client.post(UPLOAD, json={"items": [bp_item(139, 89)]}, headers=citizen.headers)
    assert await alerts_for_patient(client, midwife, citizen) == []
    high = [bp_item(150, 95)]
    await client.post(UPLOAD, json={"items": high}, headers=citizen.headers)
    await client.post(UPLOAD, json={"items": high}, headers=citizen.headers)  # duplicate: no second alert
    assert len(await alerts_for_patient(client, midwife, citizen)) == 1


async def test_without_an_ongoing_pregnancy_high_home_pressure_raises_no_alert(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    citizen = await new_citizen(client, app)
    midwife = new_clinician(app, org_kind="helsestasjon", authorization="JO")
    await relate(client, midwife, citizen.patient_id)
    await client.post(UPLOAD, json={"items": [bp_item(170, 115)]}, headers=citizen.headers)
    assert await alerts_for_patient(client, midwife, citizen) == []
    await set_context(citizen.patient_id, PREGNANCY, "delivered")
    await client.post(UPLOAD, json={"items": [bp_item(171, 115)]}, headers=citizen.headers)
    assert await alerts_for_patient(client, midwife, citizen) == []
