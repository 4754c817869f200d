"""`python -m bench`: start a database and the servers, drive each scenario with wrk, print the table.

Every server under test (the app and the baseline, under granian and/or uvicorn) is started once and
stays up; the scenarios are then measured one at a time, interleaved across servers and with the
server order alternating between rounds, so drift in the machine's load does not favour one side.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import importlib.metadata
import json
import os
import platform
import shutil
import signal
import statistics
import sys
import tempfile
import traceback
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import cast

import httpx

from bench.database import bench_database, server_dsn
from bench.loadgen import LoadGeneratorError, WrkResult, ensure_wrk, run_wrk, write_script
from bench.scenarios import BenchContext, Requests, Scenario, discover, prepare
from bench.servers import (
    HOST,
    Server,
    ServerFailed,
    ServerProcess,
    app_command,
    baseline_command,
    free_port,
    server_env,
)

SERVERS: tuple[Server, ...] = ("granian", "uvicorn")
# What `--server both` measures unless --only says otherwise: enough to choose the server.
SERVER_CHOICE_SCENARIOS = ("health",)


class ScenarioFailed(RuntimeError):
    """A scenario's request did not answer as the scenario expects."""


@dataclass(frozen=True, kw_only=True)
class Options:
    servers: tuple[Server, ...]
    scenarios: tuple[Scenario, ...]
    duration: int
    warmup: int
    connections: int
    workers: int
    rounds: int
    json_path: Path | None


@dataclass(frozen=True, kw_only=True)
class Stand:
    """One ASGI server's pair of processes (app and baseline) and the context scenarios set up in."""

    server: Server
    context: BenchContext


@dataclass(kw_only=True)
class Measurement:
    """One (server, scenario): its prepared requests and every round's result, or why it failed."""

    server: Server
    scenario: Scenario
    url: str = ""
    script: Path | None = None
    results: list[WrkResult] = field(default_factory=list)
    failure: str | None = None


@dataclass(frozen=True, kw_only=True)
class Row:
    server: Server
    scenario: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    ratio: float | None
    spread: float | None  # (max - min) / median of req/s over the rounds
    requests: int
    errors: int
    rounds: list[dict[str, float]]
    failure: str | None = None


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Load-test the real server with wrk; every scenario is compared with a raw-asyncpg baseline.",
    )
    parser.add_argument(
        "--server",
        choices=(*SERVERS, "both"),
        default="granian",
        help="ASGI server for both the app and the baseline; 'both' measures /health and the baseline under each",
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per scenario (default 10)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of unmeasured load first (default 3)")
    parser.add_argument("--connections", type=int, default=32, help="open connections wrk keeps (default 32)")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (default 1)")
    parser.add_argument("--rounds", type=int, default=1, help="measure every scenario this often; medians shown")
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run only this scenario (repeatable; the baseline always runs, ratios need it)",
    )
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    for name in ("duration", "connections", "workers", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.warmup < 0:
        parser.error("--warmup must not be negative")
    return args


def select(scenarios: Sequence[Scenario], only: Sequence[str] | None, *, both: bool) -> tuple[Scenario, ...]:
    wanted = set(only) if only else (set(SERVER_CHOICE_SCENARIOS) if both else {s.name for s in scenarios})
    unknown = wanted - {s.name for s in scenarios}
    if unknown:
        names = ", ".join(s.name for s in scenarios)
        raise SystemExit(f"bench: unknown scenario {', '.join(sorted(unknown))}; known: {names}")
    return tuple(s for s in scenarios if s.name == "baseline" or s.name in wanted)


@contextlib.asynccontextmanager
async def stand(server: Server, database_url: str, options: Options, workdir: Path) -> AsyncIterator[Stand]:
    """Start the app and the baseline under `server`, wait until both are ready, stop both on exit."""
    data_dir = workdir / f"data-{server}"
    data_dir.mkdir()
    env = server_env(database_url=database_url, data_dir=data_dir)
    app_port, baseline_port = free_port(), free_port()
    app_url, baseline_url = f"http://{HOST}:{app_port}", f"http://{HOST}:{baseline_port}"
    with contextlib.ExitStack() as processes:
        app = ServerProcess(
            f"helsekort serve --server {server}",
            app_command(server, app_port, options.workers),
            env,
            workdir / f"{server}-app.log",
        )
        processes.callback(app.stop)
        baseline = ServerProcess(
            f"baseline app under {server}",
            baseline_command(server, baseline_port, options.workers),
            env,
            workdir / f"{server}-baseline.log",
        )
        processes.callback(baseline.stop)
        await app.wait_ready(app_url + "/ready")
        await baseline.wait_ready(baseline_url + "/ready")
        print(f"bench: {server}: app on {app_url}, baseline on {baseline_url}", flush=True)
        async with httpx.AsyncClient(base_url=app_url, timeout=30) as http:
            yield Stand(
                server=server,
                context=BenchContext(
                    app_url=app_url,
                    baseline_url=baseline_url,
                    database_url=database_url,
                    data_dir=data_dir,
                    http=http,
                ),
            )


async def check_once(http: httpx.AsyncClient, base_url: str, requests: Requests, expect: int) -> None:
    """One request before the load, so a wrong status fails loudly instead of being measured."""
    response = await http.request(
        requests.method, base_url + requests.paths[0], headers=requests.headers_of(0), content=requests.body
    )
    if response.status_code != expect:
        raise ScenarioFailed(
            f"{requests.method} {requests.paths[0]} answered {response.status_code}, expected {expect}: "
            f"{response.text[:300]}"
        )


async def plan(scenario: Scenario, on: Stand, workdir: Path) -> Measurement:
    """Run the scenario's setup on one server, check one request, write its wrk script."""
    measurement = Measurement(server=on.server, scenario=scenario)
    measurement.url = on.context.baseline_url if scenario.target == "baseline" else on.context.app_url
    try:
        requests = await prepare(scenario, on.context)
        await check_once(on.context.http, measurement.url, requests, scenario.expect_status)
    except (ScenarioFailed, httpx.HTTPError) as exc:
        measurement.failure = str(exc)
    except Exception as exc:  # a broken setup in one capability's module must not stop the other scenarios
        measurement.failure = f"setup raised {type(exc).__name__}: {exc}"
        traceback.print_exc()
    if measurement.failure is not None:
        print(f"bench: {on.server}: {scenario.name} FAILED: {measurement.failure}", file=sys.stderr, flush=True)
        return measurement
    measurement.script = write_script(requests, workdir / f"{on.server}-{scenario.name}.lua")
    return measurement


async def measure_once(measurement: Measurement, options: Options, wrk: str, label: str) -> None:
    if measurement.failure is not None or measurement.script is None:
        return
    print(f"bench: {label}{measurement.server}: {measurement.scenario.name}", flush=True)
    url, script, connections = measurement.url, measurement.script, options.connections
    if options.warmup:
        await run_wrk(wrk, url, script, duration_s=options.warmup, connections=connections)
    result = await run_wrk(wrk, url, script, duration_s=options.duration, connections=connections)
    measurement.results.append(result)
    errors = result.errors(expect_status=measurement.scenario.expect_status)
    if errors:
        measurement.failure = f"{errors} socket errors or unexpected statuses in {result.requests} requests"


def summarise(measurements: Sequence[Measurement]) -> list[Row]:
    """One row per (server, scenario): medians over the rounds, ratio to the same server's baseline."""
    baseline_rps: dict[Server, float] = {}
    rows: list[Row] = []
    for m in measurements:
        rps = [r.requests_per_second for r in m.results]
        median_rps = statistics.median(rps) if rps else 0.0
        if m.scenario.name == "baseline" and m.failure is None and median_rps:
            baseline_rps[m.server] = median_rps
        base = baseline_rps.get(m.server)
        rows.append(
            Row(
                server=m.server,
                scenario=m.scenario.name,
                requests_per_second=median_rps,
                p50_ms=statistics.median(r.p50_ms for r in m.results) if rps else 0.0,
                p99_ms=statistics.median(r.p99_ms for r in m.results) if rps else 0.0,
                ratio=median_rps / base if base and rps else None,
                spread=(max(rps) - min(rps)) / median_rps if len(rps) > 1 and median_rps else None,
                requests=sum(r.requests for r in m.results),
                errors=sum(r.errors(expect_status=m.scenario.expect_status) for r in m.results),
                rounds=[
                    {"requests_per_second": r.requests_per_second, "p50_ms": r.p50_ms, "p99_ms": r.p99_ms}
                    for r in m.results
                ],
                failure=m.failure,
            )
        )
    return rows


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def render(rows: Sequence[Row], options: Options, database: str, load_before: float) -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    rounds = f"median of {options.rounds} rounds" if options.rounds > 1 else "1 round"
    width = max(len("scenario"), *(len(s.name) for s in options.scenarios))
    lines = [
        "",
        f"Helsekort bench, {now}: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"granian {_version('granian')}, uvicorn {_version('uvicorn')}, litestar {_version('litestar')}",
        f"database: {database}; load: wrk -t1 -c{options.connections} -d{options.duration}s "
        f"after {options.warmup} s warm-up, {rounds}; {options.workers} worker(s) per server",
        f"1-min load average before the run: {load_before:.2f} (other work on the machine skews the numbers)",
        "",
        f"{'server':<8}  {'scenario':<{width}}  {'req/s':>9}  {'p50 ms':>8}  {'p99 ms':>8}  {'x baseline':>10}"
        f"  {'spread':>6}  note",
    ]
    lines.append("-" * len(lines[-1]))
    for row in rows:
        if not row.requests:
            dashes = f"{'-':>9}  {'-':>8}  {'-':>8}  {'-':>10}  {'-':>6}"
            lines.append(f"{row.server:<8}  {row.scenario:<{width}}  {dashes}  FAILED: {(row.failure or '')[:60]}")
            continue
        ratio = f"{row.ratio:.2f}" if row.ratio is not None else "-"
        spread = f"{row.spread:.0%}" if row.spread is not None else "-"
        note = f"FAILED: {row.failure}" if row.failure else ""
        lines.append(
            f"{row.server:<8}  {row.scenario:<{width}}  {row.requests_per_second:>9,.0f}  {row.p50_ms:>8.2f}  "
            f"{row.p99_ms:>8.2f}  {ratio:>10}  {spread:>6}  {note}"
        )
    if len(options.servers) == 2:
        lines += ["", "uvicorn / granian, req/s of the same scenario:"]
        by_key = {(row.server, row.scenario): row for row in rows if not row.failure}
        for scenario in options.scenarios:
            first, second = by_key.get(("granian", scenario.name)), by_key.get(("uvicorn", scenario.name))
            if first and second and first.requests_per_second:
                share = second.requests_per_second / first.requests_per_second
                lines.append(f"  {scenario.name:<{width}}  {share:.2f}")
    return "\n".join(line.rstrip() for line in lines)


async def run(options: Options, wrk: str) -> list[Row]:
    task = asyncio.current_task()
    assert task is not None
    # SIGTERM ends the run the way Ctrl-C does: cancel, then every `finally` below cleans up.
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    load_before = os.getloadavg()[0]
    workdir = Path(tempfile.mkdtemp(prefix="helsekort-bench-"))
    try:
        with server_dsn() as (server_url, database):
            async with bench_database(server_url) as database_url, contextlib.AsyncExitStack() as stands:
                started = [
                    await stands.enter_async_context(stand(s, database_url, options, workdir)) for s in options.servers
                ]
                measurements = {
                    (on.server, scenario.name): await plan(scenario, on, workdir)
                    for scenario in options.scenarios
                    for on in started
                }
                for number in range(options.rounds):
                    # Alternate which server goes first, so a trend in the machine's load cancels out.
                    order = options.servers if number % 2 == 0 else options.servers[::-1]
                    label = f"round {number + 1}/{options.rounds}: " if options.rounds > 1 else ""
                    for scenario in options.scenarios:
                        for server in order:
                            await measure_once(measurements[server, scenario.name], options, wrk, label)
        ordered = [measurements[s, scenario.name] for s in options.servers for scenario in options.scenarios]
        rows = summarise(ordered)
        print(render(rows, options, database, load_before), flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    scenarios = discover()
    if args.list:
        width = max(len(s.name) for s in scenarios)
        for scenario in scenarios:
            print(f"{scenario.name:<{width}}  {scenario.method} {scenario.path}  {scenario.description}")
        return 0
    both = args.server == "both"
    options = Options(
        servers=SERVERS if both else (cast(Server, args.server),),
        scenarios=select(scenarios, args.only, both=both),
        duration=args.duration,
        warmup=args.warmup,
        connections=args.connections,
        workers=args.workers,
        rounds=args.rounds,
        json_path=args.json,
    )
    try:
        wrk = ensure_wrk()
        rows = asyncio.run(run(options, wrk))
    except (LoadGeneratorError, ServerFailed) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("bench: interrupted; servers stopped and the bench database dropped", file=sys.stderr)
        return 130
    if options.json_path is not None:
        options.json_path.parent.mkdir(parents=True, exist_ok=True)
        options.json_path.write_text(json.dumps([asdict(row) for row in rows], indent=2) + "\n", encoding="utf-8")
    failed = [row for row in rows if row.failure]
    if failed:
        names = ", ".join(f"{row.scenario} ({row.server})" for row in failed)
        print(f"bench: {len(failed)} scenario(s) failed: {names}", file=sys.stderr)
        return 1
    return 0
