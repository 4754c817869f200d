"""ASGI middleware shared by every route: a request id on every response, one JSON access-log line, and metrics.

The request metrics are recorded here with prometheus_client rather than by Litestar's Prometheus
middleware: that middleware builds a Request, label dicts and a wrapped send per request, which
measured about a fifth of a clinician read's CPU under load (py-spy, bench/); this middleware already
has the status and the duration. /metrics is still Litestar's PrometheusController.
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import time
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import Counter, Gauge, Histogram

from backend.core.logs import request_id_var

access_log = logging.getLogger("helsekort.access")

REQUESTS = Counter("helsekort_requests", "HTTP requests answered", ["method", "path", "status_code"])
REQUEST_SECONDS = Histogram(
    "helsekort_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "path"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
IN_PROGRESS = Gauge("helsekort_requests_in_progress", "HTTP requests being answered", multiprocess_mode="livesum")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class _RequestIds:
    """Unique, not secret: a random per-process prefix and a counter (uuid4's getrandom call per request was
    a fifth of the citizen route's CPU under load, measured with py-spy)."""

    def __init__(self) -> None:
        self._prefix = secrets.token_hex(8)
        self._counter = itertools.count(1)

    def next(self) -> str:
        return f"{self._prefix}{next(self._counter):012x}"


_request_ids = _RequestIds()


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # type: ignore[comparison-overlap]
            await app(scope, receive, send)
            return
        incoming = ""
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        request_id = incoming if incoming and _VALID_ID.match(incoming) else _request_ids.next()
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status: dict[str, int] = {"code": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers: list[Any] = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        IN_PROGRESS.inc()
        try:
            await app(scope, receive, send_with_id)
        finally:
            IN_PROGRESS.dec()
            elapsed = time.perf_counter() - started
            # The route template (not the path) keeps patient ids out of the metric labels.
            template = scope.get("path_template", "unmatched")
            method = scope.get("method", "")
            REQUESTS.labels(method, template, status["code"]).inc()
            REQUEST_SECONDS.labels(method, template).observe(elapsed)
            if scope["path"] not in ("/health", "/metrics"):
                access_log.info(
                    "request",
                    extra={
                        "method": scope.get("method", ""),
                        "path": scope["path"],
                        "status": status["code"],
                        "ms": round(elapsed * 1000, 2),
                    },
                )
            request_id_var.reset(token)

    return middleware
