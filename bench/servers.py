"""The servers under test: `helsekort serve` and the baseline app, each a process group of its own."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import httpx

from bench.baseline import DSN_VARIABLE

Server = Literal["granian", "uvicorn"]
PROJECT_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
_APP_TARGET = "backend.app:app_factory"
_BASELINE_TARGET = "bench.baseline:app_factory"


class ServerFailed(RuntimeError):
    """A server exited or did not become ready; the message ends with the tail of its log."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def app_command(server: Server, port: int, workers: int) -> list[str]:
    return [
        sys.executable, "-m", "backend", "serve", "--host", HOST, "--port", str(port),
        "--server", server, "--workers", str(workers),
    ]  # fmt: skip


def baseline_command(server: Server, port: int, workers: int) -> list[str]:
    """The very command line `helsekort serve` uses for the app, pointed at the baseline app instead."""
    from backend.cli import _server_command

    command = _server_command(argparse.Namespace(server=server, host=HOST, port=port, workers=workers))
    if _APP_TARGET not in command:
        raise ServerFailed(f"backend.cli no longer serves {_APP_TARGET}; update bench/servers.py")
    return [_BASELINE_TARGET if part == _APP_TARGET else part for part in command]


class ServerProcess:
    """One server in its own session, so that stopping it also stops the workers it spawned."""

    def __init__(self, name: str, command: Sequence[str], env: Mapping[str, str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(  # our own interpreter and arguments
            list(command),
            env=dict(env),
            cwd=PROJECT_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    async def wait_ready(self, url: str, timeout_s: float = 60.0) -> None:
        """Poll `url` until it answers 200; fail early when the process exits."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._exited():  # not reaped here, so that stop() can still signal the group safely
                raise ServerFailed(f"{self.name} exited during start-up:\n{self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                async with httpx.AsyncClient(timeout=2) as http:
                    if (await http.get(url)).status_code == 200:
                        return
            await asyncio.sleep(0.1)
        raise ServerFailed(f"{self.name} was not ready at {url} after {timeout_s:.0f} s:\n{self.log_tail()}")

    def _exited(self) -> bool:
        """True once the leader has exited; it stays unreaped, so its group id cannot be reused yet."""
        if self.process.returncode is not None:
            return True
        try:
            return os.waitid(os.P_PID, self.process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
        except ChildProcessError:
            return True

    def stop(self, grace_s: float = 10.0) -> None:
        """SIGTERM the process group; SIGKILL whatever of the group is left after the grace period."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            deadline = time.monotonic() + grace_s
            while not self._exited() and time.monotonic() < deadline:
                time.sleep(0.05)
            # Workers may outlive their parent by a moment; the leader is not reaped yet, so the group is ours.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self._log.close()


def server_env(*, database_url: str, data_dir: Path) -> dict[str, str]:
    """The environment both servers run with: the bench database, dev mode, a throwaway data dir."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("HELSEKORT_")}
    env.update(
        DATABASE_URL=database_url,
        HELSEKORT_ENV="dev",
        HELSEKORT_DATA_DIR=str(data_dir),
        PYTHONPATH=os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
        PYTHONUNBUFFERED="1",
    )
    env[DSN_VARIABLE] = database_url
    if level := os.environ.get("HELSEKORT_LOG_LEVEL"):
        env["HELSEKORT_LOG_LEVEL"] = level
    return env
