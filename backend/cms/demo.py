"""The CMS's demo: the dev editor who logs in to /admin (outside production only).

The pages themselves are the demo content in content/, loaded by `helsekort content sync`
(`make run` does both through `helsekort serve --prepare`).
"""

from __future__ import annotations

import os

from backend.core.demo import demo_loader
from backend.core.settings import Settings

# piccolo's user table finds its engine through PICCOLO_CONF: the shared one.
os.environ.setdefault("PICCOLO_CONF", "backend.db.piccolo_conf")

DEV_EDITOR_USERNAME = "editor"
DEV_EDITOR_PASSWORD = "helsekort-dev-editor"  # noqa: S105 - dev only; never created in production


async def ensure_dev_editor(settings: Settings) -> str:
    """Create the dev editor for /admin unless it exists; in production there is no default user."""
    from piccolo.apps.user.tables import BaseUser

    if settings.is_production:
        return "cms: no default /admin editor in production; create one with `piccolo user create`"
    exists = await BaseUser.exists().where(BaseUser.username == DEV_EDITOR_USERNAME)
    if not exists:
        await BaseUser.create_user(
            username=DEV_EDITOR_USERNAME,
            password=DEV_EDITOR_PASSWORD,
            email="editor@helsekort.invalid",
            active=True,
            admin=True,
            superuser=False,
        )
    return f"cms: /admin editor {DEV_EDITOR_USERNAME!r}, password {DEV_EDITOR_PASSWORD!r} (dev only)"


load_cms_demo = demo_loader("cms")(ensure_dev_editor)
