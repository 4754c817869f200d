"""Piccolo app for måledata: measurements and NEWS2 scores."""

import os

from piccolo.conf.apps import AppConfig

from backend.measurements.tables import MEASUREMENT_TABLES

APP_CONFIG = AppConfig(
    app_name="measurements",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=list(MEASUREMENT_TABLES),
    migration_dependencies=["backend.core.piccolo_app"],
    commands=[],
)
