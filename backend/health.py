"""Service routes: liveness, readiness (the database answers) and nothing else."""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, get
from litestar.datastructures import State

from backend.core.db import DB, DatabaseUnavailable
from backend.core.errors import ServiceUnavailable

# A probe must answer before the orchestrator's own probe timeout (commonly 1 s), stalled database or not.
READY_ACQUIRE_SECONDS = 0.4
READY_QUERY_SECONDS = 0.4


class HealthStatus(msgspec.Struct, kw_only=True, rename="camel"):
    status: str


class HealthController(Controller):
    tags = ["service"]
    security = [{}]

    @get("/health", operation_id="health", summary="200 while the process lives", opt={"database": False})
    async def health(self) -> HealthStatus:
        return HealthStatus(status="ok")

    @get("/ready", operation_id="ready", summary="200 only when the database answers")
    async def ready(self, request: Request[object, object, State]) -> HealthStatus:
        try:
            async with DB.connection(acquire_timeout=READY_ACQUIRE_SECONDS) as connection:
                await connection.fetchval("SELECT 1", timeout=READY_QUERY_SECONDS)
        except DatabaseUnavailable:
            raise
        except Exception as exc:
            raise ServiceUnavailable("the database does not answer", retry_after=1) from exc
        return HealthStatus(status="ready")
