"""`python -m bench.medications_load`: PUT of a 30-entry medication list by concurrent writers, p50/p99 and req/s.

Starts `helsekort serve` on a fresh bench database, gives every writer its own patient (a citizen with
a GP care relation and a 30-entry list), then a separate load-generator process runs the writers: each
reads nothing between writes, changes one entry's dosage, PUTs the whole list with If-Match of the
version it last wrote, and takes the next version from the answer's ETag. Every PUT therefore makes a
real new list version (entry rows closed and added, version row, event). The issue's target is
p99 < 50 ms at 20 concurrent writers on different patients; server, database and load generator share
this machine. A wrk scenario cannot express this (If-Match changes with every write), hence this script.

Two ways to load: closed loop (default: each writer sends its next PUT when the last is answered, so
p99 is the latency at saturation), or `--rate N` (the writers together send N PUTs per second on a
schedule, and latency counts from the scheduled time). The same writers then read the same lists and an
audited one-row route at the same pacing, as references for the machine's state in this run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.database import bench_database, server_dsn
from bench.servers import HOST, PROJECT_ROOT, ServerProcess, app_command, free_port, server_env

TARGET_P99_MS = 50.0

# Realistic entries: (name, ATC, form, strength, dosage); cycled to fill a list.
MEDICINES = (
    ("Levaxin", "H03AA01", "tablett", "50 mikrog", "1 tablett om morgenen"),
    ("Folsyre Orifarm", "B03BB01", "tablett", "0,4 mg", "1 tablett daglig"),
    ("Duroferon", "B03AA07", "depottablett", "100 mg Fe2+", "1 tablett daglig"),
    ("Paracet", "N02BE01", "tablett", "500 mg", "1-2 tabletter ved behov, høyst 6 per døgn"),
    ("Metformin", "A10BA02", "tablett", "500 mg", "1 tablett 2 ganger daglig"),
    ("Atorvastatin", "C10AA05", "tablett", "20 mg", "1 tablett om kvelden"),
    ("Ramipril", "C09AA05", "kapsel", "5 mg", "1 kapsel daglig"),
    ("Omeprazol", "A02BC01", "enterokapsel", "20 mg", "1 kapsel før frokost"),
    ("Albyl-E", "B01AC06", "enterotablett", "75 mg", "1 tablett daglig"),
    ("Sertralin", "N06AB06", "tablett", "50 mg", "1 tablett daglig"),
)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.medications_load", description=__doc__)
    parser.add_argument("--writers", type=int, default=20, help="concurrent writers, one patient each (default 20)")
    parser.add_argument("--entries", type=int, default=30, help="entries per list (default 30)")
    parser.add_argument("--writes", type=int, default=100, help="timed writes per writer (default 100)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed writes per writer first (default 20)")
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="PUTs per second from all writers together, paced (open loop); 0: each writer sends its next PUT "
        "as soon as the last is answered (closed loop, saturation; the default)",
    )
    parser.add_argument("--server", choices=("granian", "uvicorn"), default="granian")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (default 1)")
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)  # the load-generator process
    return parser.parse_args(argv)


def initial_list(count: int, rng: random.Random) -> list[dict[str, Any]]:
    entries = []
    for index in range(count):
        name, atc, form, strength, dosage = MEDICINES[index % len(MEDICINES)]
        entries.append(
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "name": f"{name} {index // len(MEDICINES) + 1}" if index >= len(MEDICINES) else name,
                "atc": atc,
                "kind": "prescription",
                "startedAt": f"2025-{index % 12 + 1:02d}-{index % 27 + 1:02d}",
                "form": form,
                # Distinct strengths beyond the first ten, so the list carries no duplicate warnings.
                "strength": strength if index < len(MEDICINES) else f"{strength} ({index})",
                "dosage": dosage,
                "dose": {"quantity": 1, "unit": form, "timesPerDay": 1},
                "reason": "Bench",
            }
        )
    return entries


# --- the load generator (its own process) -------------------------------------------------------------------


def _summary(timed: list[float], seconds: float) -> dict[str, float]:
    timed = sorted(timed)
    return {
        "seconds": seconds,
        "requests": len(timed),
        "p50_ms": statistics.median(timed) * 1000,
        "p90_ms": timed[int(len(timed) * 0.90) - 1] * 1000,
        "p99_ms": timed[int(len(timed) * 0.99) - 1] * 1000,
        "max_ms": timed[-1] * 1000,
    }


async def _generate(job: dict[str, Any]) -> dict[str, Any]:
    writers = job["writers"]
    limits = httpx.Limits(max_connections=writers, max_keepalive_connections=writers)
    statuses: dict[str, int] = {}
    async with httpx.AsyncClient(base_url=job["url"], limits=limits, timeout=30) as http:
        # Paced: writer i sends every `interval` seconds, offset so the writers interleave evenly.
        interval = writers / job["rate"] if job["rate"] else 0.0

        async def writer(spec: dict[str, Any], writes: int, timed: list[float] | None) -> None:
            headers = {"Authorization": f"Bearer {spec['token']}", "Content-Type": "application/json"}
            entries: list[dict[str, Any]] = spec["entries"]
            start = time.perf_counter() + interval * spec["index"] / writers
            for n in range(writes):
                changed = entries[n % len(entries)]
                changed["dosage"] = f"{changed['dosage'].split(' #')[0]} #{spec['version'] + 1}"
                body = json.dumps({"entries": entries}).encode()
                began = time.perf_counter()
                if interval:
                    # Latency counts from the scheduled send time, so a slow answer delaying the next
                    # send is measured, not hidden (no coordinated omission).
                    began = start + n * interval
                    await asyncio.sleep(max(0.0, began - time.perf_counter()))
                response = await http.put(
                    spec["path"], content=body, headers={**headers, "If-Match": f'"{spec["version"]}"'}
                )
                elapsed = time.perf_counter() - began
                statuses[str(response.status_code)] = statuses.get(str(response.status_code), 0) + 1
                if response.status_code != 200:
                    raise RuntimeError(f"PUT answered {response.status_code}: {response.text[:300]}")
                spec["version"] = int(response.headers["etag"].strip('"'))
                if timed is not None:
                    timed.append(elapsed)

        async def reader(spec: dict[str, Any], path: str, reads: int, timed: list[float]) -> None:
            headers = {"Authorization": f"Bearer {spec['token']}"}
            start = time.perf_counter() + interval * spec["index"] / writers
            for n in range(reads):
                began = time.perf_counter()
                if interval:
                    began = start + n * interval
                    await asyncio.sleep(max(0.0, began - time.perf_counter()))
                response = await http.get(path, headers=headers)
                timed.append(time.perf_counter() - began)
                if response.status_code != 200:
                    raise RuntimeError(f"GET {path} answered {response.status_code}")

        async def phase(runs: list[Any]) -> float:
            began = time.perf_counter()
            await asyncio.gather(*runs)
            return time.perf_counter() - began

        specs = job["patients"]
        await phase([writer(spec, job["warmup"], None) for spec in specs])
        puts: list[float] = []
        put_seconds = await phase([writer(spec, job["writes"], puts) for spec in specs])
        # References in the same run and at the same concurrency, so the machine's load can be read off.
        reads: list[float] = []
        read_seconds = await phase([reader(spec, spec["path"], job["writes"], reads) for spec in specs])
        audited: list[float] = []
        audited_seconds = await phase(
            [
                reader(spec, spec["path"].replace("/medications", "/care-relations"), job["writes"], audited)
                for spec in specs
            ]
        )
    return {
        "put": _summary(puts, put_seconds),
        "read": _summary(reads, read_seconds),
        "audited": _summary(audited, audited_seconds),
        "statuses": statuses,
        "versions": {spec["patient_id"]: spec["version"] for spec in specs},
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


async def _prepare(url: str, data_dir: Path, args: argparse.Namespace) -> list[dict[str, Any]]:
    """One GP organisation, `writers` patients related to it, each with a 30-entry list at version 1."""
    from backend.dev.tokens import citizen_claims, clinician_claims, load_dev_signing_key, mint
    from backend.settings import Settings

    key = load_dev_signing_key(Settings(data_dir=data_dir))
    rng = random.Random(2026)
    numbers: set[str] = set()
    while len(numbers) < args.writers:
        numbers.add(_synthetic_fnr(rng))
    patients: list[dict[str, Any]] = []
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        for index, number in enumerate(sorted(numbers)):
            citizen = mint(key, "citizen", citizen_claims(number), expires_in=3600)
            me = await http.get("/citizen/v1/me", headers={"Authorization": f"Bearer {citizen}"})
            me.raise_for_status()
            patient_id = me.json()["patientId"]
            gp_claims = clinician_claims(
                hpr=str(9_200_000 + index), pid=_synthetic_fnr(rng), authorization="LE", org="974700001",
                org_kind="fastlege", name=f"Bench-lege {index}",
            )  # fmt: skip
            token = mint(key, "clinician", gp_claims, expires_in=3600)
            headers = {"Authorization": f"Bearer {token}"}
            related = await http.post(
                f"/clinician/v1/patients/{patient_id}/care-relations", json={"kind": "gp"}, headers=headers
            )
            if related.status_code != 201:
                raise RuntimeError(f"care relation: {related.status_code} {related.text}")
            path = f"/clinician/v1/patients/{patient_id}/medications"
            entries = initial_list(args.entries, rng)
            first = await http.put(path, json={"entries": entries}, headers={**headers, "If-Match": '"0"'})
            if first.status_code != 200:
                raise RuntimeError(f"first PUT: {first.status_code} {first.text}")
            patients.append(
                {
                    "index": index,
                    "patient_id": patient_id,
                    "token": token,
                    "path": path,
                    "entries": first.json()["entries"],
                    "version": int(first.headers["etag"].strip('"')),
                }
            )
    return patients


async def _measure(args: argparse.Namespace) -> int:
    load_before = os.getloadavg()[0]
    with server_dsn() as (server, where), tempfile.TemporaryDirectory(prefix="helsekort-bench-meds-") as tmp:
        async with bench_database(server) as dsn:
            data_dir = Path(tmp)
            port = free_port()
            url = f"http://{HOST}:{port}"
            env = server_env(database_url=dsn, data_dir=data_dir)
            env.setdefault("HELSEKORT_LOG_LEVEL", "WARNING")
            app = ServerProcess("app", app_command(args.server, port, args.workers), env, data_dir / "server.log")
            try:
                await app.wait_ready(f"{url}/ready")
                patients = await _prepare(url, data_dir, args)
                job = {"url": url, "patients": patients, "writers": args.writers, "writes": args.writes,
                       "warmup": args.warmup, "rate": args.rate}  # fmt: skip
                job_file = data_dir / "job.json"
                job_file.write_text(json.dumps(job))
                generator_env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
                finished = subprocess.run(  # noqa: ASYNC221 - the generator must be another process
                    [sys.executable, "-m", "bench.medications_load", "--generate", str(job_file)],
                    capture_output=True,
                    check=False,
                    env=generator_env,
                )
                if finished.returncode != 0:
                    print(finished.stderr.decode(errors="replace"), file=sys.stderr)
                    print(app.log_tail(), file=sys.stderr)
                    return 1
                result = json.loads(finished.stdout)
            finally:
                app.stop()
            connection = await asyncpg.connect(dsn)
            try:
                stored = {
                    str(row["patient_id"]): row["version"]
                    for row in await connection.fetch("SELECT patient_id, version FROM medication_list")
                }
                versions = int(await connection.fetchval("SELECT count(*) FROM medication_list_version"))
            finally:
                await connection.close()
    expected_versions = args.writers * (1 + args.warmup + args.writes)
    consistent = stored == result["versions"] and versions == expected_versions
    print(
        f"medications bench: {where}, {os.cpu_count()} CPUs, {args.server} with {args.workers} worker(s); "
        f"1-min load average before the run {load_before:.2f}"
    )
    pacing = f"paced at {args.rate:g} PUT/s in total" if args.rate else "closed loop (next PUT when answered)"
    print(
        f"  load: {args.writers} concurrent writers on different patients, {pacing}, {args.entries}-entry lists, "
        f"{args.warmup} warm-up + {args.writes} timed PUTs each (one entry changed per PUT); statuses "
        f"{result['statuses']}"
    )
    rows = (
        ("PUT  …/medications (30 entries, one changed)", result["put"]),
        ("GET  …/medications (reference: the same lists)", result["read"]),
        ("GET  …/care-relations (reference: audited read)", result["audited"]),
    )
    for label, row in rows:
        print(
            f"  {label:<50} p50 {row['p50_ms']:6.1f} ms  p90 {row['p90_ms']:6.1f} ms  p99 {row['p99_ms']:6.1f} ms  "
            f"max {row['max_ms']:6.1f} ms  {row['requests'] / row['seconds']:6.0f} req/s"
        )
    verdict = "met" if result["put"]["p99_ms"] < TARGET_P99_MS else "NOT met"
    print(f"  target p99 < {TARGET_P99_MS:.0f} ms: {verdict}")
    print(f"  stored: {versions} list versions (expected {expected_versions}); ETags match the database: {consistent}")
    return 0 if consistent else 1


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.generate is not None:
        job = json.loads(args.generate.read_text())
        print(json.dumps(asyncio.run(_generate(job))))
        return 0
    return asyncio.run(_measure(args))


if __name__ == "__main__":
    raise SystemExit(main())
