"""The embedded PostgreSQL (pgserver) used when DATABASE_URL is unset: real Postgres, no set-up."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import threading
import time
import warnings
from pathlib import Path
from typing import Any

log = logging.getLogger("helsekort.db")

# pg_ctl's own wait (PGCTLTIMEOUT) is 60 s; a stop never takes longer than this, escalation included.
STOP_TIMEOUT_SECONDS = 30.0
# pgserver's list of the processes holding the server; it is never pruned of processes that died.
_HANDLES_FILE = ".handle_pids.json"
# Group commit (docs/operations.md, "PostgreSQL: embedded or external"): every clinician read commits its audit
# row in a transaction of its own, so under load the server flushes WAL for one tiny commit after another. With
# at least 3 other transactions open, a commit waits 200 µs for more to join its flush. Each commit still
# returns only once its WAL is on disk: durability is unchanged, only flushes are fewer. Measured on 2 cores
# (bench scenario clinician-read-audited): 0.30x the baseline without, 0.38-0.42x with.
SERVER_SETTINGS = {"commit_delay": "200", "commit_siblings": "3"}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _still_our_postmaster(pid: int, data_dir: Path) -> bool:
    """Alive and still the postmaster of this data directory (not a reused process id)."""
    if not _alive(pid):
        return False
    try:
        return str(data_dir) in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return not Path("/proc").is_dir()  # no /proc (macOS): trust the live process id


def _read_handles(data_dir: Path) -> list[int]:
    try:
        return [int(pid) for pid in json.loads((data_dir / _HANDLES_FILE).read_text())]
    except (OSError, ValueError, TypeError):
        return []


def _forget_dead_handles(data_dir: Path) -> None:
    """Drop handles of processes that died without releasing (killed): else pgserver never stops the server."""
    handles = _read_handles(data_dir)
    live = [pid for pid in handles if _alive(pid)]
    if live != handles:
        (data_dir / _HANDLES_FILE).write_text(json.dumps(live))
        log.info("forgot embedded postgres handles of dead processes", extra={"dead": len(handles) - len(live)})


class EmbeddedPostgres:
    """A pgserver instance in the data directory; `stop()` releases this process's handle, within a bound."""

    def __init__(self, data_dir: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pgserver
            from pgserver.postgres_server import PostgresServer

        self.data_dir = (data_dir / "postgres").resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with PostgresServer._lock:
            _forget_dead_handles(self.data_dir)
        self._server: Any = pgserver.get_server(self.data_dir, cleanup_mode="stop")  # type: ignore[attr-defined]
        pid = self._server.get_pid()
        if pid is None:
            raise RuntimeError(f"the embedded postgres in {self.data_dir} did not start")
        self.postmaster_pid: int = pid
        try:
            self._server.psql(
                "".join(f"ALTER SYSTEM SET {name} = {value};\n" for name, value in SERVER_SETTINGS.items())
                + "SELECT pg_reload_conf();\n"
            )
        except (OSError, subprocess.CalledProcessError) as exc:  # slower under load, still correct: serve anyway
            log.warning("embedded postgres settings not applied", extra={"error": str(exc)})
        log.info("embedded postgres started", extra={"data_dir": str(self.data_dir)})

    @property
    def uri(self) -> str:
        return str(self._server.get_uri())

    def uri_for(self, database: str) -> str:
        return str(self._server.get_uri(database))

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """Release the handle; the last one stops the server (fast shutdown), killed if it does not stop in time."""
        if self._server is None:
            return
        server, self._server = self._server, None
        os.environ["PGCTLTIMEOUT"] = str(max(1, int(timeout * 0.6)))
        # pgserver's release takes an inter-process lock and runs `pg_ctl -w stop`: neither may hang us.
        releaser = threading.Thread(target=server.cleanup, name="embedded-postgres-stop", daemon=True)
        releaser.start()
        releaser.join(timeout * 0.8)
        others = [pid for pid in _read_handles(self.data_dir) if pid != os.getpid() and _alive(pid)]
        if others:
            log.info("embedded postgres handle released; other processes still use it", extra={"others": others})
            return
        pid = self.postmaster_pid
        # Immediate shutdown, then kill: the WAL makes both safe, and a stop that hangs is worse.
        for signum, wait in ((signal.SIGQUIT, timeout * 0.1), (signal.SIGKILL, timeout * 0.1)):
            if not _still_our_postmaster(pid, self.data_dir):
                break
            log.warning("embedded postgres did not stop in time; signalling it", extra={"signal": signum.name})
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)
            deadline = time.monotonic() + wait
            while _still_our_postmaster(pid, self.data_dir) and time.monotonic() < deadline:
                time.sleep(0.05)
        log.info("embedded postgres stopped")
