"""The service skeleton: health, readiness, problem details, body limit, request ids, OpenAPI."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from prometheus_client import REGISTRY

from backend.cli import openapi_document
from backend.db.engine import DB


async def test_health_answers_while_the_process_lives(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_answers_when_the_database_does(client: httpx.AsyncClient) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


async def test_ready_is_503_problem_when_the_database_is_down(client: httpx.AsyncClient) -> None:
    real_config, real_pool = DB.config, DB.pool
    DB.pool = None
    DB.configure("postgresql://postgres@127.0.0.1:9/nowhere")
    try:
        await DB.open_pool(min_size=1, max_size=1, acquire_timeout=1, statement_timeout_ms=1000)
        response = await client.get("/ready")
    finally:
        await DB.close_pool()
        DB.config, DB.pool = real_config, real_pool
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 503
    assert "Retry-After" in response.headers
    assert (await client.get("/ready")).status_code == 200


async def test_unknown_route_is_a_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/route")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 404
    assert body["title"] == "Not found"
    assert body["type"].startswith("urn:helsekort:problem:")
    assert body["instance"] == "/no/such/route"


async def test_wrong_method_is_a_405_problem(client: httpx.AsyncClient) -> None:
    response = await client.delete("/health")
    assert response.status_code == 405
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_every_response_carries_a_request_id(client: httpx.AsyncClient) -> None:
    first = await client.get("/health")
    second = await client.get("/health")
    assert len(first.headers["x-request-id"]) >= 8
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    echoed = await client.get("/health", headers={"X-Request-ID": "trace-0123456789"})
    assert echoed.headers["x-request-id"] == "trace-0123456789"
    forged = await client.get("/health", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert forged.headers["x-request-id"] != "<script>alert(1)</script>"
    # An id shaped like a fødselsnummer would be scrubbed in the log: it is replaced, not echoed.
    identity = await client.get("/health", headers={"X-Request-ID": "trace-01017012345"})
    assert "01017012345" not in identity.headers["x-request-id"]


def test_generated_request_ids_survive_the_log_scrubber() -> None:
    import itertools

    from backend.core.logs import scrub
    from backend.core.middleware import _RequestIds

    ids = _RequestIds()
    # Counters whose hex digits run long: zero-padded, 0x24A was "00000000024a", scrubbed as a fødselsnummer.
    for start in (0x24, 0x24A, 0x99999, 0x1234567890, 0x9999999999):
        ids._counter = itertools.count(start)
        request_id = ids.next()
        assert scrub(request_id) == request_id, request_id


async def test_large_responses_are_compressed(client: httpx.AsyncClient) -> None:
    response = await client.get("/schema/openapi.json", headers={"Accept-Encoding": "br, gzip"})
    assert response.status_code == 200
    assert response.headers.get("content-encoding") in {"br", "gzip"}
    assert response.json()["info"]["title"] == "Helsekort API"


async def test_metrics_are_exposed_for_prometheus(client: httpx.AsyncClient, app: Litestar) -> None:
    await client.get("/health")
    # Served to the default allow-list (loopback) only: tests/security/test_headers.py.
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as loopback:
        response = await loopback.get("/metrics")
    assert response.status_code == 200
    assert "helsekort_requests_total" in response.text


async def test_request_metrics_count_each_answer_and_fold_made_up_methods(client: httpx.AsyncClient) -> None:
    def count(method: str, path: str, status: str) -> float:
        labels = {"method": method, "path": path, "status_code": status}
        return REGISTRY.get_sample_value("helsekort_requests_total", labels) or 0.0

    before = count("GET", "/health", "200"), count("OTHER", "unmatched", "405")
    for _ in range(3):
        await client.get("/health")
    made_up = [await client.request(method, "/health") for method in ("FROBNICATE", "XYZZY")]

    assert [response.status_code for response in made_up] == [405, 405]
    assert count("GET", "/health", "200") == before[0] + 3
    assert count("OTHER", "unmatched", "405") == before[1] + 2
    # A client's own method names never become series of their own.
    assert count("XYZZY", "unmatched", "405") == 0.0


async def test_interactive_api_page_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/schema")
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]


def test_openapi_is_generated_and_committed_file_is_current() -> None:
    document = openapi_document()
    schema = json.loads(document)
    assert schema["openapi"].startswith("3.1")
    assert "/health" in schema["paths"]
    assert schema["paths"]["/health"]["get"]["security"] == [{}]
    committed = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"
    assert committed.read_text(encoding="utf-8") == document, "run `helsekort openapi` and commit the result"


def test_logs_are_json_and_scrub_tokens_and_identity_numbers(caplog: pytest.LogCaptureFixture) -> None:
    from backend.core.logs import JsonFormatter

    record = logging.LogRecord(
        "helsekort.test", logging.INFO, __file__, 1,
        "lookup for 01017012345 with Bearer eyJhbGciOiJSUzI1NiJ9.eyJwaWQiOiIxIn0.c2ln failed",
        (), None,
    )  # fmt: skip
    record.detail = "fnr 010170 12345"
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert "01017012345" not in line
    assert "12345" not in line
    assert "eyJ" not in line
    assert entry["level"] == "info"


def test_the_served_app_leaves_its_start_up_heap_out_of_collections() -> None:
    """The servers' entry point freezes what start-up built and collects less often (p99 fell from >100 ms to
    20-30 ms under load: full collections walked every start-up object)."""
    import gc

    from backend.app import GC_THRESHOLDS, app_factory

    before = gc.get_threshold()
    gc.unfreeze()
    try:
        app_factory()
        assert gc.get_freeze_count() > 10_000
        assert gc.get_threshold() == GC_THRESHOLDS
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
