"""The legevakt overview: one call, one audit row, sections from every domain through core, pregnancy only with
her consent, and nothing from municipalities that do not share."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import asyncpg
import httpx
from litestar import Litestar

from backend.core.clock import frozen_at
from tests.documents.helpers import upload
from tests.factories import fnr_born_on, new_citizen, new_clinician, relate
from tests.labs.reports import ferritin, hb, lab_report, posted
from tests.medications.factories import entry, patient_with_prescription
from tests.municipal.factories import BAERUM, BODO, OSLO, put_service, service_body, sharing
from tests.pregnancy.cards import lmp_for_week

# 02:30 at night in Oslo (UTC+1 in December); "last evening" is 20:00 the day before.
NIGHT = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)
LAST_EVENING = datetime(2026, 11, 30, 19, 0, tzinfo=UTC)

VITALS = {
    "respirationRate": 22,
    "spo2": 93,
    "onOxygen": False,
    "systolic": 104,
    "diastolic": 62,
    "pulse": 112,
    "consciousness": "A",
    "temperature": 38.6,
}


async def _overview_rows(db: asyncpg.Connection, patient_id: uuid.UUID) -> int:
    return int(await db.fetchval("SELECT count(*) FROM audit_log WHERE patient_id = $1", patient_id))


async def test_done_when_the_legevakt_doctor_at_night_sees_home_nursing_medicines_and_news2_and_she_sees_who_looked(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    fnr = fnr_born_on(date(1942, 3, 14))
    patient = await new_citizen(client, app, fnr)
    home_care = new_clinician(app, org_kind="hjemmetjeneste", authorization="SP", municipality=BAERUM)
    bodo_care = new_clinician(app, org_kind="hjemmetjeneste", authorization="SP", municipality=BODO)
    gp = new_clinician(app, org_kind="fastlege", municipality=BAERUM)
    legevakt = new_clinician(app, org_kind="legevakt", municipality=OSLO, name="Legevaktlege Lise Vik")
    for clinician in (home_care, bodo_care, gp, legevakt):
        await relate(client, clinician, patient.patient_id)

    with frozen_at(LAST_EVENING + timedelta(minutes=10)):
        night_phone = {"name": "Hjemmesykepleien Bærum", "unit": "Natt", "phone": "+47 67 50 40 00", "hours": "24/7"}
        nursing = await put_service(client, home_care, patient.patient_id, service_body(provider=night_phone))
        assert nursing.status_code == 201, nursing.text
        ended = await put_service(client, home_care, patient.patient_id, service_body("day-centre", status="ended"))
        assert ended.status_code == 201
        hidden = await put_service(client, bodo_care, patient.patient_id, service_body("safety-alarm"))
        assert hidden.status_code == 201
        medicines = await client.put(
            f"/clinician/v1/patients/{patient.patient_id}/medications",
            json={"entries": [entry("Albyl-E", "B01AC06", strength="75 mg"), entry()]},
            headers={**gp.headers, "If-Match": '"0"'},
        )
        assert medicines.status_code == 200, medicines.text
        news2 = await client.post(
            f"/clinician/v1/patients/{patient.patient_id}/news2",
            json={**VITALS, "effectiveAt": LAST_EVENING.isoformat()},
            headers=home_care.headers,
        )
        assert news2.status_code == 201, news2.text

    before = await _overview_rows(db, patient.patient_id)
    with frozen_at(NIGHT), sharing(app, districts={legevakt.org: [OSLO, BAERUM]}):
        response = await client.get(f"/clinician/v1/patients/{patient.patient_id}/overview", headers=legevakt.headers)
    assert response.status_code == 200, response.text
    overview = response.json()

    assert overview["patient"] == {"age": 84, "sex": "male" if int(fnr[8]) % 2 else "female"}
    assert [
        (item["service"], item["provider"]["phone"], item["provider"]["hours"])
        for item in overview["municipalServices"]
    ] == [("home-nursing", "+47 67 50 40 00", "24/7")]  # the ended day centre is not shown; Bodø does not share
    assert overview["otherMunicipalitiesCount"] == 1
    assert "safety-alarm" not in response.text
    assert {medicine["name"] for medicine in overview["medications"]} == {"Albyl-E", "Levaxin"}
    assert overview["vitals"]["news2"]["at"].startswith("2026-11-30T19:00")
    assert overview["vitals"]["news2"]["total"] == news2.json()["total"]
    assert overview["vitals"]["pulse"]["value"] == 112
    assert overview["vitals"]["bloodPressure"]["systolic"] == 104
    assert "pregnancy" not in overview

    # One audit row for the whole overview, and she sees it in her access log.
    assert await _overview_rows(db, patient.patient_id) == before + 1
    log = (await client.get("/citizen/v1/me/access-log", headers=patient.headers)).json()["items"]
    assert log[0]["resourceType"] == "overview"
    assert log[0]["hpr"] == legevakt.hpr
    assert log[0]["name"] == "Legevaktlege Lise Vik"
    assert log[0]["orgKind"] == "legevakt"
    assert log[0]["basis"] == "care-relation"


async def test_the_overview_is_one_audit_row_with_flagged_labs_and_pregnancy_only_with_her_consent(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    woman = await new_citizen(client, app)
    gp = new_clinician(app, org_kind="fastlege")
    legevakt = new_clinician(app, org_kind="legevakt")
    for clinician in (gp, legevakt):
        await relate(client, clinician, woman.patient_id)
    assert (await client.put("/citizen/v1/me/consents/pregnancy-card", headers=woman.headers)).status_code == 204
    card = await client.post(
        f"/clinician/v1/patients/{woman.patient_id}/pregnancies",
        json={"lastMenstrualPeriod": lmp_for_week(20, 3).isoformat()},
        headers=gp.headers,
    )
    assert card.status_code == 201, card.text
    await posted(client, gp, woman.patient_id, lab_report(hb(9.1), ferritin(50), requester=gp))
    path = f"/clinician/v1/patients/{woman.patient_id}/overview"

    before = await _overview_rows(db, woman.patient_id)
    consented = (await client.get(path, headers=legevakt.headers)).json()
    assert consented["pregnancy"] == {"status": "ongoing", "gestationalAge": {"weeks": 20, "days": 3}}
    assert [(result["code"], result["flag"]) for result in consented["labResults"]] == [("718-7", "low")]
    assert await _overview_rows(db, woman.patient_id) == before + 1

    assert (await client.delete("/citizen/v1/me/consents/pregnancy-card", headers=woman.headers)).status_code == 204
    withdrawn = await client.get(path, headers=legevakt.headers)
    assert withdrawn.status_code == 200, withdrawn.text
    assert "pregnancy" not in withdrawn.json()
    assert "ongoing" not in withdrawn.text
    assert "pregnan" not in withdrawn.text
    assert await _overview_rows(db, woman.patient_id) == before + 2
    rows = await db.fetch(
        "SELECT resource_type, basis FROM audit_log WHERE patient_id = $1 AND hpr = $2 AND action = 'read'",
        woman.patient_id,
        legevakt.hpr,
    )
    assert [tuple(row) for row in rows] == [("overview", "care-relation")] * 2


async def test_a_clinician_without_access_gets_404_and_one_denied_row(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    patient = await new_citizen(client, app)
    stranger = new_clinician(app, org_kind="legevakt")
    response = await client.get(f"/clinician/v1/patients/{patient.patient_id}/overview", headers=stranger.headers)
    assert response.status_code == 404
    rows = await db.fetch("SELECT basis, refusal FROM audit_log WHERE patient_id = $1", patient.patient_id)
    assert [tuple(row) for row in rows] == [("denied", "no-relation")]


async def test_the_overview_shows_active_prescriptions_and_the_newest_documents_but_not_a_restricted_one(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    patient, _, prescription = await patient_with_prescription(client, app)
    hospital = new_clinician(app, org_kind="sykehus")
    legevakt = new_clinician(app, org_kind="legevakt")
    for clinician in (hospital, legevakt):
        await relate(client, clinician, patient.id)
    await upload(client, hospital, patient.id, title="Epikrise, hjertesvikt")
    restricted = await upload(client, hospital, patient.id, title="Notat hun har skjermet")
    hidden = await client.put(
        f"/citizen/v1/me/documents/{restricted['id']}/restriction", headers=patient.citizen.headers
    )
    assert hidden.status_code == 204, hidden.text
    for number in range(5):
        await upload(client, patient.gp, patient.id, title=f"Notat {number}", date=f"2026-01-0{number + 1}")

    overview = (await client.get(f"/clinician/v1/patients/{patient.id}/overview", headers=legevakt.headers)).json()
    assert [item["id"] for item in overview["prescriptions"]] == [prescription["id"]]
    assert overview["prescriptions"][0]["status"] == "active"
    titles = [document["title"] for document in overview["documents"]]
    assert len(titles) == 5
    assert titles[0] == "Epikrise, hjertesvikt"  # the newest by date first; the restricted one is not there
    assert "Notat hun har skjermet" not in titles


async def test_emergency_access_reads_the_overview_with_what_her_consent_and_restrictions_hide_and_one_row(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    """The decision in the overview's statement tells its sections the basis: emergency access shows pregnancy
    without her consent and the document she restricted, as before, and is still the one audit row."""
    woman = await new_citizen(client, app)
    gp = new_clinician(app, org_kind="fastlege")
    await relate(client, gp, woman.patient_id)
    assert (await client.put("/citizen/v1/me/consents/pregnancy-card", headers=woman.headers)).status_code == 204
    card = await client.post(
        f"/clinician/v1/patients/{woman.patient_id}/pregnancies",
        json={"lastMenstrualPeriod": lmp_for_week(20, 3).isoformat()},
        headers=gp.headers,
    )
    assert card.status_code == 201, card.text
    restricted = await upload(client, gp, woman.patient_id, title="Notat hun har skjermet")
    hidden = await client.put(f"/citizen/v1/me/documents/{restricted['id']}/restriction", headers=woman.headers)
    assert hidden.status_code == 204, hidden.text
    assert (await client.delete("/citizen/v1/me/consents/pregnancy-card", headers=woman.headers)).status_code == 204
    legevakt = new_clinician(app, org_kind="legevakt")
    path = f"/clinician/v1/patients/{woman.patient_id}/overview"
    assert (await client.get(path, headers=legevakt.headers)).status_code == 404
    opened = await client.post(
        f"/clinician/v1/patients/{woman.patient_id}/emergency-access",
        json={"reason": "Bevisstløs pasient på legevakt"},
        headers=legevakt.headers,
    )
    assert opened.status_code == 201, opened.text

    response = await client.get(path, headers=legevakt.headers)
    assert response.status_code == 200, response.text
    overview = response.json()
    assert overview["pregnancy"] == {"status": "ongoing", "gestationalAge": {"weeks": 20, "days": 3}}
    assert [document["title"] for document in overview["documents"]] == ["Notat hun har skjermet"]
    rows = await db.fetch(
        "SELECT basis, refusal FROM audit_log WHERE patient_id = $1 AND hpr = $2 AND resource_type = 'overview'"
        " ORDER BY id",
        woman.patient_id,
        legevakt.hpr,
    )
    assert [tuple(row) for row in rows] == [("denied", "no-relation"), ("emergency", None)]


async def test_a_laboratory_is_refused_the_overview_by_role_with_one_denied_row(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    patient = await new_citizen(client, app)
    lab = new_clinician(app, org_kind="laboratorium", authorization="SP")
    response = await client.get(f"/clinician/v1/patients/{patient.patient_id}/overview", headers=lab.headers)
    assert response.status_code == 403, response.text
    rows = await db.fetch("SELECT basis, refusal FROM audit_log WHERE patient_id = $1", patient.patient_id)
    assert [tuple(row) for row in rows] == [("denied", "role")]
