"""A migration run that dies between applying a migration and recording it leaves nothing half-done (own database)."""

from __future__ import annotations

from tests.support.own_database import run_in_own_database


async def test_an_interrupted_migration_run_applies_nothing_and_the_next_run_completes(server_url: str) -> None:
    result = await run_in_own_database(server_url, "tests.core.migration_interrupted", "helsekort_interrupted")

    assert result["calls"] == 3, result
    assert result["failed"], result
    # Two migrations had been applied and recorded, the third applied: all of it rolled back together.
    assert result["tables_left"] == 0, result
    # And the next run applies everything, without "already exists".
    assert result["recorded_after_rerun"] > 10, result
