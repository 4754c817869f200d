"""A clinician's list of her measurements is kept until she changes (core.access.authorize_cached_read): every
request is still its own decision and audit row, a kept page is that one statement, an upload is seen by the next
read, and a refused reader reads nothing and leaves her denied row."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
from litestar import Litestar

from tests.factories import (
    Citizen,
    Clinician,
    caching_live,
    kept_reads_are_the_decision_alone,
    new_citizen,
    new_clinician,
    refused_readers_leave_their_rows,
    relate,
)
from tests.measurements.factories import BP, bp_item

UPLOAD = "/citizen/v1/me/measurements"


def list_path(patient_id: uuid.UUID) -> str:
    return f"/clinician/v1/patients/{patient_id}/measurements?code={BP}&limit=50"


async def _upload(client: httpx.AsyncClient, citizen: Citizen, *items: dict[str, Any]) -> None:
    response = await client.post(UPLOAD, json={"items": list(items)}, headers=citizen.headers)
    assert response.status_code in (200, 201, 207), response.text


async def _with_reader(client: httpx.AsyncClient, app: Litestar) -> tuple[Citizen, Clinician]:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app, org_kind="fastlege", authorization="LE")
    await relate(client, gp, citizen.patient_id)
    await _upload(client, citizen, bp_item(131, 85), bp_item(128, 82))
    await caching_live()
    return citizen, gp


async def _read(client: httpx.AsyncClient, clinician: Clinician, patient_id: uuid.UUID) -> dict[str, Any]:
    response = await client.get(list_path(patient_id), headers=clinician.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_kept_page_is_the_decision_alone_with_its_row_and_the_same_answer(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, statements: list[str]
) -> None:
    citizen, gp = await _with_reader(client, app)
    first = await kept_reads_are_the_decision_alone(
        lambda: _read(client, gp, citizen.patient_id),
        db,
        statements,
        gp,
        resource_type="measurement",
        table="FROM measurement",
    )
    assert len(first["items"]) == 2


async def test_an_upload_is_seen_by_the_next_read_of_a_kept_page(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen, gp = await _with_reader(client, app)
    await _read(client, gp, citizen.patient_id)
    assert len((await _read(client, gp, citizen.patient_id))["items"]) == 2  # kept
    await _upload(client, citizen, bp_item(140, 90))
    assert len((await _read(client, gp, citizen.patient_id))["items"]) == 3


async def test_a_refused_read_of_a_kept_page_reads_nothing_and_leaves_its_denied_row(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, statements: list[str]
) -> None:
    citizen, gp = await _with_reader(client, app)
    await _read(client, gp, citizen.patient_id)
    await _read(client, gp, citizen.patient_id)  # kept
    statements.clear()
    await refused_readers_leave_their_rows(client, app, db, list_path(citizen.patient_id), hers="131")
    assert not any("FROM measurement" in statement for statement in statements), statements
