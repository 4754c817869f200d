"""Property-based run over every operation of openapi/openapi.json (schemathesis), against the real app.

Each operation gets a bounded number of generated requests (valid and invalid), sent with real dev tokens of
the audience its path is for, and each answer must be documented: its status, media type, headers and body.
A 500 is never documented, so "no server error" is part of the status check. The seed is fixed, so a run is
reproducible and CI time bounded.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
import uvicorn
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from backend.settings import Settings
from tests.contract.conformance import DOCUMENT
from tests.factories import bearer, citizen_token, editor_token, new_clinician, synthetic_fnr

EXAMPLES_PER_OPERATION = 12

schema = schemathesis.openapi.from_path(DOCUMENT)


class _Server:
    """The app on a local port, in a thread of its own (the generated test is synchronous)."""

    def __init__(self, settings: Settings) -> None:
        from backend.app import create_app

        self.app = create_app(settings)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, lifespan="on", log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=lambda: asyncio.run(self.server.serve()), daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the app did not start")
            self.thread.join(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@dataclasses.dataclass
class Served:
    base_url: str
    headers: dict[str, dict[str, str]]  # by path prefix: the token of that audience
    patient_id: str  # the citizen's, in care of the clinician: patient routes reach real data


@pytest.fixture(scope="module")
def served(settings: Settings) -> Iterator[Served]:
    # Generated requests without a token would soon trip the per-address limits and hide everything else.
    unlimited = dataclasses.replace(
        settings, rate_limit_auth_failures_per_minute=1_000_000, rate_limit_writes_per_minute=1_000_000
    )
    with _Server(unlimited) as server:
        base_url = f"http://127.0.0.1:{server.port}"
        citizen = bearer(citizen_token(server.app, synthetic_fnr()))
        clinician = new_clinician(server.app, org_kind="fastlege")
        patient_id = httpx.get(f"{base_url}/citizen/v1/me", headers=citizen).json()["patientId"]
        related = httpx.post(
            f"{base_url}/clinician/v1/patients/{patient_id}/care-relations",
            json={"kind": "gp"},
            headers=clinician.headers,
        )
        assert related.status_code == 201, related.text
        headers = {
            "/citizen/": citizen,
            "/clinician/": clinician.headers,
            "/content/": bearer(editor_token(server.app)),
        }
        yield Served(base_url, headers, patient_id)


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
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_headers_conformance,
            response_schema_conformance,
        ],
    )
