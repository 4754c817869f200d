"""The database layer's own error; it knows nothing of HTTP (`backend.core.errors` maps it to a 503 problem)."""

from __future__ import annotations


class DatabaseUnavailable(Exception):
    """No connection to be had now (the pool is exhausted or not open): answered as 503 with Retry-After."""

    def __init__(self, detail: str, *, retry_after: int = 5) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after
