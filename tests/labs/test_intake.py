"""Posting lab reports: who may post, what is stored, duplicates and corrections, and bad input stored nowhere."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
from litestar import Litestar

from tests.factories import new_citizen, new_clinician, relate
from tests.labs.reports import ferritin, hb, lab_report, post_report, posted


async def _counts(db: asyncpg.Connection, patient_id: uuid.UUID) -> dict[str, int]:
    row = await db.fetchrow(
        """
        SELECT (SELECT count(*) FROM lab_report WHERE patient_id = $1) AS reports,
               (SELECT count(*) FROM lab_report_version WHERE patient_id = $1) AS versions,
               (SELECT count(*) FROM lab_observation WHERE patient_id = $1) AS observations,
               (SELECT count(*) FROM event WHERE patient_id = $1 AND type LIKE 'lab-result.%') AS events
        """,
        patient_id,
    )
    assert row is not None
    return dict(row)


async def test_related_clinician_posts_a_report_and_is_its_requester(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)

    response = await post_report(client, gp, citizen.patient_id, lab_report(hb(11.2), ferritin(9)))

    assert response.status_code == 201, response.text
    receipt = response.json()
    assert receipt["version"] == 1
    assert receipt["report"]["requester"] == {"hpr": gp.hpr, "organisation": gp.org}
    assert [obs["code"] for obs in receipt["report"]["observations"]] == ["718-7", "2276-4"]
    # Flags come from the bounds when the lab sent none.
    assert [obs["flag"] for obs in receipt["report"]["observations"]] == ["low", "low"]
    assert receipt["release"]["state"] == "scheduled"
    assert receipt["release"]["visibleToCitizen"] is False
    types = await db.fetch("SELECT type FROM event WHERE patient_id = $1 ORDER BY seq", citizen.patient_id)
    assert [row["type"] for row in types if row["type"].startswith("lab-result")] == ["lab-result.new"]


async def test_clinician_sees_the_report_at_once_with_earlier_results_beside_it(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    hospital = new_clinician(app, org_kind="sykehus")
    await relate(client, gp, citizen.patient_id)
    await relate(client, hospital, citizen.patient_id)
    from datetime import UTC, datetime, timedelta

    start = datetime.now(UTC) - timedelta(days=60)
    for days, value in ((0, 12.9), (20, 12.1), (40, 11.4)):
        await posted(client, gp, citizen.patient_id, lab_report(hb(value), specimen_at=start + timedelta(days=days)))

    # Another organisation with a care relation sees everything at once, newest first.
    response = await client.get(f"/clinician/v1/patients/{citizen.patient_id}/lab-reports", headers=hospital.headers)

    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [item["observations"][0]["value"] for item in items] == [11.4, 12.1, 12.9]
    newest = items[0]["observations"][0]
    assert [previous["value"] for previous in newest["previous"]] == [12.1, 12.9]
    assert all(previous["unit"] == "g/dL" for previous in newest["previous"])
    assert items[-1]["observations"][0]["previous"] == []


async def test_laboratory_posts_for_any_patient_naming_the_requester_but_reads_nothing(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    lab = new_clinician(app, org_kind="laboratorium", authorization="SP")

    report_id = await posted(client, lab, citizen.patient_id, lab_report(requester=gp))

    base = f"/clinician/v1/patients/{citizen.patient_id}/lab-reports"
    assert (await client.get(base, headers=lab.headers)).status_code == 403  # by role: a laboratory reads nothing
    assert (
        await client.get(f"{base}/{report_id}", headers=lab.headers)
    ).status_code == 403  # by role: a laboratory reads nothing
    assert (
        await client.post(f"{base}/{report_id}/release", headers=lab.headers)
    ).status_code == 403  # by role: a laboratory reads nothing
    # The requester the lab named sees it and may release it.
    shown = await client.get(f"{base}/{report_id}", headers=gp.headers)
    assert shown.status_code == 200
    assert shown.json()["requester"] == {"hpr": gp.hpr, "organisation": gp.org}
    assert (await client.post(f"{base}/{report_id}/release", headers=gp.headers)).status_code == 200


async def test_laboratory_must_name_the_requester(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    lab = new_clinician(app, org_kind="laboratorium", authorization="SP")

    response = await post_report(client, lab, citizen.patient_id, lab_report())

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "requester"
    assert (await _counts(db, citizen.patient_id))["reports"] == 0


async def test_laboratory_posting_for_a_patient_that_does_not_exist_gets_404(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    lab = new_clinician(app, org_kind="laboratorium", authorization="SP")
    gp = new_clinician(app)
    response = await post_report(client, lab, uuid.uuid4(), lab_report(requester=gp))
    assert response.status_code == 404


async def test_clinician_without_a_relation_gets_404_and_nothing_is_stored(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    stranger = new_clinician(app)

    response = await post_report(client, stranger, citizen.patient_id, lab_report())

    assert response.status_code == 404
    assert await _counts(db, citizen.patient_id) == {"reports": 0, "versions": 0, "observations": 0, "events": 0}


async def test_clinician_cannot_name_someone_else_as_requester(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    response = await post_report(client, gp, citizen.patient_id, lab_report(requester=new_clinician(app)))
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "requester"


async def test_resending_the_same_report_gives_the_same_answer_and_changes_nothing(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    body = lab_report()

    first = await post_report(client, gp, citizen.patient_id, body)
    before = await _counts(db, citizen.patient_id)
    again = await post_report(client, gp, citizen.patient_id, body)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert await _counts(db, citizen.patient_id) == before


async def test_other_content_under_a_final_report_id_is_a_conflict(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    body = lab_report(hb(11.2))
    await posted(client, gp, citizen.patient_id, body)
    before = await _counts(db, citizen.patient_id)

    response = await post_report(client, gp, citizen.patient_id, {**body, "observations": [hb(12.5)]})

    assert response.status_code == 409
    assert "corrected" in response.json()["detail"]
    assert await _counts(db, citizen.patient_id) == before


async def test_a_corrected_report_becomes_a_new_version_and_keeps_the_old_one(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    body = lab_report(hb(11.2))
    report_id = await posted(client, gp, citizen.patient_id, body)

    corrected = await post_report(
        client, gp, citizen.patient_id, {**body, "status": "corrected", "observations": [hb(12.2)]}
    )

    assert corrected.status_code == 201, corrected.text
    assert corrected.json()["version"] == 2
    assert corrected.json()["report"]["corrected"] is True
    assert corrected.json()["report"]["observations"][0]["value"] == 12.2
    base = f"/clinician/v1/patients/{citizen.patient_id}/lab-reports/{report_id}"
    shown = (await client.get(base, headers=gp.headers)).json()
    assert [version["status"] for version in shown["versions"]] == ["final", "corrected"]
    versions = (await client.get(f"{base}/versions", headers=gp.headers)).json()["items"]
    assert [item["report"]["observations"][0]["value"] for item in versions] == [11.2, 12.2]
    assert (
        await db.fetchval("SELECT count(*) FROM lab_observation WHERE patient_id = $1 AND current", citizen.patient_id)
        == 1
    )
    types = await db.fetch("SELECT type FROM event WHERE patient_id = $1 ORDER BY seq", citizen.patient_id)
    assert [row["type"] for row in types if row["type"].startswith("lab-result")] == [
        "lab-result.new",
        "lab-result.corrected",
    ]


async def test_a_final_report_replaces_its_preliminary_version(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    body = lab_report(hb(11.2), status="preliminary")
    await posted(client, gp, citizen.patient_id, body)

    final = await post_report(
        client, gp, citizen.patient_id, {**body, "status": "final", "observations": [hb(), ferritin()]}
    )

    assert final.status_code == 201, final.text
    assert final.json()["version"] == 2
    assert final.json()["report"]["corrected"] is False


async def test_a_correction_cannot_change_the_category(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    body = lab_report()
    await posted(client, gp, citizen.patient_id, body)
    response = await post_report(
        client, gp, citizen.patient_id, {**body, "status": "corrected", "category": "haematology"}
    )
    assert response.status_code == 409


async def test_a_report_id_of_another_patient_is_a_conflict(client: httpx.AsyncClient, app: Litestar) -> None:
    first, second = await new_citizen(client, app), await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, first.patient_id)
    await relate(client, gp, second.patient_id)
    body = lab_report()
    await posted(client, gp, first.patient_id, body)
    assert (await post_report(client, gp, second.patient_id, body)).status_code == 409


BAD_INPUT: list[tuple[str, Any, str]] = [
    ("unknown unit for the code", lab_report(hb(unit="mmol/L")), "observations[0].unit"),
    (
        "value type not matching the code",
        lab_report({**hb(), "valueQuantity": None, "unit": None, "referenceRange": None, "valueString": "lav"}),
        "observations[0].valueString",
    ),
    ("unknown field", {**lab_report(), "priority": "urgent"}, "priority"),
    ("unknown category", lab_report(category="radiology"), "category"),
    ("no observations", {**lab_report(), "observations": []}, "observations"),
    ("naive time", {**lab_report(), "issuedAt": "2024-03-01T12:00:00"}, "issuedAt"),
    (
        "issued before the specimen",
        {**lab_report(), "specimenAt": "2030-01-01T00:00:00+00:00", "issuedAt": "2024-01-01T00:00:00+00:00"},
        "issuedAt",
    ),
    ("issued in the future", {**lab_report(), "issuedAt": "2099-01-01T00:00:00+00:00"}, "issuedAt"),
    ("wrong LOINC check digit", lab_report({**hb(), "code": "718-8"}), "observations[0].code"),
]


async def test_bad_input_is_a_400_naming_the_field_and_nothing_is_stored(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    for name, body, field in BAD_INPUT:
        response = await post_report(client, gp, citizen.patient_id, body)
        assert response.status_code == 400, f"{name}: {response.status_code} {response.text}"
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["errors"][0]["field"] == field, f"{name}: {response.text}"
    assert await _counts(db, citizen.patient_id) == {"reports": 0, "versions": 0, "observations": 0, "events": 0}


async def test_malformed_json_and_unknown_content_types_are_400(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    url = f"/clinician/v1/patients/{citizen.patient_id}/lab-reports"

    broken = await client.post(url, content=b'{"id": ', headers={**gp.headers, "Content-Type": "application/json"})
    xml = await client.post(url, content=b"<report/>", headers={**gp.headers, "Content-Type": "application/xml"})

    assert broken.status_code == 400
    assert broken.json()["errors"][0]["field"] == "body"
    assert xml.status_code == 415
    assert xml.json()["status"] == 415


async def test_a_panel_keeps_its_observations_together(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    leukocytes = {"code": "6690-2", "system": "loinc", "display": "Leukocytter", "valueQuantity": 6.1, "unit": "10*9/L"}
    panel = {"code": "58410-2", "system": "loinc", "display": "Blodstatus", "observationCodes": ["718-7", "6690-2"]}
    body = lab_report(hb(), leukocytes, ferritin(), category="haematology", panels=[panel])

    report_id = await posted(client, gp, citizen.patient_id, body)

    shown = (
        await client.get(f"/clinician/v1/patients/{citizen.patient_id}/lab-reports/{report_id}", headers=gp.headers)
    ).json()
    assert [(obs["code"], obs["panel"]) for obs in shown["observations"]] == [
        ("718-7", "58410-2"),
        ("6690-2", "58410-2"),
        ("2276-4", None),
    ]
    assert shown["panels"] == [{**panel, "system": "loinc"}]


async def test_a_panel_naming_an_observation_not_in_the_report_is_a_400(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    panel = {"code": "58410-2", "system": "loinc", "display": "Blodstatus", "observationCodes": ["777-3"]}
    response = await post_report(client, gp, citizen.patient_id, lab_report(hb(), panels=[panel]))
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "panels[0].observationCodes[0]"


def test_the_release_job_is_registered_with_the_worker() -> None:
    from backend.jobs import WORKER_JOBS

    assert "lab-result-releases" in [name for name, _ in WORKER_JOBS]


async def test_simultaneous_posts_of_one_report_store_it_once(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    import asyncio

    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    body = lab_report()

    responses = await asyncio.gather(*(post_report(client, gp, citizen.patient_id, body) for _ in range(4)))

    assert [response.status_code for response in responses] == [201] * 4
    assert len({response.text for response in responses}) == 1
    counts = await _counts(db, citizen.patient_id)
    assert (counts["reports"], counts["versions"], counts["observations"]) == (1, 1, 2)
