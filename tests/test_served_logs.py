"""Logs an operator can use (issue 12): the served app (`helsekort serve`, granian, two workers) writes JSON lines,
one access line per request with method, route template, status, duration, request id and caller kind, and never
a token or a fødselsnummer, not even one sent in a body that fails to parse."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar

from backend.app import create_app
from backend.cli import SERVER_LOG_CONFIG, WORKERS_KILL_SECONDS
from backend.core.logs import JsonFormatter, logging_config
from backend.settings import Settings
from tests.factories import bearer, citizen_token, new_clinician, synthetic_fnr

ROOT = Path(__file__).resolve().parent.parent


def test_the_app_keeps_json_logging_instead_of_litestars_default(settings: Settings) -> None:
    create_app(settings)
    handlers = logging.getLogger().handlers
    assert handlers
    assert all(isinstance(handler.formatter, JsonFormatter) for handler in handlers)


def test_the_servers_log_config_file_is_the_services_logging_config() -> None:
    # The ASGI server's own process reads this file (--log-config); a drift would log plain, unscrubbed text.
    assert json.loads(SERVER_LOG_CONFIG.read_text(encoding="utf-8")) == logging_config("INFO")


def test_an_exception_text_is_scrubbed(caplog: pytest.LogCaptureFixture) -> None:
    number = "01017012345"  # not a factory number: this record is meant to need scrubbing
    try:
        raise ValueError(f"no patient with fnr {number} for Bearer abc.def.ghi")
    except ValueError:
        record = logging.LogRecord("helsekort.test", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = JsonFormatter().format(record)
    assert "ValueError" in json.loads(line)["exception"]
    assert number not in line
    assert "abc.def.ghi" not in line


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _json_lines(text: str) -> list[dict[str, Any]]:
    entries = []
    for line in text.splitlines():
        if line.strip():
            entries.append(json.loads(line))  # every line on stderr is JSON, the servers' own included
    return entries


@pytest.mark.slow
async def test_served_app_logs_scrubbed_json_access_lines(
    app: Litestar, database_url: str, data_dir: Path, tmp_path: Path
) -> None:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "HELSEKORT_ENV": "test",
           "HELSEKORT_DATA_DIR": str(data_dir), "HELSEKORT_LOG_LEVEL": "INFO"}  # fmt: skip
    stdout, stderr = (tmp_path / "stdout").open("wb"), (tmp_path / "stderr").open("wb")
    process = subprocess.Popen(  # noqa: ASYNC220 - a server for the test to talk to, stopped below
        [sys.executable, "-m", "backend", "serve", "--port", str(port), "--workers", "2"],
        cwd=ROOT, env=env, stdout=stdout, stderr=stderr,
    )  # fmt: skip
    fnr = synthetic_fnr()
    token = citizen_token(app, fnr)
    clinician = new_clinician(app)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            deadline = time.monotonic() + 90
            while True:
                assert process.poll() is None, (tmp_path / "stderr").read_text(errors="replace")
                assert time.monotonic() < deadline, "the server did not start"
                try:
                    if (await client.get("/ready")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.3)
            me = await client.get("/citizen/v1/me", headers=bearer(token))
            assert me.status_code == 200, me.text
            patient_id = me.json()["patientId"]
            lookup = await client.post("/clinician/v1/patients/lookup", json={"fnr": fnr}, headers=clinician.headers)
            assert lookup.status_code < 500
            broken = await client.post(
                "/clinician/v1/patients/lookup",
                content=f'{{"fnr": "{fnr}", '.encode(),
                headers={**clinician.headers, "Content-Type": "application/json"},
            )
            assert broken.status_code == 400
            refused = await client.get("/citizen/v1/me", headers=bearer(token[:-4] + "AAAA"))
            assert refused.status_code == 401
            medications = await client.get(
                f"/clinician/v1/patients/{patient_id}/medications",
                headers={**clinician.headers, "X-Request-ID": "trace-medications-1"},
            )
            assert (await client.get("/metrics")).status_code == 200  # loopback is on the default allow-list
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            # A stop always ends: a worker that ignores SIGTERM is killed after WORKERS_KILL_SECONDS.
            await asyncio.to_thread(process.wait, WORKERS_KILL_SECONDS + 15)
        finally:
            stdout.close()
            stderr.close()
    logged = (tmp_path / "stderr").read_text(errors="replace") + (tmp_path / "stdout").read_text(errors="replace")
    for secret in (fnr, token, clinician.token, token[:-4] + "AAAA", patient_id):
        assert secret not in logged
    entries = _json_lines((tmp_path / "stderr").read_text(errors="replace"))
    access = [entry for entry in entries if entry["logger"] == "helsekort.access"]
    by_route = {(entry["method"], entry["route"], entry["status"]): entry for entry in access}
    assert by_route[("GET", "/citizen/v1/me", 200)]["caller"] == "citizen"
    assert ("GET", "/citizen/v1/me", 401) in by_route
    assert by_route[("POST", "/clinician/v1/patients/lookup", 400)]["caller"] == "clinician"
    line = by_route[("GET", "/clinician/v1/patients/{patient_id}/medications", medications.status_code)]
    assert line["requestId"] == "trace-medications-1"
    assert line["caller"] == "clinician"
    assert isinstance(line["durationMs"], float | int)
    # One line per request (not /health, /metrics): the six above plus the readiness probes.
    assert len([entry for entry in access if entry["route"] != "/ready"]) == 5
