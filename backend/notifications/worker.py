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
from typing import Literal

from prometheus_client import Counter, Gauge, start_http_server

from backend.core import events, representation
from backend.core.clock import utcnow
from backend.core.errors import DATABASE_UNAVAILABLE
from backend.core.events import ClaimedEvent
from backend.core.settings import Settings
from backend.notifications import service
from backend.notifications.apns import ApnsConfig, ApnsSender, SendResult
from backend.notifications.fcm import INVALID_TOKEN, FcmSender
from backend.notifications.rules import (
    REPRESENTED,
    NotificationRule,
    QuietHours,
    collapse_id,
    render,
    render_android,
    rule_for,
)
from backend.notifications.service import AttemptRecord, Choice, InboxEntry, Recipient

log = logging.getLogger("helsekort.notifications.worker")

Transport = Literal["apns", "fcm"]

# Metrics of this process (the worker's own registry is served on HELSEKORT_WORKER_METRICS_PORT), per transport:
# `apns` (iOS) and `fcm` (Android).
SENT = Counter("helsekort_push_sent", "Notifications the push service accepted", ["transport"])
FAILED = Counter("helsekort_push_failed", "Notifications given up on, by the service's reason", ["transport", "reason"])
RETRIED = Counter("helsekort_push_retried", "Notifications that will be sent again after a back-off", ["transport"])
DISABLED = Counter(
    "helsekort_push_tokens_disabled", "Device tokens disabled after the service refused them", ["transport"]
)
DEFERRED = Counter("helsekort_push_deferred_quiet_hours", "Events held back until quiet hours end")
EXPIRED = Counter("helsekort_push_expired", "Events older than their notification's lifetime, not sent")
MUTED = Counter("helsekort_push_muted", "Sends left out because the citizen turned the kind off", ["transport"])
INBOXED = Counter("helsekort_push_inbox_stored", "Notifications stored in citizens' inboxes")
QUEUE_AGE = Gauge("helsekort_push_queue_age_seconds", "Age of the oldest due event not yet dispatched")
SEND_AGE = Gauge(
    "helsekort_push_send_age_seconds", "Age of the oldest event in the last batch sent, per transport", ["transport"]
)
for _transport in ("apns", "fcm"):
    for _metric in (SENT, RETRIED, DISABLED, MUTED):
        _metric.labels(transport=_transport)

# (status, reason) that mean the token is dead, per transport; the token is disabled unless registered again since.
DISABLING_REASONS = {
    "apns": frozenset({(410, "Unregistered"), (400, "BadDeviceToken")}),
    "fcm": frozenset({(404, "UNREGISTERED"), (400, INVALID_TOKEN)}),
}


def transport_of(recipient: Recipient) -> Transport:
    return "fcm" if recipient.platform == "android" else "apns"


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
    """Sends due events through one `ApnsSender` (iOS) and one `FcmSender` (Android); create it and use it in one
    event loop. Either may be None: devices of a platform with no sender are left out (and logged once)."""

    def __init__(
        self,
        sender: ApnsSender | None,
        *,
        fcm: FcmSender | None = None,
        quiet_hours: QuietHours | None,
        worker_id: str | None = None,
        batch_size: int = 500,
        lease_seconds: float = 120.0,
        max_in_flight: int = 400,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.sender = sender
        self.fcm = fcm
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

        The next batch is claimed while this one is sent, so the database's part of one batch overlaps the
        sending of the other (a claim skips events under a live lease, ours included, so no event is in both).
        What is claimed when the drain ends is handled before it returns, not left to wait for its lease.
        """
        started = time.monotonic()
        handled = 0
        claimed = await self._claim()
        while claimed:
            following = asyncio.create_task(self._claim())
            try:
                count = await self._handle(claimed)
            except BaseException:
                # What it claimed comes back when the lease ends, as after a crash; its own error is this one's.
                following.cancel()
                following.add_done_callback(lambda task: task.cancelled() or task.exception())
                raise
            claimed = await following
            handled += count
            if count == 0 or (budget_seconds is not None and time.monotonic() - started > budget_seconds):
                if claimed:
                    handled += await self._handle(claimed)
                return handled
        return handled

    async def run_batch(self) -> int:
        """Claim, send and settle one batch; returns how many events it settled or attempted (not those held for quiet hours)."""
        claimed = await self._claim()
        return await self._handle(claimed) if claimed else 0

    async def _claim(self) -> list[ClaimedEvent]:
        claimed = await events.claim_events(self.worker_id, limit=self.batch_size, lease_seconds=self.lease_seconds)
        await self._update_queue_age(force=not claimed)
        return claimed

    async def _handle(self, claimed: list[ClaimedEvent]) -> int:
        """Send and settle one claimed batch; returns how many events it settled or attempted."""
        now = utcnow()
        done: list[ClaimedEvent] = []
        quiet = 0
        deferred: list[tuple[ClaimedEvent, datetime]] = []
        due: list[tuple[ClaimedEvent, NotificationRule]] = []
        told = [
            (event, rule) for event in claimed if (rule := rule_for(event.type, citizen_visible=event.citizen_visible))
        ]
        # The inbox first, at once, whatever the push does (quiet hours, a kind turned off, an expired push).
        stored = await service.store_in_inbox([_inbox_entry(event, rule) for event, rule in told])
        INBOXED.inc(stored)
        choices = await service.preferences_of(event.patient_id for event, _ in told if event.patient_id)
        rules = {event.id: rule for event, rule in told}
        for event in claimed:
            rule = rules.get(event.id)
            if rule is None:
                done.append(event)
                continue
            choice = choices.get(event.patient_id) if event.patient_id else None
            if choice is not None and rule.preference in choice.disabled:
                done.append(event)  # she turned this kind off: in her inbox, on no phone
                continue
            quiet_hours = (choice.quiet_hours if choice and choice.quiet_hours else None) or self.quiet_hours
            quiet_end = quiet_hours.ends_after(now) if rule.quiet_hours and quiet_hours else None
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

        sends = await self._sends(due, choices)
        results = await asyncio.gather(*(self._send(send) for send in sends))
        sent = [(send, result) for send, result in zip(sends, results, strict=True) if result is not None]
        attempts = await self._settle([send for send, _ in sent], [result for _, result in sent], now)
        await service.record_attempts(attempts)

        # An event some device must get again waits the back-off, or longer when the service said so (Retry-After).
        waits: dict[int, float] = {}
        for attempt, (_, result) in zip(attempts, sent, strict=True):
            if attempt.outcome == "retry":
                waits[attempt.event_id] = max(waits.get(attempt.event_id, 0.0), result.retry_after or 0.0)
        for event, _ in due:
            if event.id in waits:
                delay = max(self.retry.delay(event.attempts), min(waits[event.id], self.retry.cap_seconds))
                deferred.append((event, now + timedelta(seconds=delay)))
            else:
                done.append(event)
        await events.ack_events(self.worker_id, done)
        for event, until in deferred:
            await events.defer_event(self.worker_id, event, until)
        return len(claimed) - quiet

    async def _sends(
        self, due: list[tuple[ClaimedEvent, NotificationRule]], choices: dict[uuid.UUID, Choice]
    ) -> list[_Send]:
        patient_devices = await service.devices_of_patients(e.patient_id for e, _ in due if e.patient_id)
        topic_devices = await service.devices_following(e.topic for e, _ in due if e.patient_id is None and e.topic)
        # Followers' own choices (a topic event has no patient of its own).
        followers = {r.patient_id for devices in topic_devices.values() for r in devices} - set(choices)
        choices = {**choices, **await service.preferences_of(followers)}
        # Only events claimed before can have settled deliveries; the common first attempt skips the query.
        settled = await service.settled_deliveries([e.id for e, _ in due if e.attempts > 1])
        sends: list[_Send] = []
        for event, rule in due:
            if event.patient_id is not None:
                recipients = patient_devices.get(event.patient_id, [])
            else:
                recipients = topic_devices.get(event.topic or "", [])
            for recipient in recipients:
                if (event.id, recipient.device_id) in settled:
                    continue
                choice = choices.get(recipient.patient_id)
                if choice is not None and rule.preference in choice.disabled:
                    MUTED.labels(transport=transport_of(recipient)).inc()
                    continue
                sends.append(_Send(event, rule, recipient))
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

    async def _send(self, send: _Send) -> SendResult | None:
        """One send through the device's transport; None when that transport is not configured here."""
        event, rule, recipient = send.event, send.rule, send.recipient
        collapse = collapse_id(rule, event.resource_type, event.resource_id)
        # A representative's push carries no resource id: it must not point at whom it is about.
        resource_id = "" if rule is REPRESENTED else event.resource_id
        async with self._in_flight:
            if transport_of(recipient) == "fcm":
                if self.fcm is None:
                    _report_once(
                        "no-fcm", "an Android device is registered but HELSEKORT_FCM_CREDENTIALS_FILE is not set"
                    )
                    return None
                return await self.fcm.send(
                    recipient.token,
                    render_android(rule, recipient.locale, resource_id, collapse),
                    collapse_key=collapse,
                    priority="high" if rule.priority == 10 else "normal",
                    expiration=event.at + rule.lifetime,
                )
            if self.sender is None:
                _report_once("no-apns", "an iOS device is registered but APNs is not configured")
                return None
            return await self.sender.send(
                recipient.token,
                "sandbox" if recipient.environment == "sandbox" else "production",
                render(rule, recipient.locale, resource_id),
                collapse_id=collapse,
                priority=rule.priority,
                expiration=event.at + rule.lifetime,
            )

    async def _settle(self, sends: list[_Send], results: list[SendResult], sent_at: datetime) -> list[AttemptRecord]:
        """One record per send; tokens APNs refuses are disabled here."""
        attempts: list[AttemptRecord] = []
        failed: defaultdict[str, int] = defaultdict(int)
        oldest: dict[Transport, datetime] = {}
        for send, result in zip(sends, results, strict=True):
            reason = result.reason
            transport = transport_of(send.recipient)
            oldest[transport] = min(oldest.get(transport, send.event.at), send.event.at)
            if result.delivered:
                outcome = "delivered"
                SENT.labels(transport=transport).inc()
            elif result.retryable and send.event.attempts < self.retry.max_attempts:
                outcome = "retry"
                RETRIED.labels(transport=transport).inc()
            elif (result.status, result.reason) in DISABLING_REASONS[transport]:
                # APNs's timestamp says since when the token is invalid; a 400 has none, so the send
                # time stands in: a registration newer than that is a new token and stays active.
                since = (
                    datetime.fromtimestamp(result.timestamp / 1000, UTC) if result.timestamp is not None else sent_at
                )
                if await service.disable_device(send.recipient, f"{result.status} {result.reason}", since, sent_at):
                    outcome = "disabled"
                    DISABLED.labels(transport=transport).inc()
                else:
                    outcome = "failed"
                    reason = f"{result.reason} (token registered again since)"
            else:
                outcome = "failed"
                failed[result.reason or str(result.status)] += 1
            if outcome == "failed":
                FAILED.labels(transport=transport, reason=result.reason or str(result.status)).inc()
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
        for transport, at in oldest.items():
            SEND_AGE.labels(transport=transport).set(max((sent_at - at).total_seconds(), 0.0))
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
    if not settings.apns.configured and not settings.fcm.configured:
        _report_once(
            "unconfigured",
            "push is not configured (HELSEKORT_APNS_KEY_FILE, _KEY_ID, _TEAM_ID, _TOPIC; HELSEKORT_FCM_CREDENTIALS_FILE): "
            "no events are claimed and nothing is sent until it is",
        )
        return None
    if settings.worker_metrics_port and "metrics" not in _reported:
        _reported.add("metrics")
        start_http_server(settings.worker_metrics_port, addr="0.0.0.0")  # noqa: S104 - counters only, no personal data
        log.info("worker metrics on port %d, path /metrics", settings.worker_metrics_port)
    dispatcher = PushDispatcher(
        ApnsSender(ApnsConfig.from_settings(settings.apns)) if settings.apns.configured else None,
        fcm=FcmSender(settings.fcm) if settings.fcm.configured else None,
        quiet_hours=QuietHours.parse(settings.quiet_hours),
    )
    _dispatchers[loop] = dispatcher
    print(f"helsekort worker: sending push notifications as {dispatcher.worker_id}", flush=True)
    return dispatcher


async def close_push_senders() -> None:
    """Close this loop's APNs and FCM connections (the worker's jobs have no shutdown hook; tests call this)."""
    dispatcher = _dispatchers.pop(asyncio.get_running_loop(), None)
    if dispatcher is not None:
        if dispatcher.sender is not None:
            await dispatcher.sender.close()
        if dispatcher.fcm is not None:
            await dispatcher.fcm.close()


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


def _inbox_entry(event: ClaimedEvent, rule: NotificationRule) -> InboxEntry:
    return InboxEntry(
        event_id=event.id,
        patient_id=event.patient_id,
        topic=event.topic,
        kind=rule.kind,
        resource_type=event.resource_type,
        resource_id=event.resource_id,
        at=event.at,
    )


_purged_at: dict[str, float] = {}


async def inbox_purge_job(settings: Settings) -> int:
    """Delete inbox notifications older than 12 months, at most once an hour per worker process."""
    if time.monotonic() - _purged_at.get("inbox", -3600.0) < 3600.0:
        return 0
    _purged_at["inbox"] = time.monotonic()
    try:
        return await service.purge_inbox()
    except DATABASE_UNAVAILABLE as exc:
        log.warning("inbox purge lost the database", extra={"error": type(exc).__name__})
        return 0
