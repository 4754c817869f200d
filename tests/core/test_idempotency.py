"""Idempotency-Key: a replay gets the first answer, another body 422, concurrent requests execute once."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx
from litestar import Litestar

from tests.factories import new_citizen, new_clinician


async def test_replay_returns_the_first_response_and_executes_once(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    path = f"/clinician/v1/patients/{citizen.patient_id}/care-relations"
    headers = {**gp.headers, "Idempotency-Key": str(uuid.uuid4())}
    first = await client.post(path, json={"kind": "gp"}, headers=headers)
    second = await client.post(path, json={"kind": "gp"}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["idempotency-replayed"] == "true"
    assert await db.fetchval("SELECT count(*) FROM care_relation WHERE patient_id = $1", citizen.patient_id) == 1


async def test_same_key_with_another_body_is_422(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    path = f"/clinician/v1/patients/{citizen.patient_id}/care-relations"
    headers = {**gp.headers, "Idempotency-Key": "k-" + uuid.uuid4().hex}
    assert (await client.post(path, json={"kind": "gp"}, headers=headers)).status_code == 201
    response = await client.post(path, json={"kind": "gp", "until": "2031-01-01T00:00:00+00:00"}, headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_keys_are_scoped_to_the_caller(client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection) -> None:
    citizen = await new_citizen(client, app)
    first, second = new_clinician(app), new_clinician(app)
    path = f"/clinician/v1/patients/{citizen.patient_id}/care-relations"
    key = {"Idempotency-Key": "shared-" + uuid.uuid4().hex}
    assert (await client.post(path, json={"kind": "gp"}, headers={**first.headers, **key})).status_code == 201
    assert (await client.post(path, json={"kind": "gp"}, headers={**second.headers, **key})).status_code == 201
    assert await db.fetchval("SELECT count(*) FROM care_relation WHERE patient_id = $1", citizen.patient_id) == 2


async def test_concurrent_requests_with_one_key_execute_exactly_once(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    path = f"/clinician/v1/patients/{citizen.patient_id}/care-relations"
    headers = {**gp.headers, "Idempotency-Key": str(uuid.uuid4())}
    responses = await asyncio.gather(*[client.post(path, json={"kind": "gp"}, headers=headers) for _ in range(6)])
    statuses = sorted(response.status_code for response in responses)
    assert set(statuses) <= {201, 409}
    assert 201 in statuses
    assert await db.fetchval("SELECT count(*) FROM care_relation WHERE patient_id = $1", citizen.patient_id) == 1
    created = {response.json()["id"] for response in responses if response.status_code == 201}
    assert len(created) == 1


async def test_refusals_are_replayed_as_they_were(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    lab = new_clinician(app, org_kind="laboratorium", authorization="SP")
    path = f"/clinician/v1/patients/{citizen.patient_id}/care-relations"
    headers = {**lab.headers, "Idempotency-Key": str(uuid.uuid4())}
    first = await client.post(path, json={"kind": "gp"}, headers=headers)
    second = await client.post(path, json={"kind": "gp"}, headers=headers)
    assert first.status_code == second.status_code == 403
    assert "idempotency-replayed" in second.headers


async def test_malformed_key_is_400(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    response = await client.post(
        f"/clinician/v1/patients/{citizen.patient_id}/care-relations",
        json={"kind": "gp"},
        headers={**gp.headers, "Idempotency-Key": "x" * 300},
    )
    assert response.status_code == 400
