"""The skeleton's scenarios: the raw-asyncpg baseline and `/health`."""

from __future__ import annotations

import random

from bench.baseline import ROWS
from bench.scenarios import BenchContext, Prepared, Scenario


async def _baseline_paths(context: BenchContext) -> Prepared:
    # A fixed pseudo-random spread of ids, so every run reads the same rows in the same order.
    chooser = random.Random(2026)
    return Prepared(paths=[f"/baseline/{chooser.randint(1, ROWS)}" for _ in range(1000)])


SCENARIOS: list[Scenario] = [
    Scenario(
        name="baseline",
        path="/baseline/1",
        target="baseline",
        setup=_baseline_paths,
        description="minimal Litestar route, one primary-key SELECT with raw asyncpg",
    ),
    Scenario(
        name="health",
        path="/health",
        description="GET /health through the full middleware stack, no database",
    ),
]
