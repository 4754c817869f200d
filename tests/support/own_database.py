"""Run a test module's script in a subprocess against a database of its own (Piccolo's engine is process-wide)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

ROOT = Path(__file__).resolve().parents[2]


def with_database(dsn: str, database: str) -> str:
    """The same server, another database (works for TCP URLs and the embedded socket URL)."""
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


async def run_in_own_database(server_url: str, module: str, prefix: str) -> dict[str, Any]:
    """Create `<prefix>_<random>`, run `python -m module <its DSN>`, drop it; the JSON of the script's last line."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            module,
            with_database(server_url, name),
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
    return result
