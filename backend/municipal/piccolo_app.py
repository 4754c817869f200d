"""Piccolo app for the municipal services' tables."""

import os

from piccolo.conf.apps import AppConfig

from backend.municipal.tables import MUNICIPAL_TABLES

APP_CONFIG = AppConfig(
    app_name="municipal",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=list(MUNICIPAL_TABLES),
    migration_dependencies=["backend.core.piccolo_app"],
    commands=[],
)
