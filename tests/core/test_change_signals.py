"""What a process keeps per patient (core/change_signals.py) ends with her next change, here or in another process."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx
from litestar import Litestar

from backend.core.change_signals import SIGNALS, PatientCache
from tests.factories import new_citizen


async def _consents(client: httpx.AsyncClient, headers: dict[str, str]) -> list[str]:
    response = await client.get("/citizen/v1/me", headers=headers)
    assert response.status_code == 200, response.text
    consents: list[str] = response.json()["consents"]
    return consents


async def test_me_shows_a_consent_given_or_withdrawn_at_once(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    assert await _consents(client, citizen.headers) == []
    assert await _consents(client, citizen.headers) == []  # kept now
    given = await client.put("/citizen/v1/me/consents/pregnancy-card", headers=citizen.headers)
    assert given.status_code == 204, given.text
    assert await _consents(client, citizen.headers) == ["pregnancy-card"]
    withdrawn = await client.delete("/citizen/v1/me/consents/pregnancy-card", headers=citizen.headers)
    assert withdrawn.status_code in (200, 204), withdrawn.text
    assert await _consents(client, citizen.headers) == []


async def test_me_shows_a_consent_another_process_committed(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    assert await _consents(client, citizen.headers) == []
    async with db.transaction():
        await db.execute(
            "INSERT INTO consent (id, patient_id, scope, given_at) VALUES ($1, $2, 'pregnancy-card', now())",
            uuid.uuid4(),
            citizen.patient_id,
        )
        await db.execute("SELECT pg_notify('helsekort_patient_changed', $1::text)", str(citizen.patient_id))
    for _ in range(100):
        if await _consents(client, citizen.headers) == ["pregnancy-card"]:
            break
        await asyncio.sleep(0.02)
    assert await _consents(client, citizen.headers) == ["pregnancy-card"]


async def test_a_value_read_while_she_changed_is_not_kept(app: Litestar) -> None:
    cache: PatientCache[int] = PatientCache()
    steady, changing = uuid.uuid4(), uuid.uuid4()
    reads = 0

    async def read() -> tuple[int, None]:
        nonlocal reads
        reads += 1
        return reads, None

    async def read_while_changed() -> tuple[int, None]:
        SIGNALS.changed(changing)  # a write of hers lands while the value is read
        return await read()

    for _ in range(200):  # the first use starts listening; values are kept once it listens
        first, again = await cache.get(steady, "k", read), await cache.get(steady, "k", read)
        if first == again:
            break
        await asyncio.sleep(0.02)
    assert first == again
    changed = await cache.get(changing, "k", read_while_changed)
    assert await cache.get(changing, "k", read_while_changed) == changed + 1
    SIGNALS.changed(steady)
    assert await cache.get(steady, "k", read) > again
