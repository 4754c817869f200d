"""Issue 13: the limits hold in total across API processes. Two `helsekort serve` processes on two ports share the
test database; writes and failed authentications sent to them alternately, or all at once, are counted together.
(With per-process counters each process would allow the whole limit: twice the limit in total.)"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import jwt
import pytest
from litestar import Litestar

from backend.cli import WORKERS_KILL_SECONDS
from tests.factories import citizen_token, synthetic_fnr

ROOT = Path(__file__).resolve().parents[2]
WRITES, FAILURES = 4, 4

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def two_servers(database_url: str, data_dir: Path, logs: Path) -> AsyncIterator[list[httpx.AsyncClient]]:
    env = {**os.environ, "DATABASE_URL": database_url, "HELSEKORT_ENV": "test", "HELSEKORT_DATA_DIR": str(data_dir),
           "HELSEKORT_LOG_LEVEL": "WARNING", "HELSEKORT_RATE_LIMIT_WRITES": str(WRITES),
           "HELSEKORT_RATE_LIMIT_AUTH_FAILURES": str(FAILURES)}  # fmt: skip
    ports = [_free_port(), _free_port()]
    processes, files = [], []
    for port in ports:
        log = (logs / f"serve-{port}.log").open("wb")
        files.append(log)
        processes.append(
            subprocess.Popen(  # noqa: ASYNC220 - servers for the test to talk to, stopped below
                [sys.executable, "-m", "backend", "serve", "--port", str(port), "--workers", "1"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    clients = [httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=20) for port in ports]
    try:
        deadline = time.monotonic() + 120
        for process, client, port in zip(processes, clients, ports, strict=True):
            while True:
                assert process.poll() is None, (logs / f"serve-{port}.log").read_text(errors="replace")
                assert time.monotonic() < deadline, "the servers did not start"
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get("/ready")).status_code == 200:
                        break
                await asyncio.sleep(0.3)
        yield clients
    finally:
        for client in clients:
            await client.aclose()
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                await asyncio.to_thread(process.wait, WORKERS_KILL_SECONDS + 15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        for log in files:
            log.close()


@pytest.fixture(scope="module")
async def servers(
    database_url: str, data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[list[httpx.AsyncClient]]:
    async with two_servers(database_url, data_dir, tmp_path_factory.mktemp("two-servers")) as clients:
        yield clients


def _write(client: httpx.AsyncClient, token: str, hpr: int) -> asyncio.Future[httpx.Response]:
    return asyncio.ensure_future(
        client.put(f"/citizen/v1/me/blocks/{hpr}", headers={"Authorization": f"Bearer {token}"})
    )


async def test_writes_sent_alternately_are_limited_in_total(app: Litestar, servers: list[httpx.AsyncClient]) -> None:
    token = citizen_token(app, synthetic_fnr())
    answers = [await _write(servers[n % 2], token, 5000 + n) for n in range(WRITES + 4)]
    assert [answer.status_code for answer in answers] == [204] * WRITES + [429] * 4
    # Each process let through only its share, and both refuse now.
    assert [answer.headers["ratelimit-remaining"] for answer in answers[:WRITES]] == ["3", "2", "1", "0"]
    assert int(answers[-1].headers["retry-after"]) >= 1
    assert {answer.status_code for answer in answers[-2:]} == {429}
    # Another citizen has her own budget on either process.
    other = citizen_token(app, synthetic_fnr())
    assert (await _write(servers[1], other, 5100)).status_code == 204


async def test_writes_sent_at_once_to_both_are_limited_in_total(
    app: Litestar, servers: list[httpx.AsyncClient]
) -> None:
    token = citizen_token(app, synthetic_fnr())
    answers = await asyncio.gather(*[_write(servers[n % 2], token, 6000 + n) for n in range(16)])
    statuses = [answer.status_code for answer in answers]
    assert sorted(statuses) == [204] * WRITES + [429] * (16 - WRITES), statuses


async def test_failed_authentications_are_limited_in_total(app: Litestar, servers: list[httpx.AsyncClient]) -> None:
    # A bad token naming a key of its own, so that only this test's failures count in its bucket.
    forged = jwt.encode(
        {"iss": "https://forger.invalid"},
        "not the issuer's key, 32 bytes at least",
        algorithm="HS256",
        headers={"kid": str(uuid.uuid4())},
    )
    bad = {"Authorization": f"Bearer {forged}"}
    statuses = [(await servers[n % 2].get("/citizen/v1/me", headers=bad)).status_code for n in range(FAILURES + 4)]
    assert statuses == [401] * FAILURES + [429] * 4
    # A correctly signed token from the same address is never refused by the failure limit, on either process.
    good = {"Authorization": f"Bearer {citizen_token(app, synthetic_fnr())}"}
    assert [(await server.get("/citizen/v1/me", headers=good)).status_code for server in servers] == [200, 200]
