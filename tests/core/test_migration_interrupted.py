"""A migration run that dies between applying a migration and recording it leaves nothing half-done (own database)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any

import asyncpg

from tests.conftest import _with_database

ROOT = Path(__file__).resolve().parents[2]


async def test_an_interrupted_migration_run_applies_nothing_and_the_next_run_completes(server_url: str) -> None:
    name = f"helsekort_interrupted_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.core.migration_interrupted",
            _with_database(server_url, name),
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=300)
        assert process.returncode == 0, err.decode()[-3000:]
        result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    finally:
        admin = await asyncpg.connect(server_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

    assert result["calls"] == 3, result
    assert result["failed"], result
    # Two migrations had been applied and recorded, the third applied: all of it rolled back together.
    assert result["tables_left"] == 0, result
    # And the next run applies everything, without "already exists".
    assert result["recorded_after_rerun"] > 10, result
