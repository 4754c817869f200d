"""Piccolo app for the push-notification tables (devices, topic subscriptions, delivery attempts)."""

import os

from piccolo.conf.apps import AppConfig

from backend.notifications.tables import NOTIFICATION_TABLES

APP_CONFIG = AppConfig(
    app_name="notifications",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=list(NOTIFICATION_TABLES),
    migration_dependencies=["backend.core.piccolo_app"],
    commands=[],
)
