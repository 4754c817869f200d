"""`python -m bench.push_load`: how fast one `helsekort worker` drains a push backlog to the local mock APNs, and its memory.

Starts a bench database (DATABASE_URL's server or an embedded one), the mock APNs and one worker as
separate processes, fills the outbox with a backlog (default 100,000 medication-list events for
10,000 citizens with one device each), and watches the worker drain it: notifications per second
(what APNs accepted, from the attempts table) and the worker's resident memory (VmRSS, and the peak
VmHWM) at the start, a quarter, the middle, three quarters and the end of the drain.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bench.database import bench_database, server_dsn

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Memory:
    rss_mib: float
    peak_mib: float


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (fields 14 and 15 of /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_of(pid: int) -> Memory:
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return Memory(rss_mib=fields["VmRSS"], peak_mib=fields["VmHWM"])


async def fill_backlog(dsn: str, citizens: int, per_citizen: int, *, android_half: bool = False) -> None:
    """Citizens with one phone each (an iPhone; with `android_half`, every other one an Android phone) and
    `per_citizen` medication-list events each, due now."""
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction():
            ids = [
                row["id"]
                for row in await connection.fetch(
                    """
                    WITH created AS (
                        INSERT INTO patient (id, fnr_sealed, event_seq, created_at)
                        SELECT gen_random_uuid(), '\\x00'::bytea, $2, now() FROM generate_series(1, $1) RETURNING id
                    ), identity AS (
                        INSERT INTO patient_identity (fnr_digest, patient_id) SELECT uuid_send(gen_random_uuid()), id FROM created
                    )
                    SELECT id FROM created
                    """,
                    citizens,
                    per_citizen,
                )
            ]
            # An Android phone has an FCM-shaped token (URL-safe base64), an iPhone 64 hex characters.
            await connection.execute(
                """
                INSERT INTO push_device (id, patient_id, token, platform, environment, bundle_id, locale, registered_at)
                SELECT gen_random_uuid(), p,
                       CASE WHEN $2 AND n % 2 = 1
                            THEN 'bench:APA91b' || translate(encode(sha256(p::text::bytea), 'base64'), '+/=', '-_')
                            ELSE encode(sha256(p::text::bytea), 'hex') END,
                       CASE WHEN $2 AND n % 2 = 1 THEN 'android' ELSE 'ios' END,
                       'production', 'no.helsekort.app', (ARRAY['nb', 'nn', 'en', 'se'])[1 + (n % 4)], now()
                FROM unnest($1::uuid[]) WITH ORDINALITY AS u (p, n)
                """,
                ids,
                android_half,
            )
            await connection.execute(
                """
                INSERT INTO event (patient_id, seq, type, resource_type, resource_id, at, available_at, attempts)
                SELECT p, n, 'medications.updated', 'medication-list', gen_random_uuid()::text, now(), now(), 0
                FROM generate_series(1, $2) AS n, unnest($1::uuid[]) AS p
                """,
                ids,
                per_citizen,
            )
        await connection.execute("ANALYZE event; ANALYZE push_device")
    finally:
        await connection.close()


async def start_mock(cert_dir: Path) -> tuple[asyncio.subprocess.Process, dict[str, str]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.support.mock_apns", "--cert-dir", str(cert_dir), "--port", "0",
        cwd=str(ROOT), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert process.stdout is not None
    settings: dict[str, str] = {}
    async with asyncio.timeout(30):
        while len(settings) < 6:
            line = (await process.stdout.readline()).decode().strip()
            if not line:
                raise RuntimeError("the mock APNs exited before it was ready")
            name, _, value = line.partition("=")
            if name.startswith("HELSEKORT_APNS_"):
                settings[name] = value
    return process, settings


async def run(citizens: int, per_citizen: int) -> int:
    total = citizens * per_citizen
    with server_dsn() as (server, where), tempfile.TemporaryDirectory(prefix="helsekort-push-bench-") as tmp:
        print(f"push bench: {where}; backlog {total:,} events for {citizens:,} citizens", flush=True)
        async with bench_database(server) as dsn:
            started = time.monotonic()
            await fill_backlog(dsn, citizens, per_citizen)
            print(f"push bench: backlog written in {time.monotonic() - started:.1f} s", flush=True)
            mock, apns = await start_mock(Path(tmp))
            env = {key: value for key, value in os.environ.items() if not key.startswith("HELSEKORT_")}
            env.update(apns)
            env.update(
                DATABASE_URL=dsn,
                HELSEKORT_ENV="test",
                HELSEKORT_DATA_DIR=str(Path(tmp) / "data"),
                HELSEKORT_QUIET_HOURS="",
                PYTHONPATH=str(ROOT),
            )
            worker = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "backend", "worker", cwd=str(ROOT), env=env,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            watcher = await asyncpg.connect(dsn)
            try:
                return await watch(watcher, worker, mock, total)
            finally:
                await watcher.close()
                for process in (worker, mock):
                    if process.returncode is None:
                        process.send_signal(signal.SIGTERM)
                        await process.wait()


async def watch(
    db: asyncpg.Connection, worker: asyncio.subprocess.Process, mock: asyncio.subprocess.Process, total: int
) -> int:
    count = "SELECT count(*) FROM event WHERE dispatched_at IS NOT NULL"
    samples: list[tuple[str, int, Memory]] = []
    first_at: float | None = None
    marks = [("25%", 0.25), ("middle", 0.5), ("75%", 0.75)]
    while True:
        await asyncio.sleep(0.25)
        if worker.returncode is not None:
            print(f"push bench: the worker exited with {worker.returncode}", flush=True)
            return 1
        done: int = await db.fetchval(count)
        now = time.monotonic()
        if first_at is None and done > 0:
            first_at = now
            cpu_at_start = cpu_seconds(worker.pid), cpu_seconds(mock.pid)
            samples.append(("start", done, memory_of(worker.pid)))
        if first_at is not None and marks and done >= total * marks[0][1]:
            samples.append((marks.pop(0)[0], done, memory_of(worker.pid)))
        if done >= total:
            samples.append(("end", done, memory_of(worker.pid)))
            worker_cpu = cpu_seconds(worker.pid) - cpu_at_start[0]
            mock_cpu = cpu_seconds(mock.pid) - cpu_at_start[1]
            break
    assert first_at is not None
    elapsed = time.monotonic() - first_at
    stats = await db.fetchrow(
        "SELECT count(*) FILTER (WHERE outcome = 'delivered') AS sent, count(*) AS attempts, "
        "max(at) - min(at) AS span FROM push_attempt"
    )
    assert stats is not None
    span = stats["span"].total_seconds()
    print("\npush bench results (one worker, local mock APNs over HTTP/2 + TLS)")
    for label, done, memory in samples:
        print(
            f"  {label:<6} dispatched {done:>7,}   RSS {memory.rss_mib:6.1f} MiB   peak RSS {memory.peak_mib:6.1f} MiB"
        )
    print(f"  delivered {stats['sent']:,} of {stats['attempts']:,} attempts")
    print(f"  drain: {total:,} events in {elapsed:.1f} s (watched) = {total / elapsed:,.0f} notifications/s")
    print(f"  sending span (first to last attempt): {span:.1f} s = {stats['sent'] / span:,.0f} notifications/s")
    growth = samples[-1][2].rss_mib - samples[0][2].rss_mib
    print(f"  RSS growth start → end: {growth:+.1f} MiB")
    print(
        f"  CPU during the drain: worker {worker_cpu:.1f} s ({total / worker_cpu:,.0f} notifications per worker CPU-second),"
        f" mock APNs {mock_cpu:.1f} s; machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
    )
    return 0 if stats["sent"] == total else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.push_load", description=__doc__)
    parser.add_argument("--citizens", type=int, default=10_000)
    parser.add_argument("--events-per-citizen", type=int, default=10)
    args = parser.parse_args(argv)
    return asyncio.run(run(args.citizens, args.events_per_citizen))


if __name__ == "__main__":
    raise SystemExit(main())
