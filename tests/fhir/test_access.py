"""A FHIR read is an access like any other: the clinician API's decision and audit rows, errors as OperationOutcome,
the pregnancy card only with her consent, and no identity number but her own."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import asyncpg
import httpx
from litestar import Litestar

from tests.factories import new_citizen, new_clinician, relate
from tests.fhir.world import FHIR_JSON, FNR, HPR, codes, every_page, fhir_get, of_type, record, resources
from tests.medications.factories import pharmacy


async def _audit(db: asyncpg.Connection, hpr: str) -> list[tuple[str, str, str, str | None]]:
    rows = await db.fetch("SELECT action, resource_type, basis, refusal FROM audit_log WHERE hpr = $1 ORDER BY id", hpr)
    return [(row["action"], row["resource_type"], row["basis"], row["refusal"]) for row in rows]


def _outcome(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(FHIR_JSON)
    outcome: dict[str, Any] = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    return outcome


async def test_each_domain_read_is_one_audit_row_and_out_of_scope_is_404(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    her = await record(client, app)
    reader = new_clinician(app, org_kind="legevakt")
    await relate(client, reader, her.woman.patient_id)
    params = {"patient": str(her.woman.patient_id)}
    await fhir_get(client, "/fhir/R4/Observation", reader.headers, params)
    assert await _audit(db, reader.hpr) == [
        ("attest", "care-relation", "care-relation", None),
        ("read", "measurement", "care-relation", None),
    ]
    await every_page(client, f"/fhir/R4/Patient/{her.woman.patient_id}/$everything", reader.headers, {"_count": 200})
    read = {row[1] for row in (await _audit(db, reader.hpr))[2:]}
    assert read == {
        "patient",
        "lab-report",
        "measurement",
        "news2",
        "pregnancy",
        "medication-list",
        "prescription",
        "document",
        "municipal-service",
    }

    stranger = new_clinician(app)
    outcome = _outcome(await client.get("/fhir/R4/Observation", params=params, headers=stranger.headers), 404)
    assert outcome["issue"][0]["code"] == "not-found"
    assert (await _audit(db, stranger.hpr))[0] == ("read", "measurement", "denied", "no-relation")
    # Her access log names the FHIR reads like any other.
    log = (await client.get("/citizen/v1/me/access-log", headers=her.woman.headers)).json()["items"]
    assert {item["hpr"] for item in log} >= {reader.hpr, stranger.hpr}


async def test_errors_are_operation_outcomes_naming_the_parameter(client: httpx.AsyncClient, app: Litestar) -> None:
    her = await record(client, app)
    patient = str(her.woman.patient_id)
    unauthenticated = await client.get("/fhir/R4/Observation", params={"patient": patient})
    assert _outcome(unauthenticated, 401)["issue"][0]["code"] == "login"
    assert unauthenticated.headers["www-authenticate"].startswith("Bearer")
    assert (
        _outcome(await client.get("/fhir/R4/Observation", params={"patient": patient}, headers=her.woman.headers), 403)[
            "issue"
        ][0]["code"]
        == "forbidden"
    )
    lab = new_clinician(app, org_kind="laboratorium", authorization="SP")
    _outcome(await client.get("/fhir/R4/Observation", params={"patient": patient}, headers=lab.headers), 403)
    for params, field in (
        ({}, "patient"),
        ({"patient": "not-a-uuid"}, "patient"),
        ({"patient": patient, "date": "yesterday"}, "date"),
        ({"patient": patient, "date": "2026-02-30"}, "date"),
        ({"patient": patient, "date": ["ge2026-03-01", "le2026-02-01"]}, "date"),
        ({"patient": patient, "_count": "0"}, "_count"),
        ({"patient": patient, "_count": "many"}, "_count"),
        ({"patient": patient, "_cursor": "garbage"}, "_cursor"),
        ({"patient": patient, "subject": patient}, "subject"),
    ):
        outcome = _outcome(await client.get("/fhir/R4/Observation", params=params, headers=her.gp.headers), 400)
        assert outcome["issue"][0]["code"] == "invalid"
        assert outcome["issue"][0].get("expression") == [field], (params, outcome)
    _outcome(await client.get("/fhir/R4/Encounter", params={"patient": patient}, headers=her.gp.headers), 404)
    _outcome(await client.get(f"/fhir/R4/Patient/{uuid.uuid4()}", headers=her.gp.headers), 404)


async def test_without_her_consent_no_fhir_answer_tells_she_is_pregnant(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    her = await record(client, app)
    withdrawn = await client.delete("/citizen/v1/me/consents/pregnancy-card", headers=her.woman.headers)
    assert withdrawn.status_code == 204
    never = await new_citizen(client, app)
    await relate(client, her.gp, never.patient_id)

    def without_ids(found: list[dict[str, Any]]) -> str:
        return json.dumps(found)

    found = await every_page(client, f"/fhir/R4/Patient/{her.woman.patient_id}/$everything", her.gp.headers, {})
    assert not of_type(found, "Condition")
    assert not {"82810-3", "11778-8"} & codes(found)
    assert her.card_id not in without_ids(found)
    for resource_type, params in (("Condition", {}), ("Observation", {"code": "82810-3,11778-8"})):
        for patient_id in (her.woman.patient_id, never.patient_id):
            bundle = await fhir_get(
                client, f"/fhir/R4/{resource_type}", her.gp.headers, {"patient": str(patient_id), **params}
            )
            assert resources(bundle) == []
            assert [link["relation"] for link in bundle["link"]] == ["self"]
    # The midwife who made the card loses it the same way; emergency access still sees it (logged as such).
    assert not of_type(
        await every_page(client, "/fhir/R4/Condition", her.midwife.headers, {"patient": str(her.woman.patient_id)}),
        "Condition",
    )
    doctor = new_clinician(app, org_kind="legevakt")
    opened = await client.post(
        f"/clinician/v1/patients/{her.woman.patient_id}/emergency-access",
        json={"reason": "bevisstløs ved ankomst legevakt"},
        headers=doctor.headers,
    )
    assert opened.status_code == 201, opened.text
    [condition] = await every_page(client, "/fhir/R4/Condition", doctor.headers, {"patient": str(her.woman.patient_id)})
    assert condition["id"] == her.card_id
    # An unrelated clinician is still refused when every read of the search needs the consent.
    stranger = new_clinician(app)
    _outcome(
        await client.get("/fhir/R4/Condition", params={"patient": str(her.woman.patient_id)}, headers=stranger.headers),
        404,
    )


async def test_no_identity_number_but_hers_and_practitioners_by_hpr_only(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    her = await record(client, app)
    found = await every_page(client, f"/fhir/R4/Patient/{her.woman.patient_id}/$everything", her.gp.headers, {})
    text = json.dumps(found)
    assert set(re.findall(r"(?<![\d-])\d{11}(?![\d-])", text)) == {her.woman.fnr}

    identifiers: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "identifier":
                    identifiers.extend(value if isinstance(value, list) else [value])
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(found)
    assert [i for i in identifiers if i.get("system") == FNR] == [
        {"use": "official", "system": FNR, "value": her.woman.fnr}
    ]
    practitioners = [i for i in identifiers if i.get("system") == HPR]
    assert {i["value"] for i in practitioners} == {her.gp.hpr}  # the requester of her lab reports

    mine = (await client.get("/citizen/v1/me/export", headers=her.woman.headers)).json()
    assert set(re.findall(r"(?<![\d-])\d{11}(?![\d-])", json.dumps(mine))) == {her.woman.fnr}


async def test_a_pharmacy_reads_active_prescriptions_and_nothing_else(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    her = await record(client, app)
    chemist = pharmacy(app)
    params = {"patient": str(her.woman.patient_id)}
    [request] = await every_page(client, "/fhir/R4/MedicationRequest", chemist.headers, params)
    assert request["id"] == her.prescription_id
    assert (await _audit(db, chemist.hpr)) == [("read", "prescription", "pharmacy", None)]
    for path in ("/fhir/R4/MedicationStatement", f"/fhir/R4/Patient/{her.woman.patient_id}/$everything"):
        _outcome(await client.get(path, params=params if "$" not in path else None, headers=chemist.headers), 403)
