"""The hand-written migration that moves stored reports to the v1.1 release rule, run on reports in the old state."""

from __future__ import annotations

import importlib
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from litestar import Litestar

from tests.factories import new_citizen, new_clinician, relate
from tests.labs.reports import lab_report, posted

MIGRATION = importlib.import_module("backend.labs.migrations.labs_2026_11_30t23_20_01_000000")
WEEK = timedelta(days=7)
RENAMED_SINCE = """
ALTER TABLE lab_report RENAME COLUMN {new} TO {old};
ALTER TABLE lab_report_version RENAME COLUMN {new} TO {old};
"""


async def test_backfill_moves_unseen_reports_to_the_window_from_arrival_and_leaves_seen_ones_alone(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    """CLINICAL.md v1.1 "Lab release": delay from arrival; preliminary waits; nothing she has seen is taken back."""
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    now = datetime.now(UTC)
    unseen = uuid.UUID(await posted(client, gp, citizen.patient_id, lab_report(issued_at=now - timedelta(days=4))))
    preliminary = uuid.UUID(
        await posted(
            client, gp, citizen.patient_id, lab_report(status="preliminary", issued_at=now - timedelta(hours=1))
        )
    )
    seen = uuid.UUID(await posted(client, gp, citizen.patient_id, lab_report(issued_at=now - timedelta(days=10))))
    arrived = now - timedelta(days=1)

    transaction = db.transaction()  # rolled back: the shared test database stays as it was
    await transaction.start()
    try:
        # The state older code left: due a week after issuedAt, whenever the report came; no received_at yet.
        await db.execute(
            "UPDATE lab_report SET release_due_at = issued_at + interval '7 days', received_at = 'epoch'"
            " WHERE id = ANY($1::uuid[])",
            [unseen, preliminary, seen],
        )
        await db.execute(
            "UPDATE lab_report_version SET received_at = $2 WHERE report = ANY($1::uuid[])",
            [unseen, preliminary, seen],
            arrived,
        )
        # The migration was written for the schema of its day, before the patient column was `patient_id`.
        await db.execute(RENAMED_SINCE.format(new="patient_id", old="patient"))
        await db.execute(MIGRATION.SQL.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS"))
        await db.execute(RENAMED_SINCE.format(new="patient", old="patient_id"))
        rows = {
            row["id"]: row
            for row in await db.fetch(
                "SELECT id, received_at, issued_at, release_due_at FROM lab_report WHERE id = ANY($1::uuid[])",
                [unseen, preliminary, seen],
            )
        }
    finally:
        await transaction.rollback()

    assert {row["received_at"] for row in rows.values()} == {arrived}
    assert rows[unseen]["release_due_at"] == arrived + WEEK
    assert rows[preliminary]["release_due_at"] is None
    # Due three days ago under the old rule: she may have seen it, so it stays as it was.
    assert rows[seen]["release_due_at"] == rows[seen]["issued_at"] + WEEK
