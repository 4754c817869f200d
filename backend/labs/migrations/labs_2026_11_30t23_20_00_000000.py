"""lab_report.received_at: when the version shown reached Helsekort, the start of the citizen's release window.

Declared through the migration manager so Piccolo's schema snapshot knows the column; the backfill and the
recomputed release times are in the next, hand-written migration. Downgrade: Piccolo drops the column.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-30T23:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "lab_report.received_at: the release window counts from arrival"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="labs", description=DESCRIPTION)
    manager.add_column(
        table_class_name="LabReport",
        tablename="lab_report",
        column_name="received_at",
        db_column_name="received_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params={
            "default": TimestamptzNow(),
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )
    return manager
