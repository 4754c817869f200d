"""The clinician's list and single report, pinned byte for byte as JSON (issue 21 rebuilt how they are read).

One patient with reports of every kind a clinician sees: corrections (versions), released, scheduled, held and
preliminary reports, a pathology report only the requester shows, lab-sent, derived and censored flags, coded
and text values, a panel, earlier results of one test from more reports than are shown (with two reports of the
same specimen time), and a second page by cursor. The clock is frozen, so every time in the answer is known;
report ids, the requester's HPR number and organisation are replaced by names before comparing.

The expected answers are in clinician_list.json; regenerate it only for an intended change of the answer
(`HELSEKORT_PIN_WRITE=1`), and review the diff.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from litestar import Litestar

from backend.core.clock import frozen_at
from tests.factories import Clinician, new_citizen, new_clinician, relate
from tests.labs.reports import ferritin, hb, lab_report, posted, release

PINNED = Path(__file__).with_name("clinician_list.json")
ARRIVED = datetime(2026, 6, 20, 8, 30, tzinfo=UTC)
READ_AT = ARRIVED + timedelta(days=2, hours=3)
MONTH = timedelta(days=30)
START = datetime(2025, 12, 1, 7, 15, 30, 250000, tzinfo=UTC)

CRP = {"code": "1988-5", "system": "loinc", "display": "CRP", "valueQuantity": 5, "valueComparator": "<",
       "unit": "mg/L", "referenceRange": {"high": 5}, "flag": "normal"}  # fmt: skip
HBSAG = {"code": "5196-1", "system": "loinc", "display": "HBsAg", "valueCode": "LA6577-6", "valueDisplay": "Negativ"}
SMEAR = {"code": "U-SMEAR", "system": "local", "display": "Blodutstryk", "valueString": "Normalt blodutstryk.",
         "comment": "Vurdert av lege."}  # fmt: skip
LEUKOCYTES = {"code": "6690-2", "system": "loinc", "display": "Leukocytter", "valueQuantity": 6.1, "unit": "10*9/L"}
BLOOD_COUNT = {"code": "58410-2", "system": "loinc", "display": "Blodstatus", "observationCodes": ["718-7", "6690-2"]}


def _report_id(n: int) -> uuid.UUID:
    """Ids ordered by `n`: two reports of one specimen time are listed by id, so the order is known."""
    return uuid.UUID(f"{n:08x}" + uuid.uuid4().hex[8:])


async def _post(
    client: httpx.AsyncClient, gp: Clinician, patient_id: uuid.UUID, at: datetime, body: dict[str, Any]
) -> str:
    with frozen_at(at):
        return await posted(client, gp, patient_id, body)


async def _world(client: httpx.AsyncClient, app: Litestar) -> tuple[uuid.UUID, Clinician, dict[str, str]]:
    """The patient, her GP (the requester of every report) and the names that replace the ids."""
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    patient = citizen.patient_id
    names: dict[str, str] = {}

    async def post(n: int, months: float, *observations: dict[str, Any], **fields: Any) -> str:
        report_id = _report_id(n)
        names[str(report_id)] = f"report-{n}"
        specimen = START + months * MONTH
        body = lab_report(*observations, report_id=report_id, specimen_at=specimen, **fields)
        return await _post(client, gp, patient, ARRIVED, body)

    await post(0, 0, hb(12.4))  # the sixth earlier Hb: beyond the five shown
    await post(1, 1, hb(12.0), ferritin(9))  # derived flags: normal, low
    second = await post(2, 2, hb(11.2), CRP)  # censored value with the lab's flag; corrected below
    corrected = lab_report(
        hb(11.5), CRP, report_id=uuid.UUID(second), specimen_at=START + 2 * MONTH, status="corrected"
    )
    assert (await _post(client, gp, patient, ARRIVED + timedelta(hours=2), corrected)) == second
    await post(3, 3, hb(16.0), HBSAG, status="preliminary")  # high; coded value; awaiting its final version
    held = await post(4, 3, hb(13.0, flag="abnormal"))  # same specimen time as report-3; the lab's own flag
    with frozen_at(ARRIVED + timedelta(hours=1)):
        response = await client.post(f"/clinician/v1/patients/{patient}/lab-reports/{held}/hold", headers=gp.headers)
        assert response.status_code == 200, response.text
    await post(5, 4, SMEAR, category="pathology")  # text value; shown only by the requester
    shown = await post(6, 5, hb(12.5))
    with frozen_at(ARRIVED + timedelta(hours=3)):
        await release(client, gp, patient, shown)
    await post(7, 6, hb(12.1), LEUKOCYTES, ferritin(30), category="haematology", panels=[BLOOD_COUNT])
    names[gp.hpr] = "gp-hpr"
    names[gp.org] = "gp-org"
    return patient, gp, names


def _named(answer: Any, names: dict[str, str]) -> Any:
    """The answer with ids and the requester replaced by names, cursors decoded (they carry a report id)."""
    if isinstance(answer, dict):
        return {key: _named(value, names) for key, value in answer.items()}
    if isinstance(answer, list):
        return [_named(value, names) for value in answer]
    if isinstance(answer, str):
        return names.get(answer, answer)
    return answer


def _cursor(cursor: str | None, names: dict[str, str]) -> Any:
    if cursor is None:
        return None
    return _named(json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))), names)


async def _answers(client: httpx.AsyncClient, patient: uuid.UUID, gp: Clinician, names: dict[str, str]) -> Any:
    base = f"/clinician/v1/patients/{patient}/lab-reports"
    with frozen_at(READ_AT):
        first = await client.get(f"{base}?limit=4", headers=gp.headers)
        assert first.status_code == 200, first.text
        cursor = first.json()["next"]
        second = await client.get(base, params={"limit": 4, "cursor": cursor}, headers=gp.headers)
        assert second.status_code == 200, second.text
        single = {
            names[report_id]: (await client.get(f"{base}/{report_id}", headers=gp.headers))
            for report_id in names
            if names[report_id].startswith("report-")
        }
    assert all(response.status_code == 200 for response in single.values())
    return {
        "page1": {**_named(first.json(), names), "next": _cursor(cursor, names)},
        "page2": {**_named(second.json(), names), "next": _cursor(second.json()["next"], names)},
        "single": {name: _named(response.json(), names) for name, response in sorted(single.items())},
    }


async def test_the_clinicians_list_and_single_report_are_the_pinned_json(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    patient, gp, names = await _world(client, app)
    answers = await _answers(client, patient, gp, names)
    if os.environ.get("HELSEKORT_PIN_WRITE"):
        PINNED.write_text(json.dumps(answers, indent=1, ensure_ascii=False) + "\n")
    # Compared as text: 13.0 and 13 are equal numbers in Python but not the same JSON.
    assert json.dumps(answers, indent=1, sort_keys=True) == json.dumps(
        json.loads(PINNED.read_text()), indent=1, sort_keys=True
    )
    # Every report is on one of the two pages, newest specimen first, report-3 and report-4 by id.
    listed = [item["id"] for page in ("page1", "page2") for item in answers[page]["items"]]
    assert listed == [f"report-{n}" for n in (7, 6, 5, 4, 3, 2, 1, 0)]
    assert [item["id"] for item in answers["page1"]["items"]] == ["report-7", "report-6", "report-5", "report-4"]
    assert answers["page2"]["next"] is None


async def test_earlier_results_are_the_five_newest_shown_versions_of_other_reports(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    patient, gp, names = await _world(client, app)
    answers = await _answers(client, patient, gp, names)
    [hb_of_7] = [obs for obs in answers["page1"]["items"][0]["observations"] if obs["code"] == "718-7"]
    # Same specimen time: the later stored result first. report-2 shows its corrected value; report-0 is sixth.
    assert [(p["reportId"], p["value"]) for p in hb_of_7["previous"]] == [
        ("report-6", 12.5),
        ("report-4", 13.0),
        ("report-3", 16.0),
        ("report-2", 11.5),
        ("report-1", 12.0),
    ]
    [ferritin_of_7] = [obs for obs in answers["page1"]["items"][0]["observations"] if obs["code"] == "2276-4"]
    assert [(p["reportId"], p["flag"]) for p in ferritin_of_7["previous"]] == [("report-1", "low")]
    states = {item["id"]: item["release"]["state"] for page in ("page1", "page2") for item in answers[page]["items"]}
    assert states == {
        "report-7": "scheduled",
        "report-6": "released",
        "report-5": "awaiting-release",
        "report-4": "held",
        "report-3": "awaiting-final",
        "report-2": "scheduled",
        "report-1": "scheduled",
        "report-0": "scheduled",
    }


async def test_a_clinician_without_a_relation_is_refused_on_record_and_sees_nothing(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    await posted(client, gp, citizen.patient_id, lab_report())
    stranger = new_clinician(app)
    response = await client.get(f"/clinician/v1/patients/{citizen.patient_id}/lab-reports", headers=stranger.headers)
    assert response.status_code == 404, response.text  # no relation: the patient is not hers to know of
    assert "items" not in response.json()
    rows = await db.fetch(
        "SELECT action, basis, refusal FROM audit_log WHERE hpr = $1 AND resource_type = 'lab-report'", stranger.hpr
    )
    assert [tuple(row) for row in rows] == [("read", "denied", "no-relation")]
    # The listing itself is audited for whom it shows.
    allowed = await client.get(f"/clinician/v1/patients/{citizen.patient_id}/lab-reports", headers=gp.headers)
    assert allowed.status_code == 200
    rows = await db.fetch(
        "SELECT action, basis FROM audit_log WHERE hpr = $1 AND resource_type = 'lab-report' AND action = 'read'",
        gp.hpr,
    )
    assert [(row["action"], row["basis"]) for row in rows] == [("read", "care-relation")]
