"""The `helsekort worker` job: registered, refuses to pretend when APNs is not configured, sends when it is."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import replace

import asyncpg
import httpx
import pytest
from litestar import Litestar

from backend.core.events import EventType
from backend.jobs import WORKER_JOBS, Job
from backend.notifications import worker
from backend.settings import ApnsSettings, Settings
from tests.factories import new_citizen
from tests.notifications.conftest import append, event_row, received_by, register
from tests.support.mock_apns import MockApns


@pytest.fixture
async def push_job() -> AsyncIterator[Job]:
    [job] = [job for name, job in WORKER_JOBS if name == "push-notifications"]
    yield job
    await worker.close_push_senders()


async def test_without_apns_configuration_nothing_is_claimed_and_the_error_is_logged_once(
    client: httpx.AsyncClient,
    app: Litestar,
    db: asyncpg.Connection,
    settings: Settings,
    push_job: Job,
    caplog: pytest.LogCaptureFixture,
) -> None:
    citizen = await new_citizen(client, app)
    await register(client, citizen)
    event_id = await append(citizen.patient_id, EventType.LAB_RESULT_RELEASED)
    worker._reported.discard("unconfigured")

    with caplog.at_level(logging.ERROR, logger="helsekort.notifications.worker"):
        assert await push_job(replace(settings, apns=ApnsSettings())) == 0
        assert await push_job(replace(settings, apns=ApnsSettings())) == 0

    row = await event_row(db, event_id)
    assert (row["claimed_by"], row["attempts"], row["dispatched_at"]) == (None, 0, None)
    errors = [record.getMessage() for record in caplog.records if record.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "HELSEKORT_APNS_KEY_FILE" in errors[0]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_with_apns_configured_the_job_sends_what_is_due_and_serves_its_metrics(
    client: httpx.AsyncClient,
    app: Litestar,
    db: asyncpg.Connection,
    settings: Settings,
    apns_mock: MockApns,
    apns_settings: ApnsSettings,
    push_job: Job,
) -> None:
    citizen = await new_citizen(client, app)
    token = await register(client, citizen, locale="en")
    event_id = await append(citizen.patient_id, EventType.EMERGENCY_ACCESS_OPENED)

    port = _free_port()
    worker._reported.discard("metrics")

    handled = await push_job(replace(settings, apns=apns_settings, quiet_hours="", worker_metrics_port=port))

    assert handled >= 1
    [item] = received_by(apns_mock, token)
    assert item.payload["aps"]["alert"]["body"] == "A health professional has used emergency access to your information"
    assert (await event_row(db, event_id))["dispatched_at"] is not None
    async with httpx.AsyncClient() as http:
        metrics = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    sent = next(
        line for line in metrics.splitlines() if line.startswith('helsekort_push_sent_total{transport="apns"} ')
    )
    assert float(sent.split()[1]) >= 1
    assert "helsekort_push_queue_age_seconds" in metrics
    assert 'helsekort_push_sent_total{transport="fcm"}' in metrics  # every transport's series, from the start
