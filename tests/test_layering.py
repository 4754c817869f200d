"""Layering (issue 13): production loads no dev helper, and the import contracts in pyproject.toml hold.

A production process is started for real (a subprocess with production settings): it creates the app and
loads the worker's jobs, then lists what it imported. Nothing of backend.dev (dev issuers, the dev signing key),
of tests/ (the mock APNs) or any other mock of ours may be among them. The same process with dev settings does load
the dev issuers, so the check can tell the difference.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.core.test_settings import PRODUCTION

ROOT = Path(__file__).resolve().parents[1]

# The app as the ASGI servers create it, the CLI, and what the worker's jobs import when they first run.
LIST_IMPORTED_MODULES = """
import json, sys
import backend.cli, backend.jobs
from backend.app import app_factory
app = app_factory()
import backend.cms.service, backend.cms.sync, backend.core.idempotency, backend.labs.service
import backend.notifications.worker
settings = app.state.settings
print(json.dumps({"production": settings.is_production, "modules": sorted(sys.modules)}))
"""


def _imported_by_a_process_with(environment: dict[str, str], tmp_path: Path) -> tuple[bool, list[str]]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("HELSEKORT_")}
    env.pop("DATABASE_URL", None)
    env |= {"HELSEKORT_DATA_DIR": str(tmp_path), **environment}
    result = subprocess.run(
        [sys.executable, "-c", LIST_IMPORTED_MODULES],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    return answer["production"], answer["modules"]


def _dev_or_test_helpers(modules: list[str]) -> list[str]:
    return [
        name
        for name in modules
        if name in ("backend.dev", "tests")
        or name.startswith(("backend.dev.", "tests."))
        or (name.startswith("backend.") and "mock" in name)
    ]


@pytest.mark.slow
def test_a_production_app_and_worker_import_no_dev_helper_and_no_mock(tmp_path: Path) -> None:
    production, modules = _imported_by_a_process_with(PRODUCTION, tmp_path)
    assert production
    assert {"backend.app", "backend.notifications.worker", "backend.notifications.apns"} <= set(modules)
    assert _dev_or_test_helpers(modules) == []


@pytest.mark.slow
def test_a_dev_app_does_load_the_dev_issuers(tmp_path: Path) -> None:
    production, modules = _imported_by_a_process_with({"HELSEKORT_ENV": "dev"}, tmp_path)
    assert not production
    assert "backend.dev.tokens" in _dev_or_test_helpers(modules)
