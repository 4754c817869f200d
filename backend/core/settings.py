"""The settings as domains see them: the frozen `Settings`, its parts, and the accessor for a request's app.

Domains import these from here, never from `backend.settings`, so the core stays the only way down.
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from backend.settings import ApnsSettings, FcmSettings, Settings, SettingsError


def app_settings(request: Request[Any, Any, Any]) -> Settings:
    """The settings the running app was created with (`create_app` keeps them in the app's state)."""
    settings: Settings = request.app.state.settings
    return settings


__all__ = ["ApnsSettings", "FcmSettings", "Settings", "SettingsError", "app_settings"]
