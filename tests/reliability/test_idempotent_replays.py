"""Replayed idempotent answers decode for every client (issue 12, "Replays that decode").

The first answer may be compressed for the first caller's Accept-Encoding; what is stored and replayed is the
uncompressed answer, so a replay decodes whether or not the replaying client accepts gzip or brotli.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
from litestar import Litestar

from backend.core.clock import oslo_now
from tests.factories import Clinician, new_citizen, new_clinician, relate

COMPRESSED = "gzip, br"
PLAIN = "identity"


async def _card_request(client: httpx.AsyncClient, app: Litestar) -> tuple[str, dict[str, Any], Clinician]:
    """A pregnancy card creation: its answer (card and schedule) is over the 1 KiB compression threshold."""
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    consent = await client.put("/citizen/v1/me/consents/pregnancy-card", headers=citizen.headers)
    assert consent.status_code == 204, consent.text
    body = {"lastMenstrualPeriod": (oslo_now().date() - timedelta(weeks=20)).isoformat()}
    return f"/clinician/v1/patients/{citizen.patient_id}/pregnancies", body, gp


async def test_replays_decode_with_and_without_accept_encoding(client: httpx.AsyncClient, app: Litestar) -> None:
    path, body, gp = await _card_request(client, app)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await client.post(path, json=body, headers={**gp.headers, **key, "Accept-Encoding": COMPRESSED})
    assert first.status_code == 201, first.text
    # The first caller got a compressed answer, so storing what went over the wire would break the replays.
    assert first.headers.get("content-encoding") in ("br", "gzip")
    for encoding in (COMPRESSED, PLAIN, "gzip", "br"):
        replay = await client.post(path, json=body, headers={**gp.headers, **key, "Accept-Encoding": encoding})
        assert replay.status_code == 201, replay.text
        assert replay.headers["idempotency-replayed"] == "true"
        assert "content-encoding" not in replay.headers
        assert replay.headers["content-type"].startswith("application/json")
        assert replay.json() == first.json()


async def test_twenty_concurrent_requests_and_their_replays_all_decode(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    path, body, gp = await _card_request(client, app)
    key = {"Idempotency-Key": str(uuid.uuid4())}

    async def send(encoding: str) -> httpx.Response:
        return await client.post(path, json=body, headers={**gp.headers, **key, "Accept-Encoding": encoding})

    racing = await asyncio.gather(*[send(COMPRESSED) for _ in range(20)])
    created = [response for response in racing if response.status_code == 201]
    assert created
    assert all(response.status_code in (201, 409) for response in racing), [r.status_code for r in racing]
    answer = created[0].json()
    assert all(response.json() == answer for response in created)
    replays = await asyncio.gather(*[send(COMPRESSED if index % 2 else PLAIN) for index in range(20)])
    assert [response.status_code for response in replays] == [201] * 20
    assert all(response.json() == answer for response in replays)
    assert all(response.headers["idempotency-replayed"] == "true" for response in replays)
