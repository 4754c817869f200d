"""The embedded PostgreSQL (pgserver) used when DATABASE_URL is unset: real Postgres, no set-up."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

log = logging.getLogger("helsekort.db")


class EmbeddedPostgres:
    """A pgserver instance in the data directory; `stop()` releases this process's handle cleanly."""

    def __init__(self, data_dir: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pgserver

        self.data_dir = (data_dir / "postgres").resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._server: Any = pgserver.get_server(self.data_dir, cleanup_mode="stop")  # type: ignore[attr-defined]
        log.info("embedded postgres started", extra={"data_dir": str(self.data_dir)})

    @property
    def uri(self) -> str:
        return str(self._server.get_uri())

    def uri_for(self, database: str) -> str:
        return str(self._server.get_uri(database))

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
            log.info("embedded postgres handle released")
