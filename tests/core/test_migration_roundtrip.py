"""Issue 13's schema migrations have tested downgrades: down through them and up again, rows kept (own database)."""

from __future__ import annotations

import ast
from pathlib import Path

import asyncpg

from tests.support.own_database import run_in_own_database

ROOT = Path(__file__).resolve().parents[2]


async def test_the_distribution_migrations_go_down_and_up_again_keeping_rows(server_url: str) -> None:
    result = await run_in_own_database(server_url, "tests.core.migration_roundtrip", "helsekort_roundtrip")

    top, bottom, again = result["top"], result["bottom"], result["again"]
    assert again == top
    # At the bottom the schema is as before issue 13: one `patient` column, one id key, no lookup tables.
    assert "event.patient uuid YES" in bottom["columns"]
    assert "patient.fnr_digest bytea NO" in bottom["columns"]
    assert not any(
        column.startswith(("patient_identity.", "topic_event.", "audit_log_global.")) for column in bottom["columns"]
    )
    assert "pregnancy_note pregnancy_note_pkey PRIMARY KEY (id)" in bottom["constraints"]
    assert "pregnancy_note pregnancy_note_pkey PRIMARY KEY (patient_id, id)" in top["constraints"]
    # The rows kept apart at the top went back where they were, and came out again.
    rows = result["rows"]
    assert rows["identity"] == rows["patient"] == rows["token_owner"]
    assert (rows["editor_rows"], rows["topic_events"]) == (1, 1)


def test_no_migration_imports_live_application_code() -> None:
    """A migration must run the same in a year: it may import Piccolo and the runner's helper, nothing of the app."""
    allowed = {"backend.db.migrate"}
    offenders = []
    for path in sorted((ROOT / "backend").glob("*/migrations/*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            offenders += [
                f"{path.relative_to(ROOT)}: {name}"
                for name in names
                if name.startswith("backend") and name not in allowed
            ]
    assert offenders == []


async def test_the_seeded_programme_is_the_current_default(db: asyncpg.Connection) -> None:
    """The seed is frozen in its migration; a change to `default_schedule()` needs a migration of its own."""
    from backend.pregnancy.schedule import default_schedule

    rows = await db.fetch(
        "SELECT key, label_nb, label_en, window_start_day, window_end_day, condition, kind"
        " FROM pregnancy_schedule_item ORDER BY position"
    )
    assert [tuple(row.values()) for row in rows] == [
        (i.key, i.label_nb, i.label_en, i.window_start_day, i.window_end_day, i.condition, i.kind)
        for i in default_schedule()
    ]
