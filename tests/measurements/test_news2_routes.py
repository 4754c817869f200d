"""NEWS2 through the API: the stateless score, and the recorded vital set with its measurements, links and alerts."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
from litestar import Litestar

from backend.core.context import PREGNANCY, set_context
from tests.factories import Clinician, consent, new_citizen, new_clinician, relate

SCORE = "/clinician/v1/news2/score"

NORMAL: dict[str, Any] = {
    "respirationRate": 16, "spo2": 97, "spo2Scale": 1, "onOxygen": False, "systolic": 125, "pulse": 70,
    "consciousness": "A", "temperature": 37.0,
}  # fmt: skip
# 2 (rate 22) + 1 (SpO2 95) + 1 (systolic 105) + 1 (pulse 95) = 5: medium.
MEDIUM = {**NORMAL, "respirationRate": 22, "spo2": 95, "systolic": 105, "pulse": 95}
# 3 (rate 26) + 3 (SpO2 91) + 2 (oxygen) = 8: high.
HIGH = {**NORMAL, "respirationRate": 26, "spo2": 91, "onOxygen": True}
# A single 3 (new confusion) with a total below 5: low-medium.
LOW_MEDIUM = {**NORMAL, "consciousness": "C"}


def record_path(patient_id: uuid.UUID) -> str:
    return f"/clinician/v1/patients/{patient_id}/news2"


async def alerts_of(client: httpx.AsyncClient, clinician: Clinician) -> list[dict[str, Any]]:
    response = await client.get("/clinician/v1/alerts", headers=clinician.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_stateless_score_answers_total_subscores_risk_and_response(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    clinician = new_clinician(app, org_kind="legevakt")
    response = await client.post(SCORE, json=HIGH, headers=clinician.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "total": 8,
        "subscores": {
            "respirationRate": 3, "spo2": 3, "onOxygen": 2, "systolic": 0, "pulse": 0, "consciousness": 0,
            "temperature": 0,
        },
        "risk": "high",
        "monitoring": "continuous",
        "response": "emergency assessment within 30 minutes, consider HDU/ICU",
        "singleParameterRed": True,
    }  # fmt: skip
    low_medium = (await client.post(SCORE, json=LOW_MEDIUM, headers=clinician.headers)).json()
    assert (low_medium["total"], low_medium["risk"], low_medium["monitoring"]) == (3, "low-medium", "hourly")


async def test_stateless_score_uses_scale_2_only_when_asked(client: httpx.AsyncClient, app: Litestar) -> None:
    clinician = new_clinician(app)
    vitals = {**NORMAL, "spo2": 90, "onOxygen": True}
    scale1 = (await client.post(SCORE, json=vitals, headers=clinician.headers)).json()
    scale2 = (await client.post(SCORE, json={**vitals, "spo2Scale": 2}, headers=clinician.headers)).json()
    assert scale1["subscores"]["spo2"] == 3
    assert scale2["subscores"]["spo2"] == 0
    # On scale 2, 93-94 % on oxygen scores 1 (CLINICAL.md: often got wrong).
    oxygen_93 = {**vitals, "spo2": 93, "spo2Scale": 2}
    assert (await client.post(SCORE, json=oxygen_93, headers=clinician.headers)).json()["subscores"]["spo2"] == 1


async def test_stateless_score_refuses_bad_input_naming_the_field(client: httpx.AsyncClient, app: Litestar) -> None:
    clinician = new_clinician(app)
    cases = [
        ({**NORMAL, "consciousness": "X"}, "consciousness"),
        ({**NORMAL, "spo2Scale": 3}, "spo2Scale"),
        ({**NORMAL, "temperature": "hot"}, "temperature"),
        ({**NORMAL, "pulse": 400}, "pulse"),
        ({**NORMAL, "pulse": 70.5}, "pulse"),
        ({**NORMAL, "bloodSugar": 5}, "bloodSugar"),
        ({key: value for key, value in NORMAL.items() if key != "systolic"}, "systolic"),
    ]
    for body, field in cases:
        response = await client.post(SCORE, json=body, headers=clinician.headers)
        assert response.status_code == 400, (body, response.text)
        assert field in response.text, (field, response.text)


async def test_stateless_score_is_for_clinicians_only(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    assert (await client.post(SCORE, json=NORMAL, headers=citizen.headers)).status_code == 403
    assert (await client.post(SCORE, json=NORMAL)).status_code == 401


async def test_recording_stores_the_vital_set_as_measurements_and_links_the_score(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    doctor = new_clinician(app, org_kind="legevakt")
    await relate(client, doctor, citizen.patient_id)
    body = {**MEDIUM, "diastolic": 70, "effectiveAt": "2026-01-05T03:10:00+01:00"}
    response = await client.post(record_path(citizen.patient_id), json=body, headers=doctor.headers)
    assert response.status_code == 201, response.text
    recorded = response.json()
    assert recorded["code"] == "1104051000000101"
    assert (recorded["total"], recorded["risk"], recorded["validForPatient"]) == (5, "medium", True)
    assert recorded["subscores"] == {
        "respirationRate": 2, "spo2": 1, "onOxygen": 0, "systolic": 1, "pulse": 1, "consciousness": 0,
        "temperature": 0,
    }  # fmt: skip
    assert recorded["effectiveAt"] == "2026-01-05T02:10:00Z"
    links = recorded["measurementIds"]
    rows = await db.fetch(
        "SELECT id, code, value, systolic, diastolic, unit, source, recorded_by_hpr, effective_at "
        "FROM measurement WHERE patient_id = $1",
        citizen.patient_id,
    )
    by_code = {row["code"]: row for row in rows}
    assert set(by_code) == {"9279-1", "59408-5", "85354-9", "8867-4", "8310-5"}
    assert str(by_code["9279-1"]["id"]) == links["respirationRate"]
    assert str(by_code["59408-5"]["id"]) == links["spo2"]
    assert str(by_code["85354-9"]["id"]) == links["bloodPressure"]
    assert str(by_code["8867-4"]["id"]) == links["pulse"]
    assert str(by_code["8310-5"]["id"]) == links["temperature"]
    assert (by_code["9279-1"]["value"], by_code["9279-1"]["unit"]) == (22, "/min")
    assert (by_code["85354-9"]["systolic"], by_code["85354-9"]["diastolic"]) == (105, 70)
    assert (by_code["8310-5"]["value"], by_code["8310-5"]["unit"]) == (37.0, "Cel")
    assert {(row["source"], row["recorded_by_hpr"]) for row in rows} == {("clinician", doctor.hpr)}
    score = await db.fetchrow("SELECT * FROM news2_score WHERE id = $1", uuid.UUID(recorded["id"]))
    assert score["patient_id"] == citizen.patient_id
    assert (score["total"], score["risk"], score["valid_for_patient"], score["spo2_scale"]) == (5, "medium", True, 1)
    assert (score["on_oxygen"], score["consciousness"]) == (False, "A")
    assert str(score["blood_pressure_measurement"]) == links["bloodPressure"]
    assert score["respiration_rate_score"] == 2
    event = await db.fetchrow(
        "SELECT resource_type, resource_id FROM event WHERE patient_id = $1 AND type = 'news2.recorded'",
        citizen.patient_id,
    )
    assert (event["resource_type"], event["resource_id"]) == ("news2-score", recorded["id"])
    # The vital set is part of the patient's measurements for every reader.
    listed = (await client.get("/citizen/v1/me/measurements", headers=citizen.headers)).json()["items"]
    assert {item["code"] for item in listed} == set(by_code)


async def test_scale_2_only_under_a_recorded_target_rcp_news2_2017_clinical_v1_1(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    """RCP NEWS2 2017 / CLINICAL.md v1.1: scale 2 only where a doctor has recorded an 88-92 % target."""
    citizen = await new_citizen(client, app)
    nurse = new_clinician(app, org_kind="hjemmetjeneste", authorization="SP")
    doctor = new_clinician(app, org_kind="sykehus", authorization="LE", name="Lege Lise Berg")
    await relate(client, nurse, citizen.patient_id)
    await relate(client, doctor, citizen.patient_id)
    path = record_path(citizen.patient_id)
    vitals = {**NORMAL, "spo2": 89, "onOxygen": True}
    del vitals["spo2Scale"]
    # No target: the request's word is not enough, and nothing is stored.
    refused = await client.post(path, json={**vitals, "spo2Scale": 2}, headers=nurse.headers)
    assert refused.status_code == 400, refused.text
    assert refused.json()["errors"][0]["field"] == "spo2Scale"
    assert await db.fetchval("SELECT count(*) FROM news2_score WHERE patient_id = $1", citizen.patient_id) == 0
    default = (await client.post(path, json=vitals, headers=nurse.headers)).json()
    assert (default["spo2Scale"], default["subscores"]["spo2"]) == (1, 3)
    # A nurse may not prescribe the target; a doctor may.
    target_path = f"/clinician/v1/patients/{citizen.patient_id}/spo2-target"
    assert (await client.put(target_path, json={"target": "88-92"}, headers=nurse.headers)).status_code == 403
    prescribed = await client.put(target_path, json={"target": "88-92"}, headers=doctor.headers)
    assert prescribed.status_code == 200, prescribed.text
    assert prescribed.json()["target"] == "88-92"
    assert prescribed.json()["prescribedBy"] == {
        "hpr": doctor.hpr, "name": "Lege Lise Berg", "authorization": "LE", "organisation": doctor.org,
        "orgKind": "sykehus",
    }  # fmt: skip
    shown = (await client.get(target_path, headers=nurse.headers)).json()
    assert shown == prescribed.json()
    # Under the target the nurse's record is on scale 2, asked or not; asking for scale 1 is refused.
    on_target = (await client.post(path, json=vitals, headers=nurse.headers)).json()
    asked = (await client.post(path, json={**vitals, "spo2Scale": 2}, headers=nurse.headers)).json()
    assert (on_target["spo2Scale"], on_target["subscores"]["spo2"]) == (2, 0)
    assert (asked["spo2Scale"], asked["subscores"]["spo2"]) == (2, 0)
    wrong = await client.post(path, json={**vitals, "spo2Scale": 1}, headers=nurse.headers)
    assert wrong.status_code == 400
    assert wrong.json()["errors"][0]["field"] == "spo2Scale"
    target_id = await db.fetchval("SELECT id FROM spo2_target WHERE patient_id = $1", citizen.patient_id)
    rows = await db.fetch(
        "SELECT spo2_scale, spo2_score, spo2_target FROM news2_score WHERE patient_id = $1 ORDER BY created_at",
        citizen.patient_id,
    )
    assert [(row["spo2_scale"], row["spo2_score"], row["spo2_target"]) for row in rows] == [
        (1, 3, None),
        (2, 0, target_id),
        (2, 0, target_id),
    ]
    # Cleared (only by a doctor): scale 1 again, and the prescription is kept with who cleared it.
    assert (await client.delete(target_path, headers=nurse.headers)).status_code == 403
    assert (await client.delete(target_path, headers=doctor.headers)).status_code == 204
    assert (await client.get(target_path, headers=nurse.headers)).json() == {
        "target": None, "prescribedBy": None, "prescribedAt": None,
    }  # fmt: skip
    after = (await client.post(path, json=vitals, headers=nurse.headers)).json()
    assert (after["spo2Scale"], after["subscores"]["spo2"]) == (1, 3)
    kept = await db.fetchrow(
        "SELECT prescribed_by_hpr, cleared_by_hpr, cleared_at FROM spo2_target WHERE patient_id = $1",
        citizen.patient_id,
    )
    assert (kept["prescribed_by_hpr"], kept["cleared_by_hpr"]) == (doctor.hpr, doctor.hpr)
    assert kept["cleared_at"] is not None
    audited = await db.fetch(
        "SELECT hpr, action, basis FROM audit_log WHERE patient_id = $1 AND resource_type = 'spo2-target'",
        citizen.patient_id,
    )
    assert {(row["hpr"], row["action"]) for row in audited} >= {(doctor.hpr, "write"), (nurse.hpr, "read")}


async def test_spo2_target_refuses_other_targets_naming_the_field(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    doctor = new_clinician(app, org_kind="sykehus")
    await relate(client, doctor, citizen.patient_id)
    target_path = f"/clinician/v1/patients/{citizen.patient_id}/spo2-target"
    for body in ({"target": "94-98"}, {}, {"target": "88-92", "scale": 2}):
        response = await client.put(target_path, json=body, headers=doctor.headers)
        assert response.status_code == 400, (body, response.text)
    assert (await client.get(target_path, headers=doctor.headers)).json()["target"] is None


async def test_medium_raises_a_warning_and_high_an_urgent_alert_for_related_clinicians_only(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    citizen = await new_citizen(client, app)
    legevakt = new_clinician(app, org_kind="legevakt")
    midwife = new_clinician(app, org_kind="helsestasjon", authorization="JO")
    unrelated = new_clinician(app, org_kind="legevakt")
    await relate(client, legevakt, citizen.patient_id)
    await relate(client, midwife, citizen.patient_id)
    medium = (await client.post(record_path(citizen.patient_id), json=MEDIUM, headers=legevakt.headers)).json()
    high = (await client.post(record_path(citizen.patient_id), json=HIGH, headers=legevakt.headers)).json()
    for reader in (legevakt, midwife):
        alerts = [alert for alert in await alerts_of(client, reader) if alert["patientId"] == str(citizen.patient_id)]
        assert [(alert["kind"], alert["severity"], alert["resourceId"]) for alert in alerts] == [
            ("news2", "urgent", high["id"]),
            ("news2", "warning", medium["id"]),
        ]
        assert alerts[0]["resourceType"] == "news2-score"
        assert alerts[0]["id"] == high["alertId"]
    assert not [a for a in await alerts_of(client, unrelated) if a["patientId"] == str(citizen.patient_id)]


async def test_low_raises_no_alert_and_a_single_red_parameter_does_rcp_news2_2017_clinical_v1_1(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    """RCP NEWS2 2017 clinical response / CLINICAL.md v1.1: a 3 in any one parameter (low-medium) is escalated."""
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    low = (await client.post(record_path(citizen.patient_id), json=NORMAL, headers=gp.headers)).json()
    assert low["alertId"] is None
    red = (await client.post(record_path(citizen.patient_id), json=LOW_MEDIUM, headers=gp.headers)).json()
    assert (red["total"], red["risk"], red["singleParameterRed"]) == (3, "low-medium", True)
    assert red["alertId"] is not None
    alerts = [a for a in await alerts_of(client, gp) if a["patientId"] == str(citizen.patient_id)]
    assert [(a["id"], a["kind"], a["severity"], a["resourceId"]) for a in alerts] == [
        (red["alertId"], "news2", "warning", red["id"])
    ]
    assert "single parameter" in alerts[0]["message"]


async def test_in_pregnancy_the_score_is_stored_as_not_valid_and_raises_no_alert(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    await consent(client, citizen)
    await set_context(citizen.patient_id, PREGNANCY, "ongoing")
    legevakt = new_clinician(app, org_kind="legevakt")
    await relate(client, legevakt, citizen.patient_id)
    response = await client.post(record_path(citizen.patient_id), json=HIGH, headers=legevakt.headers)
    assert response.status_code == 201
    recorded = response.json()
    assert (recorded["total"], recorded["risk"]) == (8, "high")
    assert recorded["validForPatient"] is False
    assert recorded["notValidReason"] == "pregnancy"  # she consents to her card: her clinicians may know
    assert recorded["alertId"] is None
    valid = await db.fetchval("SELECT valid_for_patient FROM news2_score WHERE id = $1", uuid.UUID(recorded["id"]))
    assert valid is False
    assert not [a for a in await alerts_of(client, legevakt) if a["patientId"] == str(citizen.patient_id)]


async def test_recording_refuses_bad_input_and_stores_nothing(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    cases = [
        ({**NORMAL, "respirationRate": "fast"}, "respirationRate"),
        ({**NORMAL, "effectiveAt": "2099-01-01T00:00:00Z"}, "effectiveAt"),
        ({**NORMAL, "effectiveAt": "2026-01-01T00:00:00"}, "effectiveAt"),
        ({**NORMAL, "diastolic": 5}, "diastolic"),
    ]
    for body, field in cases:
        response = await client.post(record_path(citizen.patient_id), json=body, headers=gp.headers)
        assert response.status_code == 400, (body, response.text)
        assert field in response.text
    assert await db.fetchval("SELECT count(*) FROM measurement WHERE patient_id = $1", citizen.patient_id) == 0
    assert await db.fetchval("SELECT count(*) FROM news2_score WHERE patient_id = $1", citizen.patient_id) == 0
