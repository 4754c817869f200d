"""The push worker: drains the core event log to APNs, at least once, recording every attempt.

One batch: claim due events (`FOR UPDATE SKIP LOCKED` under a lease, so any number of workers may
run and a killed worker's claims come back when its lease ends) → drop the types no rule notifies →
defer result notifications inside quiet hours → find the devices (the patient's, or every follower's
for a topic event) → skip the (event, device) pairs a previous attempt settled → send concurrently
through one `ApnsSender` → record every answer → disable tokens APNs refuses → acknowledge the event,
or defer it with exponential backoff and jitter when some device must be retried.

Acknowledging only after recording means a crash resends rather than loses; the collapse id makes a
resend replace, not duplicate, what the phone shows.

When APNs is not configured the job logs one error and leaves the outbox untouched, so nothing is
claimed, nothing is marked as sent, and the events go out once a configured worker runs.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import time
import uuid
import weakref
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from prometheus_client import Counter, Gauge, start_http_server

from backend.core import events, representation
from backend.core.clock import utcnow
from backend.core.errors import DATABASE_UNAVAILABLE
from backend.core.events import ClaimedEvent
from backend.core.settings import Settings
from backend.notifications import service
from backend.notifications.apns import ApnsConfig, ApnsSender, SendResult
from backend.notifications.rules import REPRESENTED, NotificationRule, QuietHours, collapse_id, render, rule_for
from backend.notifications.service import AttemptRecord, Recipient

log = logging.getLogger("helsekort.notifications.worker")

# Metrics of this process (the worker's own registry is served on HELSEKORT_WORKER_METRICS_PORT).
SENT = Counter("helsekort_push_sent", "Notifications APNs accepted")
FAILED = Counter("helsekort_push_failed", "Notifications given up on, by APNs reason", ["reason"])
RETRIED = Counter("helsekort_push_retried", "Notifications that will be sent again after a back-off")
DISABLED = Counter("helsekort_push_tokens_disabled", "Device tokens disabled after 410/BadDeviceToken")
DEFERRED = Counter("helsekort_push_deferred_quiet_hours", "Events held back until quiet hours end")
EXPIRED = Counter("helsekort_push_expired", "Events older than their notification's lifetime, not sent")
QUEUE_AGE = Gauge("helsekort_push_queue_age_seconds", "Age of the oldest due event not yet dispatched")

DISABLING_REASONS = frozenset({(410, "Unregistered"), (400, "BadDeviceToken")})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential back-off with jitter for events some device must get again (429, 5xx, no answer)."""

    base_seconds: float = 5.0
    cap_seconds: float = 3600.0
    max_attempts: int = 12  # claims of one event; ~ a day of trying at the cap

    def delay(self, attempt: int) -> float:
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** max(attempt - 1, 0))
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not security


@dataclass(frozen=True, slots=True)
class _Send:
    event: ClaimedEvent
    rule: NotificationRule
    recipient: Recipient


def new_worker_id() -> str:
    return f"push:{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class PushDispatcher:
    """Sends due events through one `ApnsSender`; create it and use it in one event loop."""

    def __init__(
        self,
        sender: ApnsSender,
        *,
        quiet_hours: QuietHours | None,
        worker_id: str | None = None,
        batch_size: int = 500,
        lease_seconds: float = 120.0,
        max_in_flight: int = 400,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.sender = sender
        self.quiet_hours = quiet_hours
        self.worker_id = worker_id or new_worker_id()
        self.batch_size = batch_size
        # Far longer than a batch can take (sends time out after sender.timeout), so a live worker's
        # claims never expire under it and no other worker sends the same event at the same time.
        self.lease_seconds = lease_seconds
        self._in_flight = asyncio.Semaphore(max_in_flight)
        self.retry = retry or RetryPolicy()
        self._queue_age_checked = 0.0

    async def drain(self, *, budget_seconds: float | None = None) -> int:
        """Run batches until nothing is due (or the budget is spent); returns the events handled.

        A batch whose every event went back to wait for quiet hours ends the drain too: should the
        database's clock run ahead of ours, those events would otherwise be claimed again at once.
        """
        started = time.monotonic()
        handled = 0
        while True:
            count = await self.run_batch()
            handled += count
            if count == 0 or (budget_seconds is not None and time.monotonic() - started > budget_seconds):
                return handled

    async def run_batch(self) -> int:
        """Claim, send and settle one batch; returns how many events it settled or attempted (not those held for quiet hours)."""
        claimed = await events.claim_events(self.worker_id, limit=self.batch_size, lease_seconds=self.lease_seconds)
        await self._update_queue_age(force=not claimed)
        if not claimed:
            return 0
        now = utcnow()
        done: list[ClaimedEvent] = []
        quiet = 0
        deferred: list[tuple[ClaimedEvent, datetime]] = []
        due: list[tuple[ClaimedEvent, NotificationRule]] = []
        for event in claimed:
            rule = rule_for(event.type, citizen_visible=event.citizen_visible)
            if rule is None:
                done.append(event)
                continue
            quiet_end = self.quiet_hours.ends_after(now) if rule.quiet_hours and self.quiet_hours else None
            if quiet_end is not None:
                DEFERRED.inc()
                quiet += 1
                deferred.append((event, quiet_end))
            elif event.at + rule.lifetime <= now:
                EXPIRED.inc()
                log.info("push expired before it could be sent", extra={"event": event.id, "type": event.type})
                done.append(event)
            else:
                due.append((event, rule))

        sends = await self._sends(due)
        results = await asyncio.gather(*(self._send(send) for send in sends))
        attempts = await self._settle(sends, results, now)
        await service.record_attempts(attempts)

        retry_events = {attempt.event_id for attempt in attempts if attempt.outcome == "retry"}
        for event, _ in due:
            if event.id in retry_events:
                deferred.append((event, now + timedelta(seconds=self.retry.delay(event.attempts))))
            else:
                done.append(event)
        await events.ack_events(self.worker_id, done)
        for event, until in deferred:
            await events.defer_event(self.worker_id, event, until)
        return len(claimed) - quiet

    async def _sends(self, due: list[tuple[ClaimedEvent, NotificationRule]]) -> list[_Send]:
        patient_devices = await service.devices_of_patients(e.patient_id for e, _ in due if e.patient_id)
        topic_devices = await service.devices_following(e.topic for e, _ in due if e.patient_id is None and e.topic)
        # Only events claimed before can have settled deliveries; the common first attempt skips the query.
        settled = await service.settled_deliveries([e.id for e, _ in due if e.attempts > 1])
        sends: list[_Send] = []
        for event, rule in due:
            if event.patient_id is not None:
                recipients = patient_devices.get(event.patient_id, [])
            else:
                recipients = topic_devices.get(event.topic or "", [])
            sends.extend(
                _Send(event, rule, recipient)
                for recipient in recipients
                if (event.id, recipient.device_id) not in settled
            )
        sends += await self._representative_sends(due, settled)
        return sends

    async def _representative_sends(
        self, due: list[tuple[ClaimedEvent, NotificationRule]], settled: set[tuple[int, uuid.UUID]]
    ) -> list[_Send]:
        """Those who represent her and whose scopes cover the event get "there is news", naming no one."""
        represented = await representation.representatives_of((e.patient_id for e, _ in due if e.patient_id), utcnow())
        if not represented:
            return []
        devices = await service.devices_of_patients(rep for reps in represented.values() for rep in reps)
        return [
            _Send(event, REPRESENTED, recipient)
            for event, _ in due
            if event.patient_id is not None
            for representative, scopes in represented.get(event.patient_id, {}).items()
            if representation.covers_resource_type(scopes, event.resource_type)
            for recipient in devices.get(representative, [])
            if (event.id, recipient.device_id) not in settled
        ]

    async def _send(self, send: _Send) -> SendResult:
        event, rule = send.event, send.rule
        async with self._in_flight:
            return await self.sender.send(
                send.recipient.token,
                "sandbox" if send.recipient.environment == "sandbox" else "production",
                # A representative's push carries no resource id: it must not point at whom it is about.
                render(rule, send.recipient.locale, "" if rule is REPRESENTED else event.resource_id),
                collapse_id=collapse_id(rule, event.resource_type, event.resource_id),
                priority=rule.priority,
                expiration=event.at + rule.lifetime,
            )

    async def _settle(self, sends: list[_Send], results: list[SendResult], sent_at: datetime) -> list[AttemptRecord]:
        """One record per send; tokens APNs refuses are disabled here."""
        attempts: list[AttemptRecord] = []
        failed: defaultdict[str, int] = defaultdict(int)
        for send, result in zip(sends, results, strict=True):
            reason = result.reason
            if result.delivered:
                outcome = "delivered"
                SENT.inc()
            elif result.retryable and send.event.attempts < self.retry.max_attempts:
                outcome = "retry"
                RETRIED.inc()
            elif (result.status, result.reason) in DISABLING_REASONS:
                # APNs's timestamp says since when the token is invalid; a 400 has none, so the send
                # time stands in: a registration newer than that is a new token and stays active.
                since = (
                    datetime.fromtimestamp(result.timestamp / 1000, UTC) if result.timestamp is not None else sent_at
                )
                if await service.disable_device(send.recipient, f"{result.status} {result.reason}", since, sent_at):
                    outcome = "disabled"
                    DISABLED.inc()
                else:
                    outcome = "failed"
                    reason = f"{result.reason} (token registered again since)"
            else:
                outcome = "failed"
                failed[result.reason or str(result.status)] += 1
            if outcome == "failed":
                FAILED.labels(reason=result.reason or str(result.status)).inc()
            attempts.append(
                AttemptRecord(
                    event_id=send.event.id,
                    event_type=send.event.type,
                    device_id=send.recipient.device_id,
                    # The device's owner, for a topic event too: every send is recorded in a patient's rows.
                    patient_id=send.recipient.patient_id,
                    outcome=outcome,
                    status=result.status,
                    reason=reason[:64] if reason else None,
                    apns_id=result.apns_id,
                    worker=self.worker_id,
                    at=sent_at,
                )
            )
        if failed:
            log.warning("push notifications failed without retry", extra={"reasons": dict(failed)})
        return attempts

    async def _update_queue_age(self, *, force: bool) -> None:
        if force or time.monotonic() - self._queue_age_checked > 5.0:
            self._queue_age_checked = time.monotonic()
            QUEUE_AGE.set(await service.outbox_age_seconds())


# --- the `helsekort worker` job ---------------------------------------------------------------------------

# One dispatcher (and so one APNs sender and its connections) per event loop.
_dispatchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, PushDispatcher] = weakref.WeakKeyDictionary()
_reported: set[str] = set()


def _report_once(key: str, message: str) -> None:
    if key not in _reported:
        _reported.add(key)
        log.error(message)


def _dispatcher(settings: Settings) -> PushDispatcher | None:
    loop = asyncio.get_running_loop()
    dispatcher = _dispatchers.get(loop)
    if dispatcher is not None:
        return dispatcher
    if not settings.apns.configured:
        _report_once(
            "unconfigured",
            "push is not configured (HELSEKORT_APNS_KEY_FILE, _KEY_ID, _TEAM_ID, _TOPIC): "
            "no events are claimed and nothing is sent until it is",
        )
        return None
    if settings.worker_metrics_port and "metrics" not in _reported:
        _reported.add("metrics")
        start_http_server(settings.worker_metrics_port, addr="0.0.0.0")  # noqa: S104 - counters only, no personal data
        log.info("worker metrics on port %d, path /metrics", settings.worker_metrics_port)
    dispatcher = PushDispatcher(
        ApnsSender(ApnsConfig.from_settings(settings.apns)),
        quiet_hours=QuietHours.parse(settings.quiet_hours),
    )
    _dispatchers[loop] = dispatcher
    print(f"helsekort worker: sending push notifications as {dispatcher.worker_id}", flush=True)
    return dispatcher


async def close_push_senders() -> None:
    """Close this loop's APNs connections (the worker's jobs have no shutdown hook; tests call this)."""
    dispatcher = _dispatchers.pop(asyncio.get_running_loop(), None)
    if dispatcher is not None:
        await dispatcher.sender.close()


async def push_job(settings: Settings) -> int:
    """Send what is due (for up to a few seconds, so other jobs get their turn); returns events handled."""
    dispatcher = _dispatcher(settings)
    if dispatcher is None:
        return 0
    try:
        return await dispatcher.drain(budget_seconds=5.0)
    except DATABASE_UNAVAILABLE as exc:
        # Claimed events come back when their lease ends; the next run tries again.
        log.warning("push worker lost the database", extra={"error": type(exc).__name__})
        return 0
