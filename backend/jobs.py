"""Background work run by `helsekort worker`: every domain's due jobs, registered here in one list."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from backend.settings import Settings

log = logging.getLogger("helsekort.worker")

# A job does what is due now and returns how many items it handled (0 when idle). Domains are
# imported lazily so that the worker's start-up, and `helsekort --help`, stay cheap.
Job = Callable[[Settings], Awaitable[int]]


async def _push_notifications(settings: Settings) -> int:
    from backend.notifications.worker import push_job

    return await push_job(settings)


async def _lab_result_releases(settings: Settings) -> int:
    from backend.labs.service import announce_due_releases

    return await announce_due_releases(settings)


async def _prescription_reminders(settings: Settings) -> int:
    from backend.medications.prescriptions import remind_expiring_prescriptions

    return await remind_expiring_prescriptions(settings)


async def _cms_scheduled_publishing(settings: Settings) -> int:
    from backend.cms.service import publish_due_pages

    return await publish_due_pages(settings)


async def _expired_idempotency_keys(settings: Settings) -> int:
    from backend.core.idempotency import purge_expired_keys

    return await purge_expired_keys()


async def _expired_rate_limit_windows(settings: Settings) -> int:
    from backend.core.ratelimit import purge_job

    return await purge_job()


WORKER_JOBS: list[tuple[str, Job]] = [
    # Releases first, so a result that became due is announced and pushed in the same round.
    ("lab-result-releases", _lab_result_releases),
    ("cms-scheduled-publishing", _cms_scheduled_publishing),
    # Before the pushes too: a reminder claimed in this round is sent in it.
    ("prescription-reminders", _prescription_reminders),
    ("push-notifications", _push_notifications),
    ("expired-idempotency-keys", _expired_idempotency_keys),
    ("expired-rate-limit-windows", _expired_rate_limit_windows),
]


async def _close_push_senders() -> None:
    from backend.notifications.worker import close_push_senders

    await close_push_senders()


# Run once when the worker stops (connections to APNs and the like).
WORKER_SHUTDOWN: list[Callable[[], Awaitable[None]]] = [_close_push_senders]


async def _sync_content(directory: Path, *, force: bool) -> Any:
    from backend.cms.sync import sync_content

    return await sync_content(directory, force=force)


async def load_drug_catalogue(path: Path) -> str:
    """`helsekort catalogue load FILE`: the medications domain's drug catalogue (FEST)."""
    from backend.medications.catalogue import load_catalogue

    return await load_catalogue(path)


# The CMS's loader for content/ (`helsekort content sync`, `make run`).
content_sync: Callable[..., Awaitable[Any]] | None = _sync_content


async def run_worker(settings: Settings, *, once: bool, idle_sleep: float = 1.0) -> int:
    """Run every job until SIGTERM (or once); a failing job is logged and retried next round."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        while not stop.is_set():
            handled = 0
            for name, job in WORKER_JOBS:
                try:
                    count = await job(settings)
                except Exception:
                    # One job's failure (a database blip, a bug) must not stop the others.
                    log.exception("job failed", extra={"job": name})
                    count = 0
                if count:
                    log.info("job ran", extra={"job": name, "handled": count})
                handled += count
            if once:
                return 0
            if handled == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=idle_sleep)
        return 0
    finally:
        for hook in WORKER_SHUTDOWN:
            await hook()
