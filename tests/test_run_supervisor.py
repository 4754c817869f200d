"""`make run` (`helsekort serve --prepare --with-worker`): API and worker together, one embedded PostgreSQL,
and every stop ends every process, the postmaster included, within a bound (issue 12: a stop once hung)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from backend.db.embedded import STOP_TIMEOUT_SECONDS
from backend.supervisor import GRACE_SECONDS
from tests.test_cli import ROOT, _env, _free_port

# The children's grace, then the embedded server's stop bound, and some slack: a stop never takes longer.
STOP_BOUND_SECONDS = GRACE_SECONDS + STOP_TIMEOUT_SECONDS + 5


class Run:
    """One `helsekort serve --with-worker` in a session of its own, as a terminal runs it."""

    def __init__(self, data_dir: Path, *, prepare: bool) -> None:
        self.data_dir = data_dir
        self.port = _free_port()
        self.log_path = data_dir / f"run-{self.port}.log"
        self._log = self.log_path.open("wb")
        command = [sys.executable, "-m", "backend", "serve", "--port", str(self.port), "--with-worker"]
        self.process = subprocess.Popen(
            command + (["--prepare"] if prepare else []),
            cwd=ROOT,
            env=_env(data_dir),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, seconds: float = 180) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        pytest.fail(f"not ready in {seconds} s:\n{self.output()}")

    def descendants(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children(recursive=True)

    def worker(self) -> psutil.Process:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for child in self.descendants():
                with _gone_is_fine():
                    if child.cmdline()[-1:] == ["worker"]:
                        return child
            time.sleep(0.2)
        pytest.fail(f"no worker process:\n{self.output()}")

    def postmaster_pid(self) -> int:
        return int((self.data_dir / "postgres" / "postmaster.pid").read_text().split()[0])

    def ctrl_c(self) -> None:
        """What a terminal does on Ctrl-C: SIGINT to the whole foreground process group."""
        os.killpg(self.process.pid, signal.SIGINT)

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self._log.close()


class _gone_is_fine:
    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, error: object, trace: object) -> bool:
        return isinstance(error, psutil.NoSuchProcess | psutil.ZombieProcess)


def _last_shutdown(data_dir: Path) -> str:
    """How the embedded server was last stopped, from its log: fast (pg_ctl stop) or immediate (escalated)."""
    lines = (data_dir / "postgres" / "log").read_text(errors="replace").splitlines()
    return [line for line in lines if "shutdown request" in line][-1]


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _assert_all_gone(pids: list[int], seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not all(_gone(pid) for pid in pids):
        time.sleep(0.1)
    assert [pid for pid in pids if not _gone(pid)] == []


@pytest.fixture
def data_dir() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="helsekort-run-"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.mark.slow
def test_run_serves_api_and_worker_and_every_stop_ends_everything(data_dir: Path) -> None:
    # Ctrl-C and SIGTERM, alternately, five times on the same data: the stop that once hung must not.
    for attempt, stop in enumerate(("ctrl-c", "sigterm", "ctrl-c", "sigterm", "ctrl-c")):
        run = Run(data_dir, prepare=attempt == 0)
        try:
            run.wait_ready()
            worker = run.worker()
            postmaster = run.postmaster_pid()
            # One embedded server for both: the worker was handed its URL, not a server of its own.
            assert "DATABASE_URL" in worker.environ()
            assert os.getpgid(postmaster) != run.process.pid, "a terminal's Ctrl-C must not reach the postmaster"
            if attempt == 0:
                demo = httpx.get(f"http://127.0.0.1:{run.port}/content/v1/pages", params={"q": "provesvar"}, timeout=10)
                assert "pasientens-provesvar" in demo.text
            processes = [child.pid for child in run.descendants()]
            started = time.monotonic()
            if stop == "ctrl-c":
                run.ctrl_c()
            else:
                run.process.send_signal(signal.SIGTERM)
            try:
                code = run.process.wait(timeout=STOP_BOUND_SECONDS)
            except subprocess.TimeoutExpired:
                pytest.fail(f"stop {attempt} ({stop}) hung:\n{run.output()}")
            assert code == 0, run.output()
            assert time.monotonic() - started < STOP_BOUND_SECONDS
            _assert_all_gone([*processes, postmaster])
            assert not (data_dir / "postgres" / "postmaster.pid").exists()
            assert "fast shutdown" in _last_shutdown(data_dir)
        finally:
            run.close()


@pytest.mark.slow
def test_when_the_worker_dies_the_api_and_the_database_are_stopped_and_the_command_fails(data_dir: Path) -> None:
    run = Run(data_dir, prepare=False)
    try:
        run.wait_ready()
        worker = run.worker()
        postmaster = run.postmaster_pid()
        processes = [child.pid for child in run.descendants()]
        worker.kill()
        code = run.process.wait(timeout=STOP_BOUND_SECONDS)
        assert code != 0
        assert "the worker exited unexpectedly" in run.output()
        _assert_all_gone([*processes, postmaster])
    finally:
        run.close()


@pytest.mark.slow
def test_a_run_killed_outright_leaves_no_process_and_the_next_run_still_stops_the_database(data_dir: Path) -> None:
    first = Run(data_dir, prepare=False)
    try:
        first.wait_ready()
        first.worker()
        postmaster = first.postmaster_pid()
        orphans = [child.pid for child in first.descendants()]
        os.killpg(first.process.pid, signal.SIGKILL)  # the supervisor dies without cleaning up
        first.process.wait(10)
        # Its children were told by the kernel that their parent died (PR_SET_PDEATHSIG) and end too.
        _assert_all_gone(orphans, seconds=STOP_BOUND_SECONDS)
        assert not _gone(postmaster)  # nobody stopped the database: its handle list names a dead process
    finally:
        first.close()
    second = Run(data_dir, prepare=False)
    try:
        second.wait_ready()
        assert second.postmaster_pid() == postmaster  # reused, not started twice
        second.ctrl_c()
        assert second.process.wait(timeout=STOP_BOUND_SECONDS) == 0, second.output()
        _assert_all_gone([postmaster])
        assert not (data_dir / "postgres" / "postmaster.pid").exists()
        # Stopped cleanly by pg_ctl, not by the escalation: the dead run's handle was forgotten.
        assert "fast shutdown" in _last_shutdown(data_dir)
    finally:
        second.close()


_STUBBORN = """
import os, signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
grandchild = subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
print(os.getpid(), grandchild.pid, flush=True)
time.sleep(600)
"""

_SUPERVISE = """
import sys
from backend.supervisor import Supervisor
sys.exit(Supervisor({"stubborn child": [sys.executable, "-c", sys.argv[1]]}, {"PATH": ""}, grace=1.0).run())
"""


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_child_that_ignores_sigterm_is_killed_with_its_group_after_the_grace(signum: int, tmp_path: Path) -> None:
    """The hang of issue 12 (a server ignoring the stop): the supervisor kills it and what it started."""
    output = tmp_path / "out"
    with output.open("wb") as sink:
        supervisor = subprocess.Popen(
            [sys.executable, "-c", _SUPERVISE, _STUBBORN], cwd=ROOT, stdout=sink, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 30
        while not output.read_text().strip() and time.monotonic() < deadline:
            time.sleep(0.05)
        child, grandchild = (int(pid) for pid in output.read_text().split())
        started = time.monotonic()
        supervisor.send_signal(signum)
        assert supervisor.wait(timeout=10) == 0
        assert time.monotonic() - started < 1.0 + 5
        _assert_all_gone([child, grandchild])
    finally:
        if supervisor.poll() is None:
            os.killpg(supervisor.pid, signal.SIGKILL)
