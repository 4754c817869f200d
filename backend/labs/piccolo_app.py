"""Piccolo app for the lab results tables (reports, versions, observations)."""

import os

from piccolo.conf.apps import AppConfig

from backend.labs.tables import LAB_TABLES

APP_CONFIG = AppConfig(
    app_name="labs",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=list(LAB_TABLES),
    migration_dependencies=["backend.core.piccolo_app"],
    commands=[],
)
