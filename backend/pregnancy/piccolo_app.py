"""Piccolo app for the pregnancy card's tables."""

import os

from piccolo.conf.apps import AppConfig

from backend.pregnancy.tables import PREGNANCY_TABLES

APP_CONFIG = AppConfig(
    app_name="pregnancy",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=list(PREGNANCY_TABLES),
    migration_dependencies=["backend.core.piccolo_app"],
    commands=[],
)
