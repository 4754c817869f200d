"""Migrate a database up, down through the issue-13 schema migrations, and up again (run as a process of its own).

`python -m tests.core.migration_roundtrip DSN` prints one JSON line: the schema at the top before and after the
round trip, the schema at the bottom, and what became of rows written before going down. Piccolo's engine is
process-wide, so tests/core/test_migration_roundtrip.py runs this in a child process rather than reconfigure the
test session's engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import io
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import asyncpg

# Every app's first migration of issue 13's distribution work, undone in reverse dependency order.
ROUNDTRIP_FROM = "2026-12-01T02:30:00:000000"
ROOT = Path(__file__).resolve().parents[2]
APPS_DOWN = ("pregnancy", "labs", "measurements", "notifications", "medications", "core")

_SCHEMA = """
SELECT json_build_object(
    'columns', (SELECT json_agg(format('%s.%s %s %s', table_name, column_name, data_type, is_nullable)
                                ORDER BY table_name, column_name)
                FROM information_schema.columns WHERE table_schema = 'public'),
    'constraints', (SELECT json_agg(format('%s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
                                    ORDER BY conrelid::regclass::text, conname)
                    FROM pg_constraint WHERE connamespace = 'public'::regnamespace),
    'indexes', (SELECT json_agg(indexdef ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'public'),
    'triggers', (SELECT json_agg(format('%s %s', tgrelid::regclass, tgname) ORDER BY tgname)
                 FROM pg_trigger WHERE NOT tgisinternal)
)::text
"""


async def _schema(connection: asyncpg.Connection) -> Any:
    return json.loads(await connection.fetchval(_SCHEMA))


async def _rows_without_a_patient(connection: asyncpg.Connection, patient_id: uuid.UUID) -> None:
    """What the split tables hold: a patient found by digest, an editor's audit row, a topic event, a device."""
    await connection.execute(
        """
        WITH p AS (INSERT INTO patient (id, fnr_sealed, event_seq, created_at) VALUES ($1, '\\x00', 1, now()))
        INSERT INTO patient_identity (fnr_digest, patient_id) VALUES ('\\xfeed', $1)
        """,
        patient_id,
    )
    await connection.execute(
        """
        INSERT INTO audit_log_global (actor_kind, actor, action, resource_type, resource_id, basis)
        VALUES ('editor', 'editor:roundtrip', 'cms.publish', 'page', 'roundtrip/nb', 'editor');
        INSERT INTO topic_event (topic, type, resource_type, resource_id) VALUES ('svangerskap', 'page.published',
                                                                                  'page', 'roundtrip');
        """
    )
    await connection.execute(
        """
        WITH d AS (
            INSERT INTO push_device (id, patient_id, token, platform, environment, bundle_id, locale)
            VALUES (gen_random_uuid(), $1, repeat('ab', 32), 'ios', 'production', 'no.helsekort.app', 'nb')
            RETURNING id
        )
        INSERT INTO push_device_token (token, patient_id, device_id) SELECT repeat('ab', 32), $1, id FROM d
        """,
        patient_id,
    )


async def _rows_after(connection: asyncpg.Connection, patient_id: uuid.UUID) -> dict[str, Any]:
    return {
        "identity": str(
            await connection.fetchval("SELECT patient_id FROM patient_identity WHERE fnr_digest = '\\xfeed'")
        ),
        "editor_rows": await connection.fetchval(
            "SELECT count(*) FROM audit_log_global WHERE actor = 'editor:roundtrip'"
        ),
        "topic_events": await connection.fetchval("SELECT count(*) FROM topic_event WHERE resource_id = 'roundtrip'"),
        "token_owner": str(await connection.fetchval("SELECT patient_id FROM push_device_token")),
        "patient": str(patient_id),
    }


async def _down(connection: asyncpg.Connection, app: str) -> None:
    """Undo `app`'s migrations from ROUNDTRIP_FROM on, newest first, as `piccolo migrations backwards` does.

    Not through piccolo's command: it forgets an undone migration by its id alone, in every app, and the stage-1
    migrations of issue 13 share one id across apps (each app's row is forgotten here, by app and id).
    """
    modules = {}
    for path in sorted((ROOT / "backend" / app / "migrations").glob(f"{app}_*.py")):
        module = importlib.import_module(f"backend.{app}.migrations.{path.stem}")
        modules[module.ID] = module
    ran = await connection.fetch(
        "SELECT name FROM migration WHERE app_name = $1 AND name >= $2 ORDER BY name DESC", app, ROUNDTRIP_FROM
    )
    for row in ran:
        manager = await modules[row["name"]].forwards()
        await manager.run(backwards=True)
        await connection.execute("DELETE FROM migration WHERE app_name = $1 AND name = $2", app, row["name"])


async def roundtrip(dsn: str) -> dict[str, Any]:
    from backend.db.migrate import migrate

    await migrate(dsn)
    patient_id = uuid.uuid4()
    connection = await asyncpg.connect(dsn)
    try:
        top = await _schema(connection)
        await _rows_without_a_patient(connection, patient_id)
        for app in APPS_DOWN:
            await _down(connection, app)
        bottom = await _schema(connection)
        await migrate(dsn)
        again = await _schema(connection)
        rows = await _rows_after(connection, patient_id)
    finally:
        await connection.close()
    return {"top": top, "bottom": bottom, "again": again, "rows": rows}


if __name__ == "__main__":
    with contextlib.redirect_stdout(io.StringIO()):  # the migration managers print their progress
        outcome = asyncio.run(roundtrip(sys.argv[1]))
    print(json.dumps(outcome))
