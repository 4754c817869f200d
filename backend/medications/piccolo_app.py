"""Piccolo app for the medication list's tables."""

import os

from piccolo.conf.apps import AppConfig

from backend.medications.tables import MEDICATION_TABLES

APP_CONFIG = AppConfig(
    app_name="medications",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=list(MEDICATION_TABLES),
    migration_dependencies=["backend.core.piccolo_app"],
    commands=[],
)
