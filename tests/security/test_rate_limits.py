"""Citizen writes are rate limited per caller (Litestar's limiter): 429 with Retry-After; reads are not."""

from __future__ import annotations

import dataclasses

import httpx
from litestar import Litestar

from backend.app import create_app
from backend.settings import Settings
from tests.factories import citizen_token, synthetic_fnr


async def test_citizen_writes_are_limited_per_caller(app: Litestar, settings: Settings) -> None:
    # A second app on the same (already open) database, with a tiny write budget.
    limited = create_app(dataclasses.replace(settings, rate_limit_writes_per_minute=3))
    limited.state.dev_signing_key = app.state.dev_signing_key
    transport = httpx.ASGITransport(app=limited, client=("10.9.9.9", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        first = {"Authorization": f"Bearer {citizen_token(app, synthetic_fnr())}"}
        second = {"Authorization": f"Bearer {citizen_token(app, synthetic_fnr())}"}
        statuses = [
            (await client.put(f"/citizen/v1/me/blocks/{1000 + n}", headers=first)).status_code for n in range(4)
        ]
        assert statuses == [204, 204, 204, 429]
        refused = await client.put("/citizen/v1/me/blocks/2000", headers=first)
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0
        assert refused.headers["content-type"].startswith("application/problem+json")
        # Reads are not limited, and another citizen has her own budget.
        assert (await client.get("/citizen/v1/me", headers=first)).status_code == 200
        assert (await client.put("/citizen/v1/me/blocks/3000", headers=second)).status_code == 204
