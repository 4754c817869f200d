"""Property-based run over every operation of openapi/openapi.json (schemathesis), against the app on a port.

Each operation gets a bounded number of generated requests (valid and invalid), sent with real dev tokens of
the audience its path is for, and each answer must be documented: its status, media type, headers and body.
A 500 is never documented, so "no server error" is part of the status check. The seed is fixed, so a run is
reproducible and CI time bounded.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from backend.dev.tokens import citizen_claims, clinician_claims, editor_claims, load_dev_signing_key, mint
from backend.settings import Settings
from tests.contract.conformance import DOCUMENT
from tests.factories import bearer, random_hpr, random_org, synthetic_fnr

EXAMPLES_PER_OPERATION = 10
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

schema = schemathesis.openapi.from_path(DOCUMENT)


@dataclasses.dataclass
class Served:
    base_url: str
    headers: dict[str, dict[str, str]]  # by path prefix: the token of that audience
    patient_id: str  # the citizen's, in care of the clinician: patient routes reach real data


@contextlib.contextmanager
def _serving(settings: Settings) -> Iterator[str]:
    """The app in a process of its own (its database pool is a process-wide one), on a free local port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "HELSEKORT_ENV": "test",
        "DATABASE_URL": settings.database_url or "",
        "HELSEKORT_DATA_DIR": str(settings.data_dir),  # the same dev keys: tokens minted here are trusted there
        "HELSEKORT_LOG_LEVEL": "ERROR",
        # Generated requests without a token would soon trip the per-address limits and hide everything else.
        "HELSEKORT_RATE_LIMIT_AUTH_FAILURES": "1000000",
        "HELSEKORT_RATE_LIMIT_WRITES": "1000000",
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", "backend.app:app_factory", "--host", "127.0.0.1"]
    server = subprocess.Popen([*command, "--port", str(port), "--log-level", "warning"], env=env)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the app did not start")
            time.sleep(0.1)
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.fixture(scope="module")
def served(settings: Settings) -> Iterator[Served]:
    key = load_dev_signing_key(settings)
    with _serving(settings) as base_url:
        citizen = bearer(mint(key, "citizen", citizen_claims(synthetic_fnr())))
        clinician_claims_ = clinician_claims(
            hpr=random_hpr(), pid=synthetic_fnr(), authorization="LE", org=random_org(), org_kind="fastlege"
        )
        clinician = bearer(mint(key, "clinician", clinician_claims_))
        patient_id = httpx.get(f"{base_url}/citizen/v1/me", headers=citizen).json()["patientId"]
        related = httpx.post(
            f"{base_url}/clinician/v1/patients/{patient_id}/care-relations", json={"kind": "gp"}, headers=clinician
        )
        assert related.status_code == 201, related.text
        editor = bearer(mint(key, "editor", editor_claims("contract-editor")))
        yield Served(base_url, {"/citizen/": citizen, "/clinician/": clinician, "/content/": editor}, patient_id)


@schema.parametrize()
@hypothesis.settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
)
def test_every_operation_answers_as_documented(case: schemathesis.Case, served: Served) -> None:
    if "patient_id" in (case.path_parameters or {}):
        case.path_parameters = {**(case.path_parameters or {}), "patient_id": served.patient_id}
    audience: dict[str, Any] = next((h for p, h in served.headers.items() if case.path.startswith(p)), {})
    case.call_and_validate(
        base_url=served.base_url,
        headers=audience,
        checks=CHECKS,
    )
