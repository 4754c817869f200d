"""The database as domains see it: the one engine (`DB`) and the error of a pool that cannot give a connection.

Domains import these from here, never from `backend.db`, so the core stays the only way down (docs/architecture.md).
"""

from __future__ import annotations

from backend.db.engine import DB
from backend.db.errors import DatabaseUnavailable

__all__ = ["DB", "DatabaseUnavailable"]
