"""Background work run by `helsekort worker`: each domain's due jobs, registered here in one list."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import Any

from backend.settings import Settings

log = logging.getLogger("helsekort.worker")

# A job does what is due now and returns how many items it handled (0 when idle).
Job = Callable[[Settings], Awaitable[int]]

WORKER_JOBS: list[tuple[str, Job]] = []

# The CMS's loader for content/ (set by the CMS capability).
content_sync: Callable[..., Awaitable[Any]] | None = None


async def run_worker(settings: Settings, *, once: bool, idle_sleep: float = 1.0) -> int:
    if not WORKER_JOBS:
        log.error("no background jobs are registered in this build")
        print("helsekort worker: no background jobs are registered in this build; nothing to run")
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    while not stop.is_set():
        handled = 0
        for name, job in WORKER_JOBS:
            count = await job(settings)
            if count:
                log.info("job ran", extra={"job": name, "handled": count})
            handled += count
        if once:
            return 0
        if handled == 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=idle_sleep)
    return 0
