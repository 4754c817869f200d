"""Piccolo app for the core mechanisms' tables (patients, access, audit, events, idempotency)."""

import os

from piccolo.conf.apps import AppConfig

from backend.core.tables import CORE_TABLES

APP_CONFIG = AppConfig(
    app_name="core",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=list(CORE_TABLES),
    migration_dependencies=[],
    commands=[],
)
