"""The legevakt overview is kept per reader and decision finding (core.access.authorize_kept_read): the first
read is the decision, its audit row and every section in one statement; a kept one is the decision and its row
alone; a write is seen by the next read; a vital sign leaves the overview when it leaves its 72-hour window,
without any write; a reader whose municipalities differ never gets another's; a refusal reads nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from litestar import Litestar

from backend.core.clock import frozen_at
from tests.factories import (
    Citizen,
    Clinician,
    audit_rows,
    caching_live,
    decisions,
    new_citizen,
    new_clinician,
    refused_readers_leave_their_rows,
    relate,
    split_audit,
)
from tests.municipal.factories import BAERUM, OSLO, put_service, service_body, sharing
from tests.municipal.test_overview import VITALS

# 10:00 in Oslo on a day whose 72 hours later is still before midnight there.
RECORDED = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _path(patient_id: uuid.UUID) -> str:
    return f"/clinician/v1/patients/{patient_id}/overview"


async def _overview(client: httpx.AsyncClient, reader: Clinician, patient_id: uuid.UUID) -> dict[str, Any]:
    response = await client.get(_path(patient_id), headers=reader.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _patient(client: httpx.AsyncClient, app: Litestar) -> tuple[Citizen, Clinician, Clinician]:
    patient = await new_citizen(client, app)
    home_care = new_clinician(app, org_kind="hjemmetjeneste", authorization="SP", municipality=OSLO)
    legevakt = new_clinician(app, org_kind="legevakt", municipality=OSLO)
    for clinician in (home_care, legevakt):
        await relate(client, clinician, patient.patient_id)
    assert (await put_service(client, home_care, patient.patient_id, service_body())).status_code == 201
    await caching_live()
    return patient, home_care, legevakt


async def _news2(client: httpx.AsyncClient, writer: Clinician, patient_id: uuid.UUID, **fields: Any) -> None:
    response = await client.post(
        f"/clinician/v1/patients/{patient_id}/news2", json={**VITALS, **fields}, headers=writer.headers
    )
    assert response.status_code == 201, response.text


async def test_a_kept_overview_is_the_decision_alone_and_the_first_one_statement(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, statements: list[str]
) -> None:
    patient, _home_care, legevakt = await _patient(client, app)
    statements.clear()
    first = await _overview(client, legevakt, patient.patient_id)
    own, audited = split_audit(statements)
    assert (len(own), audited) == (1, 1), statements
    assert decisions(own)
    assert "municipal_service" in own[0]
    statements.clear()
    assert await _overview(client, legevakt, patient.patient_id) == first
    assert await _overview(client, legevakt, patient.patient_id) == first
    own, audited = split_audit(statements)
    assert (len(own), audited) == (2, 2), statements
    assert decisions(own)
    assert not any("municipal_service" in statement for statement in statements), statements
    rows = [row for row in await audit_rows(db, legevakt) if row["resource_type"] == "overview"]
    assert [(row["action"], row["basis"]) for row in rows] == [("read", "care-relation")] * 3


async def test_a_new_news2_and_a_changed_service_reach_the_next_read_of_a_kept_overview(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    patient, home_care, legevakt = await _patient(client, app)
    assert (await _overview(client, legevakt, patient.patient_id))["vitals"]["news2"] is None
    await _overview(client, legevakt, patient.patient_id)  # kept
    await _news2(client, home_care, patient.patient_id)
    assert (await _overview(client, legevakt, patient.patient_id))["vitals"]["news2"]["total"] > 0
    ended = await put_service(client, home_care, patient.patient_id, service_body("safety-alarm"))
    assert ended.status_code == 201, ended.text
    shown = {item["service"] for item in (await _overview(client, legevakt, patient.patient_id))["municipalServices"]}
    assert shown == {"home-nursing", "safety-alarm"}


async def test_a_vital_sign_leaves_a_kept_overview_when_it_leaves_its_window(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    patient, home_care, legevakt = await _patient(client, app)
    with frozen_at(RECORDED):
        await _news2(client, home_care, patient.patient_id, effectiveAt=RECORDED.isoformat())
    await caching_live()
    with frozen_at(RECORDED + timedelta(hours=72, minutes=-2)):
        assert (await _overview(client, legevakt, patient.patient_id))["vitals"]["pulse"]["value"] == 112
        assert (await _overview(client, legevakt, patient.patient_id))["vitals"]["news2"] is not None  # kept
    with frozen_at(RECORDED + timedelta(hours=72, minutes=1)):  # within the 5 minutes a kept answer may last
        vitals = (await _overview(client, legevakt, patient.patient_id))["vitals"]
    assert vitals["news2"] is None
    assert vitals["pulse"] is None


async def test_readers_of_other_municipalities_never_get_an_overview_kept_for_another(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    patient, _home_care, legevakt = await _patient(client, app)
    baerum_care = new_clinician(app, org_kind="hjemmetjeneste", authorization="SP", municipality=BAERUM)
    await relate(client, baerum_care, patient.patient_id)
    assert (
        await put_service(client, baerum_care, patient.patient_id, service_body("meals-on-wheels"))
    ).status_code == 201
    await caching_live()
    for _ in range(2):
        alone = await _overview(client, legevakt, patient.patient_id)
        assert [item["service"] for item in alone["municipalServices"]] == ["home-nursing"]
        assert alone["otherMunicipalitiesCount"] == 1
    with sharing(app, districts={legevakt.org: [OSLO, BAERUM]}):
        for _ in range(2):
            district = await _overview(client, legevakt, patient.patient_id)
            assert {item["service"] for item in district["municipalServices"]} == {"home-nursing", "meals-on-wheels"}
            assert district["otherMunicipalitiesCount"] == 0
    assert (await _overview(client, legevakt, patient.patient_id))["otherMunicipalitiesCount"] == 1


async def test_a_refused_read_of_a_kept_overview_reads_nothing_and_leaves_its_denied_row(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, statements: list[str]
) -> None:
    patient, _home_care, legevakt = await _patient(client, app)
    await _overview(client, legevakt, patient.patient_id)
    await _overview(client, legevakt, patient.patient_id)  # kept
    statements.clear()
    await refused_readers_leave_their_rows(client, app, db, _path(patient.patient_id), hers="home-nursing")
    # A decision whose read never runs when refused (test_overview_shape reads the plan) and its denied row; the
    # laboratory's refusal by role, its row written at once.
    app_statements = [statement for statement in statements if "FROM audit_log WHERE hpr" not in statement]
    own, audited = split_audit(app_statements)
    assert (len(own), audited) == (2, 1), app_statements
    # The stranger's decision (a read in it is gated by the verdict: planned, never run, as the plan tests show),
    # then the laboratory's refusal by role.
    assert decisions(own[:1]), own
    assert own[1].startswith("INSERT INTO audit_log ("), own
