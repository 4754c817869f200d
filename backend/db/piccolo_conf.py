"""Piccolo configuration: the shared engine (configured at start-up) and every app with migrations."""

from piccolo.conf.apps import AppRegistry

from backend.db.engine import DB

APPS = [
    "backend.core.piccolo_app",
    "backend.medications.piccolo_app",
    "backend.notifications.piccolo_app",
    "backend.measurements.piccolo_app",
    "backend.cms.piccolo_app",
    "backend.labs.piccolo_app",
    "backend.pregnancy.piccolo_app",
    "backend.documents.piccolo_app",
    # The editor UI's own login (piccolo-admin at /admin): users and sessions.
    "piccolo.apps.user.piccolo_app",
    "piccolo_api.session_auth.piccolo_app",
]

APP_REGISTRY = AppRegistry(apps=APPS)

__all__ = ["APP_REGISTRY", "DB"]
