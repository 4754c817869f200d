"""The citizen's discrepancy reports: they reach the GP (list and alert) and never change the list."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest
from litestar import Litestar

from tests.medications.factories import entry, list_url, patient_with_gp, read, related_clinician, write


def report_url(entry_id: str | uuid.UUID) -> str:
    return f"/citizen/v1/me/medications/{entry_id}/discrepancies"


async def test_a_report_reaches_the_gps_discrepancy_list_and_alerts_and_leaves_the_list_alone(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    patient = await patient_with_gp(client, app)
    hospital = await related_clinician(client, app, patient, org_kind="sykehus", authorization="LE")
    levaxin = entry()
    before = await write(client, patient.gp, patient.id, [levaxin, entry("Paracet", "N02BE01")], 0)

    response = await client.post(
        report_url(levaxin["id"]),
        json={"kind": "side-effect", "note": "Hjertebank etter doseøkning"},
        headers=patient.citizen.headers,
    )
    assert response.status_code == 201, response.text
    report = response.json()
    assert (report["entryId"], report["kind"], report["note"]) == (
        levaxin["id"],
        "side-effect",
        "Hjertebank etter doseøkning",
    )
    assert (report["entryName"], report["atc"], report["listVersion"]) == ("Levaxin", "H03AA01", 1)

    # The list is unchanged: same version, same entries.
    after = await read(client, patient.gp, patient.id)
    assert after.headers["etag"] == '"1"'
    assert after.json()["entries"] == before["entries"]

    # The GP's discrepancy list shows it.
    listed = await client.get(list_url(patient.id, "/discrepancies"), headers=patient.gp.headers)
    assert listed.status_code == 200
    assert listed.json() == {"items": [report], "next": None}

    # The GP's alerts show it; the hospital (no gp relation) gets no alert.
    alerts = (await client.get("/clinician/v1/alerts", headers=patient.gp.headers)).json()["items"]
    mine = [alert for alert in alerts if alert["patientId"] == str(patient.id)]
    assert [(alert["kind"], alert["severity"], alert["resourceId"]) for alert in mine] == [
        ("medication-discrepancy", "warning", report["id"])
    ]
    assert "Levaxin" in mine[0]["message"]
    hospital_alerts = (await client.get("/clinician/v1/alerts", headers=hospital.headers)).json()["items"]
    assert all(alert["patientId"] != str(patient.id) for alert in hospital_alerts)

    # An event for the change feed and the push outbox, without health data.
    events = await db.fetch(
        "SELECT type, resource_type, resource_id FROM event WHERE patient_id = $1 AND type IN "
        "('medications.discrepancy-reported', 'alert.raised') ORDER BY seq",
        patient.id,
    )
    assert [row["type"] for row in events] == ["alert.raised", "medications.discrepancy-reported"]
    assert events[1]["resource_id"] == report["id"]


async def test_reports_are_listed_newest_first_and_paged(client: httpx.AsyncClient, app: Litestar) -> None:
    patient = await patient_with_gp(client, app)
    levaxin = entry()
    await write(client, patient.gp, patient.id, [levaxin], 0)
    ids = []
    for kind in ("not-taking", "side-effect", "not-taking"):
        response = await client.post(report_url(levaxin["id"]), json={"kind": kind}, headers=patient.citizen.headers)
        assert response.status_code == 201
        ids.append(response.json()["id"])
    first = (await client.get(list_url(patient.id, "/discrepancies?limit=2"), headers=patient.gp.headers)).json()
    second = (
        await client.get(
            list_url(patient.id, "/discrepancies"),
            params={"limit": 2, "cursor": first["next"]},
            headers=patient.gp.headers,
        )
    ).json()
    assert [item["id"] for item in first["items"] + second["items"]] == ids[::-1]
    assert second["next"] is None


async def test_a_report_on_an_entry_not_on_my_list_is_404(client: httpx.AsyncClient, app: Litestar) -> None:
    patient = await patient_with_gp(client, app)
    other = await patient_with_gp(client, app)
    theirs = entry()
    await write(client, other.gp, other.id, [theirs], 0)
    for entry_id in (theirs["id"], uuid.uuid4()):
        response = await client.post(report_url(entry_id), json={"kind": "not-taking"}, headers=patient.citizen.headers)
        assert response.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [({"kind": "other"}, "note"), ({"kind": "other", "note": "  "}, "note"), ({"kind": "allergy"}, "kind"), ({}, "kind"),
     ({"kind": "not-taking", "note": "x" * 2001}, "note"), ({"kind": "not-taking", "dose": 2}, "dose")],
)  # fmt: skip
async def test_a_bad_report_is_400_naming_the_field_and_stores_nothing(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, body: dict[str, object], field: str
) -> None:
    patient = await patient_with_gp(client, app)
    levaxin = entry()
    await write(client, patient.gp, patient.id, [levaxin], 0)
    response = await client.post(report_url(levaxin["id"]), json=body, headers=patient.citizen.headers)
    assert response.status_code == 400, response.text
    assert field in response.json()["detail"]
    assert await db.fetchval("SELECT count(*) FROM medication_discrepancy WHERE patient_id = $1", patient.id) == 0
    assert await db.fetchval("SELECT count(*) FROM alert WHERE patient_id = $1", patient.id) == 0
