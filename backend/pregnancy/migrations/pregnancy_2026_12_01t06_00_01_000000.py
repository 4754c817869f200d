"""Reminders of the antenatal programme (issue 19): one row per card and item, so each is told exactly once.

`pregnancy_reminder` is keyed (patient_id, id), unique per (patient_id, card, item_key), and linked to its card by
(patient_id, card) like every entry of a card.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-12-01T06:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "pregnancy_reminder: the programme's reminders, once per card and item"

SQL = """
CREATE TABLE pregnancy_reminder (
    id uuid NOT NULL,
    patient_id uuid NOT NULL REFERENCES patient (id) ON DELETE RESTRICT,
    card uuid NOT NULL,
    item_key varchar(64) NOT NULL,
    starts_on date NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (patient_id, id),
    CONSTRAINT pregnancy_reminder_once UNIQUE (patient_id, card, item_key),
    FOREIGN KEY (patient_id, card) REFERENCES pregnancy_card (patient_id, id) ON DELETE RESTRICT
);
"""

BACKWARDS_SQL = """
DROP TABLE pregnancy_reminder;
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="pregnancy", description=DESCRIPTION)

    async def run() -> None:
        await execute_in_migration(SQL)

    async def run_backwards() -> None:
        await execute_in_migration(BACKWARDS_SQL)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
