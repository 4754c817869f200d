"""Samstemming: who reconciled the list, when, against which sources; the citizen sees when it was last done."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from litestar import Litestar

from backend.core.clock import frozen_at
from tests.medications.factories import entry, list_url, patient_with_gp, read, related_clinician, write


async def test_a_reconciliation_is_recorded_with_who_when_and_sources(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    patient = await patient_with_gp(client, app)
    await write(client, patient.gp, patient.id, [entry()], 0)
    response = await client.post(
        list_url(patient.id, "/reconciliations"),
        json={"sources": ["patient", "prescription-intermediary"], "note": "  Gjennomgått med pasienten "},
        headers=patient.gp.headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["version"] == 1
    assert body["sources"] == ["patient", "prescription-intermediary"]
    assert body["note"] == "Gjennomgått med pasienten"
    assert body["by"] == {
        "hpr": patient.gp.hpr,
        "name": "Fastlege Test",
        "authorization": "LE",
        "organisation": patient.gp.org,
        "orgKind": "fastlege",
    }
    # Reconciling does not change the list.
    assert (await read(client, patient.gp, patient.id)).json()["lastReconciled"] == body
    events = await db.fetch(
        "SELECT type, resource_id FROM event WHERE patient_id = $1 AND type = 'medications.reconciled'", patient.id
    )
    assert [(row["type"], row["resource_id"]) for row in events] == [("medications.reconciled", body["id"])]

    citizen = await client.get("/citizen/v1/me/medications", headers=patient.citizen.headers)
    assert citizen.json()["lastReconciled"]["reconciledAt"] == body["reconciledAt"]
    assert citizen.json()["version"] == 1


async def test_the_latest_reconciliation_is_the_one_shown(client: httpx.AsyncClient, app: Litestar) -> None:
    from datetime import UTC, datetime

    patient = await patient_with_gp(client, app)
    hospital = await related_clinician(client, app, patient, org_kind="sykehus", authorization="LE")
    url = list_url(patient.id, "/reconciliations")
    with frozen_at(datetime(2026, 5, 1, 10, tzinfo=UTC)):
        first = await client.post(url, json={"sources": ["gp-record"]}, headers=patient.gp.headers)
    with frozen_at(datetime(2026, 6, 1, 10, tzinfo=UTC)):
        second = await client.post(url, json={"sources": ["discharge-summary"]}, headers=hospital.headers)
    assert first.status_code == second.status_code == 201
    shown = (await read(client, patient.gp, patient.id)).json()["lastReconciled"]
    assert shown["id"] == second.json()["id"]
    assert shown["reconciledAt"] == "2026-06-01T10:00:00Z"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sources": []}, "sources"),
        ({"sources": ["patient", "patient"]}, "sources"),
        ({"sources": ["the internet"]}, "sources"),
        ({}, "sources"),
        ({"sources": ["patient"], "when": "now"}, "when"),
    ],
)
async def test_a_bad_reconciliation_is_400_naming_the_field(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, body: dict[str, object], field: str
) -> None:
    patient = await patient_with_gp(client, app)
    response = await client.post(list_url(patient.id, "/reconciliations"), json=body, headers=patient.gp.headers)
    assert response.status_code == 400, response.text
    assert field in response.json()["detail"]
    assert await db.fetchval("SELECT count(*) FROM medication_reconciliation WHERE patient_id = $1", patient.id) == 0


async def test_a_reconciliation_naming_an_old_version_is_412(client: httpx.AsyncClient, app: Litestar) -> None:
    patient = await patient_with_gp(client, app)
    await write(client, patient.gp, patient.id, [entry()], 0)
    response = await client.post(
        list_url(patient.id, "/reconciliations"),
        json={"sources": ["patient"]},
        headers={**patient.gp.headers, "If-Match": '"0"'},
    )
    assert response.status_code == 412
    assert response.json()["currentVersion"] == 1


async def test_a_nurse_may_not_reconcile(client: httpx.AsyncClient, app: Litestar) -> None:
    patient = await patient_with_gp(client, app)
    nurse = await related_clinician(client, app, patient, org_kind="hjemmetjeneste", authorization="SP")
    response = await client.post(
        list_url(patient.id, "/reconciliations"), json={"sources": ["patient"]}, headers=nurse.headers
    )
    assert response.status_code == 403
