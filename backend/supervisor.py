"""Runs the API server and the worker as one command (`helsekort serve --with-worker`, `make run`).

Each child runs in a session of its own, so a terminal's Ctrl-C reaches only this process, which then
stops every child once, in order, within a bound: SIGTERM to the child's process group, SIGKILL to the
group after GRACE_SECONDS (a second Ctrl-C kills at once). If a child exits on its own, the others are
stopped and the command fails: a dev command shows a crash instead of hiding it behind restarts; in
production each process is supervised separately by the platform (docs/operations.md).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

# Longer than a request may run (statement timeout 15 s), shorter than a platform's usual 30 s grace.
GRACE_SECONDS = 20.0
_PR_SET_PDEATHSIG = 1
_POLL_SECONDS = 0.1


def _end_with_parent() -> None:
    """In the child, before exec: on Linux, SIGTERM it when the supervisor dies, even by SIGKILL."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class _Child:
    name: str
    process: subprocess.Popen[bytes]


@dataclass
class Supervisor:
    commands: Mapping[str, Sequence[str]]
    env: Mapping[str, str]
    grace: float = GRACE_SECONDS
    children: list[_Child] = field(default_factory=list)
    _signals: list[int] = field(default_factory=list)

    def _on_signal(self, signum: int, frame: object) -> None:
        self._signals.append(signum)
        if len(self._signals) > 1:
            self._kill_all(signal.SIGKILL)

    def run(self) -> int:
        """Start every child; return when one exits (non-zero) or on SIGINT/SIGTERM (0), all stopped."""
        previous = {signum: signal.signal(signum, self._on_signal) for signum in (signal.SIGINT, signal.SIGTERM)}
        try:
            for name, command in self.commands.items():
                if self._signals:
                    break
                process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                    list(command),
                    env=dict(self.env),
                    start_new_session=True,
                    preexec_fn=_end_with_parent,  # noqa: PLW1509 - no threads run while the children start
                )
                self.children.append(_Child(name, process))
            exited = self._wait_for_signal_or_exit()
            self.stop()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        if exited is None:
            return 0
        code = exited.process.returncode
        print(
            f"helsekort: the {exited.name} exited unexpectedly (code {code}); everything was stopped", file=sys.stderr
        )
        return code if code and code > 0 else 1

    def _wait_for_signal_or_exit(self) -> _Child | None:
        while not self._signals:
            for child in self.children:
                if child.process.poll() is not None:
                    return child
            time.sleep(_POLL_SECONDS)
        return None

    def stop(self) -> None:
        """SIGTERM to every child's group, wait up to `grace`, SIGKILL whatever is left of each group."""
        self._kill_all(signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        for child in self.children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        # Also reaps what a child left behind in its group (a server's worker processes).
        self._kill_all(signal.SIGKILL)
        for child in self.children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(timeout=5)

    def _kill_all(self, signum: int) -> None:
        for child in self.children:
            # Each child leads its own process group (start_new_session): its group id is its pid.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.process.pid, signum)
