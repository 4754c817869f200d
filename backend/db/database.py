"""Resolve the database to use: DATABASE_URL, or the embedded PostgreSQL in the data directory."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from backend.db.embedded import EmbeddedPostgres
from backend.settings import Settings


@contextlib.contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """Yield a DSN; when the embedded server had to be started, release it on exit."""
    if settings.database_url:
        yield settings.database_url
        return
    embedded = EmbeddedPostgres(settings.data_dir)
    try:
        yield embedded.uri
    finally:
        embedded.stop()
