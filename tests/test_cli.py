"""The real command: `helsekort serve` on the embedded PostgreSQL, `token`, `openapi --check`."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import jwt
import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({"HELSEKORT_DATA_DIR": str(data_dir), "HELSEKORT_ENV": "dev", "HELSEKORT_LOG_LEVEL": "WARNING"})
    return env


@pytest.mark.slow
def test_serve_starts_on_the_embedded_database_and_stops_cleanly() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="helsekort-serve-"))
    port = _free_port()
    output = data_dir / "serve.log"
    log = output.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "backend", "serve", "--port", str(port), "--prepare"],
        cwd=ROOT,
        env=_env(data_dir),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        status = None
        while time.monotonic() < deadline:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code
                if status == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, output.read_text(errors="replace")
            time.sleep(0.3)
        assert status == 200
        assert httpx.get(f"http://127.0.0.1:{port}/schema", timeout=5).status_code == 200
        assert (data_dir / "postgres" / "PG_VERSION").exists()
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        finally:
            log.close()
    assert process.returncode in (0, -signal.SIGTERM)
    # The embedded server was stopped with the process: no postmaster is left behind.
    assert not (data_dir / "postgres" / "postmaster.pid").exists()
    shutil.rmtree(data_dir, ignore_errors=True)


def test_token_command_mints_a_dev_token(tmp_path: Path) -> None:
    from tests.factories import synthetic_fnr

    fnr = synthetic_fnr()
    result = subprocess.run(
        [sys.executable, "-m", "backend", "token", "citizen", "--pid", fnr, "--expires-in", "-60"],
        cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, check=True,
    )  # fmt: skip
    token = result.stdout.strip()
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert header["typ"] == "at+jwt"
    assert claims["pid"] == fnr
    assert claims["acr"] == "idporten-loa-high"
    assert claims["exp"] < time.time()


def test_token_command_mints_a_pharmacy_token(tmp_path: Path) -> None:
    """Organisation kind `apotek` (issue 17): a pharmacist's token for dispensing."""
    from backend.core.auth import HELSEKORT_ORG_KIND
    from tests.factories import synthetic_fnr

    result = subprocess.run(
        [sys.executable, "-m", "backend", "token", "clinician", "--hpr", "9100009", "--pid", synthetic_fnr(),
         "--authorization", "SP", "--org", "974600009", "--org-kind", "apotek"],
        cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, check=True,
    )  # fmt: skip
    claims = jwt.decode(result.stdout.strip(), options={"verify_signature": False})
    assert claims[HELSEKORT_ORG_KIND] == "apotek"


def test_token_command_mints_a_municipality_token_with_its_kommunenummer(tmp_path: Path) -> None:
    """Organisation kind `kommune` and `--municipality` (issue 16); a kommunenummer that is not 4 digits is refused."""
    from backend.core.auth import HELSEID_MUNICIPALITY, HELSEKORT_ORG_KIND
    from tests.factories import synthetic_fnr

    argv = [sys.executable, "-m", "backend", "token", "clinician", "--hpr", "9100016", "--pid", synthetic_fnr(),
            "--authorization", "SP", "--org", "974600016", "--org-kind", "kommune"]  # fmt: skip
    result = subprocess.run(
        [*argv, "--municipality", "3201"], cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, check=True
    )
    claims = jwt.decode(result.stdout.strip(), options={"verify_signature": False})
    assert (claims[HELSEKORT_ORG_KIND], claims[HELSEID_MUNICIPALITY]) == ("kommune", "3201")
    default = subprocess.run(argv, cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, check=True)
    assert jwt.decode(default.stdout.strip(), options={"verify_signature": False})[HELSEID_MUNICIPALITY] == "0301"
    refused = subprocess.run(
        [*argv, "--municipality", "Oslo"], cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, check=False
    )
    assert refused.returncode == 2
    assert "--municipality" in refused.stderr


def test_token_command_mints_a_system_token_for_the_register_feed(tmp_path: Path) -> None:
    """Issue 18: `helsekort token system --scope registry`, a machine client's token from the dev system issuer."""
    result = subprocess.run(
        [sys.executable, "-m", "backend", "token", "system", "--scope", "registry"],
        cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, check=True,
    )  # fmt: skip
    claims = jwt.decode(result.stdout.strip(), options={"verify_signature": False})
    assert claims["scope"] == "registry"
    assert claims["iss"].endswith("/system")
    refused = subprocess.run(
        [sys.executable, "-m", "backend", "token", "system", "--scope", "payments"],
        cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert refused.returncode == 2


def test_token_command_refuses_in_production(tmp_path: Path) -> None:
    env = {**_env(tmp_path), "HELSEKORT_ENV": "production"}
    result = subprocess.run(
        [sys.executable, "-m", "backend", "token", "editor", "--sub", "x"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stdout == ""


def test_openapi_check_detects_drift(tmp_path: Path) -> None:
    stale = tmp_path / "openapi.json"
    stale.write_text("{}")
    result = subprocess.run(
        [sys.executable, "-m", "backend", "openapi", "--check", "--output", str(stale)],
        cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "out of date" in result.stderr


def test_token_command_rejects_an_invalid_pid(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "backend", "token", "citizen", "--pid", "12345678901"],
        cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--pid" in result.stderr
    assert "12345678901" not in result.stderr
