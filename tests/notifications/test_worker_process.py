"""Real `python -m backend worker` processes: a worker killed mid-batch loses nothing, and two workers never send one event twice."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from backend.settings import ApnsSettings
from tests.support.mock_apns import MockApns

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Worker:
    process: asyncio.subprocess.Process
    name: str = ""
    started: asyncio.Event | None = None
    reader: asyncio.Task[None] | None = None


def _worker_env(database_url: str, apns: ApnsSettings, data_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("HELSEKORT_")}
    env.update(
        {
            "DATABASE_URL": database_url,
            "HELSEKORT_ENV": "test",
            "HELSEKORT_DATA_DIR": str(data_dir),
            "HELSEKORT_APNS_ENDPOINT": apns.endpoint or "",
            "HELSEKORT_APNS_CA_FILE": apns.ca_file or "",
            "HELSEKORT_APNS_KEY_FILE": apns.key_file or "",
            "HELSEKORT_APNS_KEY_ID": apns.key_id or "",
            "HELSEKORT_APNS_TEAM_ID": apns.team_id or "",
            "HELSEKORT_APNS_TOPIC": apns.topic or "",
            "HELSEKORT_QUIET_HOURS": "",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


@contextlib.asynccontextmanager
async def workers(env: dict[str, str], count: int) -> AsyncIterator[list[Worker]]:
    """Start `count` worker processes and wait until each has its push sender; stop them afterwards."""
    started: list[Worker] = []
    try:
        for _ in range(count):
            started.append(await start_worker(env))
        async with asyncio.timeout(60):
            for worker in started:
                assert worker.started is not None
                await worker.started.wait()
        yield started
    finally:
        for worker in started:
            if worker.process.returncode is None:
                worker.process.send_signal(signal.SIGTERM)
        for worker in started:
            try:
                async with asyncio.timeout(15):
                    await worker.process.wait()
            except TimeoutError:
                worker.process.kill()
                await worker.process.wait()
            if worker.reader is not None:
                await worker.reader


async def start_worker(env: dict[str, str]) -> Worker:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "backend",
        "worker",
        env=env,
        cwd=str(ROOT),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    worker = Worker(process=process, started=asyncio.Event())

    async def read() -> None:
        assert process.stdout is not None
        async for line in process.stdout:
            text = line.decode()
            if "sending push notifications as" in text:
                worker.name = text.rsplit(" ", 1)[-1].strip()
                assert worker.started is not None
                worker.started.set()

    worker.reader = asyncio.create_task(read())
    return worker


async def outbox_of_citizens(db: asyncpg.Connection, patients: int, per_patient: int) -> tuple[list[int], set[str]]:
    """Test data in bulk: citizens with one device each and `per_patient` medication-list events each.

    Written with SQL rather than through the API to make thousands of events quickly; the rows are the
    ones the API and core/events.append_event write.
    """
    async with db.transaction():
        patient_ids = [
            row["id"]
            for row in await db.fetch(
                """
                WITH created AS (
                    INSERT INTO patient (id, fnr_sealed, event_seq, created_at)
                    SELECT gen_random_uuid(), '\\x00'::bytea, $2, now() FROM generate_series(1, $1) RETURNING id
                ), identity AS (
                    INSERT INTO patient_identity (fnr_digest, patient_id) SELECT uuid_send(gen_random_uuid()), id FROM created
                )
                SELECT id FROM created
                """,
                patients,
                per_patient,
            )
        ]
        tokens = await db.fetch(
            """
            INSERT INTO push_device (id, patient_id, token, platform, environment, bundle_id, locale, registered_at)
            SELECT gen_random_uuid(), p, encode(sha256(p::text::bytea), 'hex'), 'ios', 'production',
                   'no.helsekort.app', 'nb', now()
            FROM unnest($1::uuid[]) AS p RETURNING token
            """,
            patient_ids,
        )
        events = await db.fetch(
            """
            INSERT INTO event (patient_id, seq, type, resource_type, resource_id, at, available_at, attempts)
            SELECT p, n, 'medications.updated', 'medication-list', gen_random_uuid()::text, now(), now(), 0
            FROM unnest($1::uuid[]) AS p, generate_series(1, $2) AS n RETURNING id
            """,
            patient_ids,
            per_patient,
        )
    return [row["id"] for row in events], {row["token"] for row in tokens}


async def wait_for(db: asyncpg.Connection, query: str, *args: object, within: float = 60) -> None:
    async with asyncio.timeout(within):
        while not await db.fetchval(query, *args):  # noqa: ASYNC110 - polling the database, not an event
            await asyncio.sleep(0.02)


UNDISPATCHED = "SELECT count(*) FROM event WHERE id = ANY($1::bigint[]) AND dispatched_at IS NULL"


async def _held(db: asyncpg.Connection, ids: list[int]) -> set[int]:
    """Our events claimed and not yet acknowledged."""
    rows = await db.fetch(
        "SELECT id FROM event WHERE id = ANY($1::bigint[]) AND claimed_by IS NOT NULL AND dispatched_at IS NULL", ids
    )
    return {row["id"] for row in rows}


async def test_a_worker_killed_mid_batch_loses_nothing_and_the_next_worker_finishes(
    db: asyncpg.Connection,
    database_url: str,
    apns_mock: MockApns,
    apns_settings: ApnsSettings,
    tmp_path: Path,
) -> None:
    env = _worker_env(database_url, apns_settings, tmp_path)
    async with workers(env, 1) as [first]:
        ids, tokens = await outbox_of_citizens(db, patients=400, per_patient=10)
        # Mid-batch: freeze the worker once it has finished some batches, while some of our events are
        # claimed but not acknowledged, check that state on the frozen process, and kill it there.
        held: set[int] = set()
        async with asyncio.timeout(60):
            while not held:
                await wait_for(db, f"SELECT ({UNDISPATCHED}) < $2", ids, len(ids) - 1000)
                first.process.send_signal(signal.SIGSTOP)
                held = await _held(db, ids)
                if not held:
                    first.process.send_signal(signal.SIGCONT)
                    await asyncio.sleep(0.01)
        first.process.send_signal(signal.SIGKILL)
        await first.process.wait()
        # A claim the worker sent just before it stopped may still commit after the read above (the server runs
        # it without the client): what the dead worker holds is read again once it no longer changes.
        while True:
            await asyncio.sleep(0.3)
            again = await _held(db, ids)
            if again == held:
                break
            held = again

    claimants = await db.fetch("SELECT DISTINCT claimed_by FROM event WHERE id = ANY($1::bigint[])", list(held))
    assert [row["claimed_by"] for row in claimants] == [first.name]
    left = await db.fetchval(UNDISPATCHED, ids)
    assert 0 < left < len(ids)

    async with workers(env, 1) as [second]:
        # The dead worker's claims are leased: the new worker sends everything else and leaves them alone.
        await wait_for(db, f"SELECT ({UNDISPATCHED}) = $2", ids, len(held))
        await asyncio.sleep(0.5)
        assert await db.fetchval(UNDISPATCHED, ids) == len(held)
        # The lease ends (fast-forwarded rather than waited for): the claims come back and are finished.
        await db.execute(
            "UPDATE event SET claim_expires_at = now() - interval '1 second' WHERE claimed_by = $1", first.name
        )
        await wait_for(db, f"SELECT ({UNDISPATCHED}) = 0", ids)

    delivered = Counter(
        row["event_id"]
        for row in await db.fetch(
            "SELECT event_id FROM push_attempt WHERE event_id = ANY($1::bigint[]) AND outcome = 'delivered'", ids
        )
    )
    assert set(delivered) == set(ids), "every event reached its device"
    resent = {event_id for event_id, count in delivered.items() if count > 1}
    # At least once: only events the dead worker held can have gone out twice (sent, not yet recorded).
    assert resent <= held
    workers_seen = {
        row["worker"]
        for row in await db.fetch("SELECT DISTINCT worker FROM push_attempt WHERE event_id = ANY($1::bigint[])", ids)
    }
    assert workers_seen == {first.name, second.name}
    received = {item.device_token for item in apns_mock.delivered}
    assert tokens <= received


async def test_two_workers_never_send_the_same_event_twice(
    db: asyncpg.Connection,
    database_url: str,
    apns_mock: MockApns,
    apns_settings: ApnsSettings,
    tmp_path: Path,
) -> None:
    env = _worker_env(database_url, apns_settings, tmp_path)
    async with workers(env, 2) as pair:
        ids, _ = await outbox_of_citizens(db, patients=500, per_patient=8)
        await wait_for(db, f"SELECT ({UNDISPATCHED}) = 0", ids)

    attempts = await db.fetch(
        "SELECT event_id, outcome, worker FROM push_attempt WHERE event_id = ANY($1::bigint[])", ids
    )
    per_event = Counter(row["event_id"] for row in attempts)
    assert set(per_event) == set(ids)
    assert max(per_event.values()) == 1, "an event was sent twice"
    assert {row["outcome"] for row in attempts} == {"delivered"}
    # Both took part, and the mock saw each notification exactly once.
    assert {row["worker"] for row in attempts} == {worker.name for worker in pair}
    collapse_ids = Counter(item.collapse_id for item in apns_mock.delivered)
    assert len(collapse_ids) >= len(ids)
    assert max(collapse_ids.values()) == 1
