"""`python -m bench.push_mixed_load`: one worker drains a mixed iOS/Android backlog to the local mock APNs and mock FCM.

Like bench.push_load, with half of the citizens on Android: starts a bench database (DATABASE_URL's server or
an embedded one), both mocks and one `helsekort worker` as separate processes, fills the outbox (default
100,000 medication-list events for 10,000 citizens with one phone each, every other one an Android phone),
and watches the drain: notifications per second (from the attempts table, per transport), and the worker's
resident memory (VmRSS, peak VmHWM) at the start, at 25 %, in the middle, at 75 % and at the end. Every
notification also lands in its citizen's inbox, which the drain includes.
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
from pathlib import Path

import asyncpg

from bench.database import bench_database, server_dsn
from bench.push_load import ROOT, Memory, cpu_seconds, fill_backlog, memory_of, start_mock


async def start_mock_fcm(directory: Path) -> tuple[asyncio.subprocess.Process, dict[str, str]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.support.mock_fcm", "--dir", str(directory), "--port", "0",
        cwd=str(ROOT), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert process.stdout is not None
    settings: dict[str, str] = {}
    async with asyncio.timeout(30):
        while len(settings) < 3:
            line = (await process.stdout.readline()).decode().strip()
            if not line:
                raise RuntimeError("the mock FCM exited before it was ready")
            name, _, value = line.partition("=")
            if name.startswith("HELSEKORT_FCM_"):
                settings[name] = value
    return process, settings


async def run(citizens: int, per_citizen: int) -> int:
    total = citizens * per_citizen
    with server_dsn() as (server, where), tempfile.TemporaryDirectory(prefix="helsekort-push-mixed-") as tmp:
        print(
            f"mixed push bench: {where}; backlog {total:,} events for {citizens:,} citizens (half Android)", flush=True
        )
        async with bench_database(server) as dsn:
            started = time.monotonic()
            await fill_backlog(dsn, citizens, per_citizen, android_half=True)
            print(f"mixed push bench: backlog written in {time.monotonic() - started:.1f} s", flush=True)
            apns_mock, apns = await start_mock(Path(tmp) / "apns")
            fcm_mock, fcm = await start_mock_fcm(Path(tmp) / "fcm")
            env = {key: value for key, value in os.environ.items() if not key.startswith("HELSEKORT_")}
            env.update(apns)
            env.update(fcm)
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
                return await watch(watcher, worker, (apns_mock, fcm_mock), total)
            finally:
                await watcher.close()
                for process in (worker, apns_mock, fcm_mock):
                    if process.returncode is None:
                        process.send_signal(signal.SIGTERM)
                        await process.wait()


async def watch(
    db: asyncpg.Connection,
    worker: asyncio.subprocess.Process,
    mocks: tuple[asyncio.subprocess.Process, asyncio.subprocess.Process],
    total: int,
) -> int:
    count = "SELECT count(*) FROM event WHERE dispatched_at IS NOT NULL"
    samples: list[tuple[str, int, Memory]] = []
    first_at: float | None = None
    marks = [("25%", 0.25), ("middle", 0.5), ("75%", 0.75)]
    cpu_at_start = (0.0, 0.0)
    while True:
        await asyncio.sleep(0.25)
        if worker.returncode is not None:
            print(f"mixed push bench: the worker exited with {worker.returncode}", flush=True)
            return 1
        done: int = await db.fetchval(count)
        now = time.monotonic()
        if first_at is None and done > 0:
            first_at = now
            cpu_at_start = cpu_seconds(worker.pid), sum(cpu_seconds(mock.pid) for mock in mocks)
            samples.append(("start", done, memory_of(worker.pid)))
        if first_at is not None and marks and done >= total * marks[0][1]:
            samples.append((marks.pop(0)[0], done, memory_of(worker.pid)))
        if done >= total:
            samples.append(("end", done, memory_of(worker.pid)))
            worker_cpu = cpu_seconds(worker.pid) - cpu_at_start[0]
            mocks_cpu = sum(cpu_seconds(mock.pid) for mock in mocks) - cpu_at_start[1]
            break
    assert first_at is not None
    elapsed = time.monotonic() - first_at
    rows = await db.fetch(
        """
        SELECT d.platform, count(*) FILTER (WHERE a.outcome = 'delivered') AS sent, count(*) AS attempts
        FROM push_attempt a JOIN push_device d ON d.patient_id = a.patient_id AND d.id = a.device_id
        GROUP BY d.platform ORDER BY d.platform
        """
    )
    span_row = await db.fetchrow(
        "SELECT max(at) - min(at) AS span, count(*) FILTER (WHERE outcome = 'delivered') AS sent FROM push_attempt"
    )
    inboxed: int = await db.fetchval("SELECT count(*) FROM inbox_notification")
    assert span_row is not None
    span = max(span_row["span"].total_seconds(), 1e-6)
    print("\nmixed push bench results (one worker; mock APNs and mock FCM over HTTP/2 + TLS)")
    for label, done, memory in samples:
        print(
            f"  {label:<6} dispatched {done:>7,}   RSS {memory.rss_mib:6.1f} MiB   peak RSS {memory.peak_mib:6.1f} MiB"
        )
    for row in rows:
        transport = "FCM (android)" if row["platform"] == "android" else "APNs (ios)"
        print(f"  {transport:<13} delivered {row['sent']:,} of {row['attempts']:,} attempts")
    print(f"  inbox: {inboxed:,} notifications stored")
    print(f"  drain: {total:,} events in {elapsed:.1f} s (watched) = {total / elapsed:,.0f} notifications/s")
    print(f"  sending span (first to last attempt): {span:.1f} s = {span_row['sent'] / span:,.0f} notifications/s")
    growth = samples[-1][2].rss_mib - samples[0][2].rss_mib
    print(f"  RSS growth start → end: {growth:+.1f} MiB")
    print(
        f"  CPU during the drain: worker {worker_cpu:.1f} s ({total / max(worker_cpu, 1e-6):,.0f} notifications per worker"
        f" CPU-second), mocks {mocks_cpu:.1f} s; machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
    )
    return 0 if span_row["sent"] == total and inboxed == total else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.push_mixed_load", description=__doc__)
    parser.add_argument("--citizens", type=int, default=10_000)
    parser.add_argument("--events-per-citizen", type=int, default=10)
    args = parser.parse_args(argv)
    return asyncio.run(run(args.citizens, args.events_per_citizen))


if __name__ == "__main__":
    raise SystemExit(main())
