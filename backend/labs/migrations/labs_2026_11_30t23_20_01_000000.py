"""Backfill lab_report.received_at and move the release times of reports she does not yet see to the v1.1 rule.

CLINICAL.md v1.1 "Lab release": the delay counts from arrival or issuedAt, whichever is later, and a preliminary
report is shown only with its final version. Reports the citizen already sees (released, or past their due time)
are left alone: nothing she has seen is taken back. The stored delay is kept (due minus the first version's
issuedAt), so the configured delays need not be known here.

Irreversible by design (no backwards step): the old due times cannot be told apart afterwards, and the new ones
are never earlier than the old, so running older code on them keeps results hidden longer, never shorter.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-11-30T23:20:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "lab release window from arrival; preliminary reports wait for their final version"

SQL = """
-- The version shown arrived when its row in lab_report_version was stored; created_at if that row is missing.
UPDATE lab_report r SET received_at = coalesce(
    (SELECT v.received_at FROM lab_report_version v
     WHERE v.report = r.id AND v.patient = r.patient AND v.version = r.current_version),
    r.created_at);

-- Not yet seen (not held reports included, so a hold lifted later keeps the right window): recompute.
UPDATE lab_report r SET release_due_at = CASE
        WHEN r.status = 'preliminary' THEN NULL
        -- Older code set the due time once, from the first version's issuedAt: that difference is the delay.
        ELSE greatest(r.received_at, r.issued_at) + (r.release_due_at - coalesce(
            (SELECT v.issued_at FROM lab_report_version v WHERE v.report = r.id AND v.patient = r.patient
             AND v.version = 1),
            r.issued_at))
    END
WHERE r.release_due_at IS NOT NULL
  AND r.release_announced_at IS NULL
  -- IS NOT TRUE, not NOT: with neither time set the predicate is NULL.
  AND (NOT r.held AND (r.released_at <= now() OR r.release_due_at <= now())) IS NOT TRUE;

-- The release job selects unannounced reports released by the requester as well as those that fell due.
CREATE INDEX lab_report_release_by_requester ON lab_report (released_at)
    WHERE release_announced_at IS NULL AND NOT held;
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="labs", description=DESCRIPTION)

    async def run() -> None:
        await execute_in_migration(SQL)

    manager.add_raw(run)
    return manager
