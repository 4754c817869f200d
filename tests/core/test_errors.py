"""Every error leaves as RFC 9457 problem details, from one hierarchy."""

from __future__ import annotations

import httpx
import msgspec
import pytest
from litestar import Litestar, post
from litestar.params import JSONBody

from backend.app import create_app
from backend.core.errors import BadRequest, Conflict, NotFound, TooManyRequests
from backend.settings import Settings


class Echo(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, rename="camel"):
    name: str
    weight_kg: float


@post("/test/echo", security=[{}], status_code=200)
async def echo(data: JSONBody[Echo]) -> Echo:
    if data.name == "conflict":
        raise Conflict("the card is closed")
    if data.name == "missing":
        raise NotFound("no such patient")
    if data.name == "bad":
        raise BadRequest("weight is implausible", field="weightKg")
    if data.name == "slow-down":
        raise TooManyRequests(retry_after=7)
    if data.name == "boom":
        raise RuntimeError("secret internals 01017012345")
    return data


@pytest.fixture
async def echo_client(settings: Settings) -> httpx.AsyncClient:
    app: Litestar = create_app(settings, extra_route_handlers=[echo])
    # The shared test app already holds the pool; this app needs no lifespan of its own.
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_body_over_the_limit_is_413(echo_client: httpx.AsyncClient) -> None:
    big = b'{"name": "' + b"x" * (1024 * 1024 + 10) + b'", "weightKg": 1}'
    response = await echo_client.post("/test/echo", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 413


async def test_unknown_field_is_400_naming_the_field(echo_client: httpx.AsyncClient) -> None:
    response = await echo_client.post("/test/echo", json={"name": "a", "weightKg": 1, "colour": "red"})
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400
    assert "colour" in body["detail"]
    assert body["errors"]


async def test_wrong_type_is_400_naming_the_field(echo_client: httpx.AsyncClient) -> None:
    response = await echo_client.post("/test/echo", json={"name": "a", "weightKg": "heavy"})
    assert response.status_code == 400
    assert "weightKg" in response.json()["detail"]


@pytest.mark.parametrize(
    ("name", "status", "field"),
    [("conflict", 409, None), ("missing", 404, None), ("bad", 400, "weightKg"), ("slow-down", 429, None)],
)
async def test_domain_errors_map_to_problem_details(
    echo_client: httpx.AsyncClient, name: str, status: int, field: str | None
) -> None:
    response = await echo_client.post("/test/echo", json={"name": name, "weightKg": 70})
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["detail"]
    if field:
        assert body["errors"][0]["field"] == field
    if status == 429:
        assert response.headers["retry-after"] == "7"


async def test_unexpected_error_is_500_without_internals(echo_client: httpx.AsyncClient) -> None:
    response = await echo_client.post("/test/echo", json={"name": "boom", "weightKg": 70})
    assert response.status_code == 500
    assert "secret" not in response.text
    assert "01017012345" not in response.text
    assert response.json()["requestId"] == response.headers["x-request-id"]
