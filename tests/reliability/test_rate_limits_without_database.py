"""The rate limits when their counters cannot be reached (core/ratelimit.py): a citizen write is refused with a
quick 503 and Retry-After (it could not be stored anyway); a failed authentication is still a plain 401, never a
500 and never a 429 it cannot know. Both within the production timeouts."""

from __future__ import annotations

import contextlib
import socket
import time

import httpx
import pytest
from litestar import Litestar

from backend.core.ratelimit import RateLimit, RateLimitUnavailable
from tests.factories import citizen_token, synthetic_fnr
from tests.reliability.test_stalled_database import pool_on

# The production timeouts answer within about a second; the margin covers a loaded test machine.
ANSWER_SECONDS = 2.5


def database_down() -> contextlib.AbstractAsyncContextManager[None]:
    """The one engine on a port where no server listens (production timeouts): every connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before use
    return pool_on(f"postgresql://helsekort@127.0.0.1:{port}/nothing", migrated=False)


async def _timed(client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    started = time.perf_counter()
    response = await client.request(method, path, headers=headers)
    assert time.perf_counter() - started < ANSWER_SECONDS, (method, path)
    return response


async def test_the_limiter_says_it_cannot_count(app: Litestar) -> None:
    async with database_down():
        with pytest.raises(RateLimitUnavailable) as refused:
            await RateLimit("test-down", 5).hit("someone")
    assert (refused.value.status, refused.value.headers["Retry-After"]) == (503, "1")


async def test_a_citizen_write_is_a_quick_503(client: httpx.AsyncClient, app: Litestar) -> None:
    headers = {"Authorization": f"Bearer {citizen_token(app, synthetic_fnr())}"}
    async with database_down():
        response = await _timed(client, "PUT", "/citizen/v1/me/blocks/1001", headers)
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["retry-after"]) >= 1
    assert "ratelimit-limit" not in response.headers
    # The database is back: the same write goes through.
    assert (await client.put("/citizen/v1/me/blocks/1001", headers=headers)).status_code == 204


async def test_failed_authentications_stay_401_without_the_database(app: Litestar) -> None:
    limit = app.state.settings.rate_limit_auth_failures_per_minute
    transport = httpx.ASGITransport(app=app, client=("203.0.113.201", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        async with database_down():
            statuses = [
                (await _timed(client, "GET", "/citizen/v1/me", {"Authorization": "Bearer nope"})).status_code
                for _ in range(limit + 2)
            ]
        assert statuses == [401] * (limit + 2)  # not counted, so never 429, and never a 500
        # Back again: counting resumes from nothing (the failures above were never stored).
        statuses = [
            (await client.get("/citizen/v1/me", headers={"Authorization": "Bearer nope"})).status_code
            for _ in range(limit + 1)
        ]
        assert statuses == [401] * limit + [429]
