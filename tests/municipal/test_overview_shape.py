"""The legevakt overview's whole answer, pinned field by field: every section as the clinician sees it.

The overview is read in one composed statement (with its access decision and audit row); this pins the document it answers (sections, order, field names,
nulls) so a change in how it is read cannot change what it says.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar

from backend.core.clock import frozen_at
from tests.documents.helpers import upload
from tests.factories import decisions, new_clinician, relate, split_audit
from tests.labs.reports import ferritin, hb, lab_report, posted
from tests.medications.factories import entry, patient_with_prescription, write
from tests.municipal.factories import BODO, OSLO, put_service, service_body
from tests.pregnancy.cards import lmp_for_week

EXPECTED_ORDER = (
    "patient",
    "municipalServices",
    "otherMunicipalitiesCount",
    "medications",
    "prescriptions",
    "vitals",
    "labResults",
    "documents",
    "alerts",
    "generatedAt",
    "pregnancy",
)
NOW = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)
VITALS = {
    "respirationRate": 24,
    "spo2": 91,
    "onOxygen": False,
    "systolic": 98,
    "diastolic": 60,
    "pulse": 118,
    "consciousness": "A",
    "temperature": 39.1,
}


async def test_the_overview_answers_every_section_exactly(client: httpx.AsyncClient, app: Litestar) -> None:
    with frozen_at(NOW - timedelta(hours=3)):
        patient, _, prescription = await patient_with_prescription(client, app)
    legevakt = new_clinician(app, org_kind="legevakt", municipality=OSLO)
    home_care = new_clinician(app, org_kind="hjemmetjeneste", authorization="SP", municipality=OSLO)
    bodo_care = new_clinician(app, org_kind="hjemmetjeneste", authorization="SP", municipality=BODO)
    hospital = new_clinician(app, org_kind="sykehus")
    for clinician in (legevakt, home_care, bodo_care, hospital):
        await relate(client, clinician, patient.id)
    consent = await client.put("/citizen/v1/me/consents/pregnancy-card", headers=patient.citizen.headers)
    assert consent.status_code == 204

    with frozen_at(NOW - timedelta(hours=2)):
        listed = await client.get(f"/clinician/v1/patients/{patient.id}/medications", headers=patient.gp.headers)
        version = int(listed.headers["ETag"].strip('"'))
        kept = listed.json()["entries"]
        albyl = entry("Albyl-E", "B01AC06", strength="75 mg", dosage="1 daglig", reason="hjerteinfarkt")
        stopped = entry("Paracet", "N02BE01", kind="non-prescription", stoppedAt="2026-11-20", stopReason="ferdig")
        planned_stop = entry("Zyrtec", "R06AE07", stoppedAt="2026-12-24", stopReason="pollensesongen er over")
        await write(client, patient.gp, patient.id, [*kept, albyl, stopped, planned_stop], version)
        nursing = await put_service(client, home_care, patient.id, service_body(practicalInfo="Nøkkelboks ved døren"))
        assert nursing.status_code == 201, nursing.text
        paused = await put_service(
            client, home_care, patient.id, service_body("meals-on-wheels", status="paused", from_="2026-05-01")
        )
        assert paused.status_code == 201, paused.text
        ended = await put_service(client, home_care, patient.id, service_body("day-centre", status="ended"))
        assert ended.status_code == 201
        assert (await put_service(client, bodo_care, patient.id, service_body("safety-alarm"))).status_code == 201
        news2 = await client.post(
            f"/clinician/v1/patients/{patient.id}/news2",
            json={**VITALS, "effectiveAt": (NOW - timedelta(hours=2)).isoformat()},
            headers=home_care.headers,
        )
        assert news2.status_code == 201, news2.text
        card = await client.post(
            f"/clinician/v1/patients/{patient.id}/pregnancies",
            json={"lastMenstrualPeriod": lmp_for_week(20, 3).isoformat()},
            headers=patient.gp.headers,
        )
        assert card.status_code == 201, card.text
        report = await posted(
            client,
            patient.gp,
            patient.id,
            lab_report(hb(9.1), ferritin(50), issued_at=NOW - timedelta(hours=2, minutes=30), requester=patient.gp),
        )
        epicrisis = await upload(client, hospital, patient.id, title="Epikrise", date="2026-11-29")
        note = await upload(client, patient.gp, patient.id, title="Notat", date="2026-11-28")

    with frozen_at(NOW):
        response = await client.get(f"/clinician/v1/patients/{patient.id}/overview", headers=legevakt.headers)
    assert response.status_code == 200, response.text
    overview = response.json()
    assert isinstance(overview["patient"]["age"], int)
    assert overview["patient"]["sex"] in {"female", "male"}
    [alert] = overview["alerts"]
    assert alert["createdAt"].startswith("20")  # written by the database's clock, not the frozen one
    evening = "2026-11-30T23:30:00Z"
    provider = {"name": "Hjemmesykepleien Frogner", "phone": "+47 23 40 50 60", "hours": "24/7", "unit": "Natt"}
    service = {
        "until": None,
        "frequency": "3 ganger daglig",
        "provider": provider,
        "coordinator": None,
        "from": "2026-06-01",
        "municipality": OSLO,
        "version": 1,
        "updatedAt": evening,
        "stale": False,
    }
    tablet = {"form": "tablett", "kind": "prescription", "startedAt": "2026-01-05", "reason": None}
    levaxin = {"atc": "H03AA01", "strength": "50 mikrog", "dosage": "1 tablett daglig", **tablet}
    reading = {"value": None, "unit": None, "systolic": None, "diastolic": None, "at": evening}
    assert overview == {
        "patient": overview["patient"],
        "municipalServices": [
            {
                **service,
                "id": nursing.json()["id"],
                "service": "home-nursing",
                "serviceLabel": "Hjemmesykepleie",
                "status": "active",
                "practicalInfo": "Nøkkelboks ved døren",
            },
            {
                **service,
                "id": paused.json()["id"],
                "service": "meals-on-wheels",
                "serviceLabel": "Middagslevering",
                "status": "paused",
                "from": "2026-05-01",
                "practicalInfo": None,
            },
        ],
        "otherMunicipalitiesCount": 1,
        "medications": [  # in use today (a planned stop still counts), by name
            {**tablet, "id": albyl["id"], "name": "Albyl-E", "atc": "B01AC06", "strength": "75 mg"}
            | {"dosage": "1 daglig", "reason": "hjerteinfarkt"},
            {**levaxin, "id": kept[0]["id"], "name": "Levaxin"},
            {**levaxin, "id": planned_stop["id"], "name": "Zyrtec", "atc": "R06AE07"},
        ],
        "prescriptions": [
            {
                "id": prescription["id"],
                "name": "Levaxin",
                "atc": "H03AA01",
                "dosageText": "1 tablett morgen",
                "dispensingsLeft": 3,
                "validUntil": prescription["validUntil"],
                "status": "active",
            }
        ],
        "vitals": {
            "news2": {"total": 11, "risk": "high", "at": evening, "validForPatient": True},
            "bloodPressure": reading | {"systolic": 98.0, "diastolic": 60.0},
            "pulse": reading | {"value": 118.0, "unit": "/min"},
            "spo2": reading | {"value": 91.0, "unit": "%"},
            "temperature": reading | {"value": 39.1, "unit": "Cel"},
        },
        "labResults": [
            {
                "reportId": report,
                "code": "718-7",
                "display": "Hemoglobin",
                "value": 9.1,
                "unit": "g/dL",
                "flag": "low",
                "issuedAt": "2026-11-30T23:00:00Z",
            }
        ],
        "documents": [
            {
                "id": epicrisis["id"],
                "type": "epicrisis",
                "title": "Epikrise",
                "date": "2026-11-29",
                "organisation": hospital.org,
                "contentType": "application/pdf",
            },
            {
                "id": note["id"],
                "type": "epicrisis",
                "title": "Notat",
                "date": "2026-11-28",
                "organisation": patient.gp.org,
                "contentType": "application/pdf",
            },
        ],
        "alerts": [
            {
                "id": alert["id"],
                "patientId": str(patient.id),
                "kind": "news2",
                "severity": "urgent",
                "message": "NEWS2 11 (high risk, a single parameter scored 3): emergency assessment within 30 minutes, "
                "consider HDU/ICU",
                "resourceType": "news2-score",
                "resourceId": news2.json()["id"],
                "createdAt": alert["createdAt"],
                "status": "open",
                "acknowledgedBy": None,
                "acknowledgedAt": None,
                "note": None,
            }
        ],
        "generatedAt": "2026-12-01T01:30:00Z",
        "pregnancy": {"status": "ongoing", "gestationalAge": {"weeks": 20, "days": 3}},
    }
    assert list(overview) == list(EXPECTED_ORDER)


async def test_the_overview_is_one_statement_the_decision_and_every_section_then_its_audit_row(
    client: httpx.AsyncClient, app: Litestar, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One round trip decides and reads every section, then the audit row's group commit: a section reading on its
    own shows up here."""
    patient, _, _ = await patient_with_prescription(client, app)
    legevakt = new_clinician(app, org_kind="legevakt", municipality=OSLO)
    await relate(client, legevakt, patient.id)
    assert (
        await client.put("/citizen/v1/me/consents/pregnancy-card", headers=patient.citizen.headers)
    ).status_code == 204
    statements: list[str] = []
    execute = asyncpg.connection.Connection._execute
    query = asyncpg.connection.Connection.execute

    async def counted_execute(self: asyncpg.Connection, sql: str, *args: Any, **kwargs: Any) -> Any:
        statements.append(sql)
        return await execute(self, sql, *args, **kwargs)

    async def counted_query(self: asyncpg.Connection, sql: str, *args: Any, **kwargs: Any) -> Any:
        if not args:  # with arguments it goes through _execute, counted there
            statements.append(sql)
        return await query(self, sql, *args, **kwargs)

    monkeypatch.setattr(asyncpg.connection.Connection, "_execute", counted_execute)
    monkeypatch.setattr(asyncpg.connection.Connection, "execute", counted_query)
    response = await client.get(f"/clinician/v1/patients/{patient.id}/overview", headers=legevakt.headers)
    monkeypatch.undo()
    assert response.status_code == 200, response.text
    own, audited = split_audit([" ".join(statement.split()) for statement in statements])
    assert (len(own), audited) == (1, 1), statements
    assert decisions(own)
    assert "pregnancy_card" in own[0]
    assert "municipal_service" in own[0]


async def test_a_refused_overview_reads_no_section(client: httpx.AsyncClient, app: Litestar, db: Any) -> None:
    """The sections run in the decision's statement behind its one-time filter: a refusal scans none of her tables."""
    import json

    from backend.core.access import _decide_and_read, _decision_values
    from backend.core.auth import ClinicianPrincipal
    from backend.municipal.overview import OVERVIEW, overview_read

    patient, _, _ = await patient_with_prescription(client, app)
    stranger = ClinicianPrincipal(
        hpr="9100009", pid="", authorization="LE", org_number="974600009", org_kind="legevakt", name=None, caller_id="t"
    )
    read = overview_read(stranger, app.state.settings)
    statement = _decide_and_read(None, read.sql)
    values = (*_decision_values(stranger, patient.id, OVERVIEW), *read.args)
    plan = json.loads(await db.fetchval("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, *values))

    def scans(node: dict[str, Any]) -> list[tuple[str, int]]:
        found = [(node["Relation Name"], node["Actual Loops"])] if "Relation Name" in node else []
        return found + [scan for child in node.get("Plans", []) for scan in scans(child)]

    read_tables = {"medication_list", "prescription", "measurement", "municipal_service", "document", "alert"}
    found = scans(plan[0]["Plan"])
    assert read_tables <= {table for table, _ in found}, found  # every section is in the statement…
    assert [(table, loops) for table, loops in found if table in read_tables and loops] == []  # …and never ran
