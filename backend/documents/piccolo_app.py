"""Piccolo app for the journal documents' tables."""

import os

from piccolo.conf.apps import AppConfig

from backend.documents.tables import DOCUMENT_TABLES

APP_CONFIG = AppConfig(
    app_name="documents",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=list(DOCUMENT_TABLES),
    migration_dependencies=["backend.core.piccolo_app"],
    commands=[],
)
