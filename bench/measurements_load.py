"""`python -m bench.measurements_load`: measurements stored per second through the real API, against raw COPY.

Starts `helsekort serve` on a fresh bench database, has a separate load-generator process post
1,000-item batches (new readings each, from many citizens so the per-citizen write limit is never the
bottleneck), checks that every item was stored, then COPYs the very same rows with raw asyncpg into a
scratch table with the same indexes and constraints, in the same run, and prints both rates and their ratio.
Server, database and load generator share this machine, as the issue asks.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec

from bench.database import bench_database, server_dsn
from bench.servers import HOST, PROJECT_ROOT, ServerProcess, app_command, free_port, server_env

COLUMNS = (
    "id", "patient_id", "client_id", "code", "value", "systolic", "diastolic", "unit", "effective_at",
    "device_serial", "device_model", "source", "recorded_by_hpr", "created_at",
)  # fmt: skip


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.measurements_load", description=__doc__)
    parser.add_argument("--batches", type=int, default=100, help="timed batches per round (default 100)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed batches first, per round (default 10)")
    parser.add_argument("--rounds", type=int, default=3, help="API run then COPY, repeated (default 3)")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4, help="batches in flight (default 4)")
    parser.add_argument("--citizens", type=int, default=50)
    parser.add_argument("--server", choices=("granian", "uvicorn"), default="granian")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (default 1)")
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)  # the load-generator process
    return parser.parse_args(argv)


# --- the load generator (its own process) -------------------------------------------------------------------


def _batch(rng: random.Random, start: datetime, size: int, serial: str) -> bytes:
    items: list[dict[str, Any]] = []
    for index in range(size):
        at = (start + timedelta(seconds=index)).isoformat()
        device = {"serial": serial, "model": "Bench BP-1"}
        if index % 3 == 2:
            items.append({"id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "code": "8867-4",
                          "value": rng.randint(50, 110), "unit": "/min", "effectiveAt": at, "device": device})  # fmt: skip
            continue
        systolic = rng.randint(100, 160)
        items.append(
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "code": "85354-9",
                "effectiveAt": at,
                "components": [
                    {"code": "8480-6", "value": systolic, "unit": "mm[Hg]"},
                    {"code": "8462-4", "value": rng.randint(55, systolic - 20), "unit": "mm[Hg]"},
                ],
                "device": device,
            }
        )
    return msgspec.json.encode({"items": items})


async def _generate(job: dict[str, Any]) -> dict[str, Any]:
    rng = random.Random(job["seed"])
    size, tokens = job["batch_size"], job["tokens"]
    total = job["warmup"] + job["batches"]
    base = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=job["day_offset"])
    # Bodies are built before the clock starts: only the posting is measured.
    bodies = [
        (tokens[n % len(tokens)], _batch(rng, base + timedelta(days=n), size, f"SN-{n % len(tokens)}"))
        for n in range(total)
    ]
    limits = httpx.Limits(max_connections=job["concurrency"], max_keepalive_connections=job["concurrency"])
    async with httpx.AsyncClient(base_url=job["url"], limits=limits, timeout=120) as http:

        async def post(token: str, body: bytes) -> tuple[int, int]:
            response = await http.post(
                "/citizen/v1/me/measurements",
                content=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            return response.status_code, response.content.count(b'"created"')

        async def run(chunk: list[tuple[str, bytes]]) -> tuple[list[tuple[int, int]], float]:
            gate = asyncio.Semaphore(job["concurrency"])

            async def one(token: str, body: bytes) -> tuple[int, int]:
                async with gate:
                    return await post(token, body)

            began = time.perf_counter()
            answers = await asyncio.gather(*(one(token, body) for token, body in chunk))
            return answers, time.perf_counter() - began

        warm, _ = await run(bodies[: job["warmup"]])
        timed, seconds = await run(bodies[job["warmup"] :])
    statuses: dict[str, int] = {}
    for status, _ in warm + timed:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    return {
        "seconds": seconds,
        "timed_batches": len(timed),
        "timed_created": sum(created for _, created in timed),
        "created": sum(created for _, created in warm + timed),
        "items": total * size,
        "statuses": statuses,
    }


# --- the orchestrator ----------------------------------------------------------------------------------------


def _synthetic_fnr(rng: random.Random) -> str:
    from backend.core.identity import with_control_digits

    while True:
        number = with_control_digits(
            f"{rng.randint(1, 28):02d}{rng.randint(1, 12) + 80:02d}{rng.randint(50, 99):02d}{rng.randint(0, 499):03d}"
        )
        if number is not None:
            return number


def _tokens(data_dir: Path, count: int) -> list[str]:
    from backend.dev.tokens import citizen_claims, load_dev_signing_key, mint
    from backend.settings import Settings

    key = load_dev_signing_key(Settings(data_dir=data_dir))
    rng = random.Random(7)
    numbers: set[str] = set()
    while len(numbers) < count:
        numbers.add(_synthetic_fnr(rng))
    return [mint(key, "citizen", citizen_claims(number), expires_in=3600) for number in sorted(numbers)]


async def _raw_copy(dsn: str, batch_size: int, since: datetime, until: datetime) -> tuple[int, float]:
    """COPY the rows one round stored through the API into a scratch table with the same indexes and checks."""
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            f"SELECT {', '.join(COLUMNS)} FROM measurement WHERE effective_at >= $1 AND effective_at < $2 "
            "ORDER BY created_at, id",
            since,
            until,
        )
        await connection.execute("CREATE TABLE IF NOT EXISTS measurement_copy_bench (LIKE measurement INCLUDING ALL)")
        records = [tuple(row) for row in rows]
        began = time.perf_counter()
        for start in range(0, len(records), batch_size):
            await connection.copy_records_to_table(
                "measurement_copy_bench", records=records[start : start + batch_size], columns=list(COLUMNS)
            )
        seconds = time.perf_counter() - began
    finally:
        await connection.close()
    return len(records), seconds


async def _api_round(url: str, tokens: list[str], args: argparse.Namespace, day_offset: int, work: Path) -> Any:
    job = {
        "url": url, "tokens": tokens, "batches": args.batches, "warmup": args.warmup, "batch_size": args.batch_size,
        "concurrency": args.concurrency, "seed": 2026 + day_offset, "day_offset": day_offset,
    }  # fmt: skip
    job_file = work / f"job-{day_offset}.json"
    job_file.write_text(json.dumps(job))
    generator = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.measurements_load", "--generate", str(job_file),
        stdout=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}, cwd=PROJECT_ROOT,
    )  # fmt: skip
    output, _ = await generator.communicate()
    if generator.returncode != 0:
        raise RuntimeError(f"the load generator failed with exit code {generator.returncode}")
    return json.loads(output)


async def _measure(args: argparse.Namespace) -> int:
    load_before = os.getloadavg()[0]
    rounds: list[tuple[float, float]] = []
    statuses: dict[str, int] = {}
    answered = items = 0
    base = datetime(2020, 1, 1, tzinfo=UTC)
    span = args.warmup + args.batches + 1  # days of readings one round posts
    with server_dsn() as (server, where), tempfile.TemporaryDirectory(prefix="helsekort-bench-meas-") as tmp:
        async with bench_database(server) as dsn:
            work = Path(tmp)
            port = free_port()
            url = f"http://{HOST}:{port}"
            app = ServerProcess(
                "app",
                app_command(args.server, port, args.workers),
                server_env(database_url=dsn, data_dir=work),
                work / "server.log",
            )
            try:
                await app.wait_ready(f"{url}/ready")
                tokens = _tokens(work, args.citizens)
                async with httpx.AsyncClient(base_url=url, timeout=30) as http:
                    for token in tokens:  # each citizen's patient row exists before the clock starts
                        me = await http.get("/citizen/v1/me", headers={"Authorization": f"Bearer {token}"})
                        me.raise_for_status()
                # Rounds alternate API and COPY, so drift in the machine's load hits both sides alike.
                for number in range(args.rounds):
                    day_offset = number * span
                    result = await _api_round(url, tokens, args, day_offset, work)
                    since = base + timedelta(days=day_offset)
                    copied, copy_seconds = await _raw_copy(dsn, args.batch_size, since, since + timedelta(days=span))
                    api_rate = result["timed_created"] / result["seconds"]
                    copy_rate = copied / copy_seconds
                    rounds.append((api_rate, copy_rate))
                    for status, count in result["statuses"].items():
                        statuses[status] = statuses.get(status, 0) + count
                    answered += result["created"]
                    items += result["items"]
                    print(
                        f"  round {number + 1}: API {api_rate:,.0f} measurements/s, COPY {copy_rate:,.0f} rows/s, "
                        f"ratio {api_rate / copy_rate:.2f}",
                        flush=True,
                    )
            finally:
                app.stop()
            connection = await asyncpg.connect(dsn)
            try:
                stored = int(await connection.fetchval("SELECT count(*) FROM measurement"))
            finally:
                await connection.close()
    api_median = statistics.median(rate for rate, _ in rounds)
    copy_median = statistics.median(rate for _, rate in rounds)
    ratio_median = statistics.median(api / copy for api, copy in rounds)
    print(
        f"measurements bench: {where}, {os.cpu_count()} CPUs, {args.server} with {args.workers} worker(s); "
        f"1-min load average before the run {load_before:.2f} (other work on the machine skews the numbers)"
    )
    print(
        f"  load: {args.citizens} citizens; {args.rounds} rounds of {args.warmup} warm-up + {args.batches} timed "
        f"batches of {args.batch_size} items, {args.concurrency} in flight; statuses {statuses}"
    )
    print(f"  stored: {stored} rows; the API answered created for {answered} of {items} items")
    print(f"  API upload (median of rounds):       {api_median:>10,.0f} measurements/s")
    print(f"  raw asyncpg COPY (same rows, same indexes): {copy_median:>10,.0f} rows/s")
    print(f"  ratio API / COPY (median of rounds): {ratio_median:.2f}")
    ok = stored == answered == items
    if not ok:
        print("  FAILED: not every item was stored exactly once", file=sys.stderr)
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.generate is not None:
        job = json.loads(args.generate.read_text())
        print(json.dumps(asyncio.run(_generate(job))))
        return 0
    return asyncio.run(_measure(args))


if __name__ == "__main__":
    raise SystemExit(main())
