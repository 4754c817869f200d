"""The lab reads that a phone or a clinician's list makes on every open use an index in their own order.

The planner is told not to scan tables sequentially (test data is small enough that it would), so what the
plan shows is whether an index serves the statement's ORDER BY: a Sort over lab_observation under the LIMIT
means every earlier result of a test is read and sorted to take the newest few.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg

from backend.labs import queries


class _Explaining:
    """Stands in for the connection: each statement is explained on the real one, never run."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection
        self.plans: list[dict[str, Any]] = []

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        text = await self._connection.fetchval("EXPLAIN (FORMAT JSON) " + sql, *args)
        self.plans.append(json.loads(text)[0]["Plan"])
        return []


def _nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(found for child in node.get("Plans", []) for found in _nodes(child))]


def _sorted_observation_scans(plan: dict[str, Any]) -> list[str]:
    """Sort nodes that sort lab_observation rows by time (earlier results, the trend): the index gives that order.

    A report's own few results may be sorted by their position when the planner prefers it; that sort depends on
    the table's statistics (the suite's other data), not on the index, and is not what the index is for."""
    return [
        node["Node Type"]
        for node in _nodes(plan)
        if node["Node Type"] in ("Sort", "Incremental Sort")
        and any("specimen_at" in key for key in node.get("Sort Key", []))
        and any(child.get("Relation Name") == "lab_observation" for child in _nodes(node)[1:])
        and node is not plan  # the outer ORDER BY of the whole result is not per test
    ]


async def _explained(db: asyncpg.Connection, read: Any) -> dict[str, Any]:
    explaining = _Explaining(db)
    async with db.transaction():
        # The suite's tables are small and their statistics are whatever the other tests left: the planner may
        # scan or sort a few rows where a patient's real history would take an index. Discouraged here, a sort or
        # a scan that remains is one no index can spare (a full run once sorted by time through the primary key).
        await db.execute("SET LOCAL enable_seqscan = off")
        await db.execute("SET LOCAL enable_sort = off")
        await read(explaining)
    [plan] = explaining.plans
    return plan


async def test_the_clinicians_page_reads_every_table_and_the_earlier_results_from_indexes(
    db: asyncpg.Connection,
) -> None:
    """The page, its versions, its results and each result's newest few earlier ones: no sequential scan, no sort
    of lab_observation rows (the earlier results come from lab_observation_newest in their order)."""
    now = datetime.now(UTC)
    plan = await _explained(
        db,
        lambda c: queries.clinician_reports_page(
            c, uuid.uuid4(), before_at=None, before_id=None, limit=11, now=now, per_observation=5
        ),
    )
    assert _sorted_observation_scans(plan) == [], json.dumps(plan, indent=1)
    assert all(node["Node Type"] != "Seq Scan" for node in _nodes(plan)), json.dumps(plan, indent=1)
    tables = {node.get("Relation Name") for node in _nodes(plan)} - {None}
    assert tables == {"lab_report", "lab_report_version", "lab_observation"}, tables


async def test_the_trend_reads_the_newest_from_the_index(db: asyncpg.Connection) -> None:
    now = datetime.now(UTC)
    plan = await _explained(db, lambda c: queries.citizen_trend(c, uuid.uuid4(), "718-7", now, 20))
    assert _sorted_observation_scans(plan) == [], json.dumps(plan, indent=1)
    assert all(node["Node Type"] != "Seq Scan" for node in _nodes(plan)), json.dumps(plan, indent=1)
