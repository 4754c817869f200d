"""Piccolo app for the CMS tables (pages, drafts, revisions)."""

import os

from piccolo.conf.apps import AppConfig

from backend.cms.tables import CMS_TABLES

APP_CONFIG = AppConfig(
    app_name="cms",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=list(CMS_TABLES),
    migration_dependencies=["backend.core.piccolo_app"],
    commands=[],
)
