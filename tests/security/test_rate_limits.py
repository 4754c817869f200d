"""Citizen writes are rate limited per caller (core/ratelimit.py, counted in PostgreSQL): 429 with Retry-After and
the RateLimit headers; reads are not."""

from __future__ import annotations

import dataclasses

import asyncpg
import httpx
from litestar import Litestar

from backend.app import create_app
from backend.core.ratelimit import RateLimit
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


async def test_writes_carry_the_ratelimit_headers_and_retry_after_is_the_time_left(
    app: Litestar, settings: Settings, db: asyncpg.Connection
) -> None:
    limited = create_app(dataclasses.replace(settings, rate_limit_writes_per_minute=2))
    limited.state.dev_signing_key = app.state.dev_signing_key
    transport = httpx.ASGITransport(app=limited, client=("10.9.9.10", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        token = citizen_token(app, synthetic_fnr())
        headers = {"Authorization": f"Bearer {token}"}
        bucket = RateLimit("citizen-writes", 2).bucket((await app.state.token_verifier.verify(token)).caller_id)
        first = await client.put("/citizen/v1/me/blocks/1001", headers=headers)
        assert first.status_code == 204
        assert first.headers["ratelimit-policy"] == "2; w=60"
        assert (first.headers["ratelimit-limit"], first.headers["ratelimit-remaining"]) == ("2", "1")
        assert first.headers["ratelimit-reset"] == "60"
        assert "retry-after" not in first.headers
        # 50 of the window's 60 seconds have passed (the window is the database's, whichever process counts).
        await db.execute(
            "UPDATE rate_limit_window SET window_ends = window_ends - interval '50 seconds' WHERE bucket = $1", bucket
        )
        second = await client.put("/citizen/v1/me/blocks/1002", headers=headers)
        assert (second.status_code, second.headers["ratelimit-remaining"]) == (204, "0")
        refused = await client.put("/citizen/v1/me/blocks/1003", headers=headers)
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == refused.headers["ratelimit-reset"]
        assert 8 <= int(refused.headers["retry-after"]) <= 10  # 10 s, less what a slow machine took since
        problem = refused.json()
        assert problem["type"] == "urn:helsekort:problem:rate-limited"
        assert (problem["status"], problem["detail"]) == (429, "too many writes")
        # Nothing of the refused write was stored.
        blocks = await client.get("/citizen/v1/me/blocks", headers=headers)
        assert sorted(item["hpr"] for item in blocks.json()["items"]) == ["1001", "1002"]
