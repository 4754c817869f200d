"""The embedded server groups commits (backend/db/embedded.py SERVER_SETTINGS): every clinician read commits an
audit row of its own, and the server's defaults flush WAL for each one alone."""

from __future__ import annotations

import os

import asyncpg
import pytest

from backend.db.embedded import SERVER_SETTINGS


@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="an external server's settings are its operator's")
async def test_the_embedded_server_runs_with_the_group_commit_settings(server_url: str) -> None:
    connection = await asyncpg.connect(server_url)
    try:
        found = {name: await connection.fetchval(f"SELECT current_setting('{name}')") for name in SERVER_SETTINGS}
        durable = await connection.fetchval("SELECT current_setting('synchronous_commit')")
    finally:
        await connection.close()
    assert found == SERVER_SETTINGS
    assert durable == "on"  # fewer flushes, never a commit answered before its flush
