"""The edge of the service, around every request: request id, security headers, metrics, one JSON access-log line.

The request metrics are recorded here with prometheus_client rather than by Litestar's Prometheus
middleware: that middleware builds a Request, label dicts and a wrapped send per request, which
measured about a fifth of a clinician read's CPU under load (py-spy, bench/); this middleware already
has the status and the duration. /metrics is still Litestar's PrometheusController.
"""

from __future__ import annotations

import functools
import itertools
import logging
import re
import secrets
import string
import time
from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import Counter, Gauge, Histogram

from backend.core.errors import NotFound
from backend.core.logs import TRUSTED, request_id_var, scrub

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
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_KNOWN_CALLERS = frozenset({"citizen", "clinician", "editor", "system", "anonymous"})
# A route template the access log writes unescaped and unscrubbed: no quote, backslash or space, no six digits in
# a row (a fødselsnummer has eleven), nothing a token starts with (core/logs.py `scrub`).
_SAFE_TEMPLATE = re.compile(r"^(?!.*\d{6})(?!.*eyJ)[A-Za-z0-9_./{}:-]{1,300}$")


class _RequestIds:
    """Unique, not secret: a random per-process prefix and a counter (uuid4's getrandom call per request was
    a fifth of the citizen route's CPU under load, measured with py-spy).

    The prefix is letters only and the counter unpadded hex, so an id never holds eleven digits in a row:
    the log scrubber would otherwise take it for a fødselsnummer and the logged id would not match the header.
    """

    def __init__(self) -> None:
        self._prefix = "".join(secrets.choice(string.ascii_lowercase) for _ in range(16))
        self._counter = itertools.count(1)

    def next(self) -> str:
        return f"{self._prefix}{next(self._counter):x}"


_request_ids = _RequestIds()


# Answers that carry patient data (and their errors) are never stored by a browser, proxy or app cache.
_NO_STORE_PREFIXES = ("/citizen/", "/clinician/")
_ALWAYS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)
# HTML is only the editor UI (/admin) and the API page (/schema): scripts and styles from this origin only.
STRICT_HTML_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_STRICT_HTML_POLICY = STRICT_HTML_POLICY.encode()
# The editor UI (piccolo-admin, a Vue app) sets inline styles; its scripts still come from this origin only.
_ADMIN_HTML_POLICY = STRICT_HTML_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'").encode()


def schema_page_policy(asset_origins: Sequence[str]) -> str:
    """The API page's policy: its renderer's asset origins, and inline styles (the renderer injects them)."""
    sources = " ".join(["'self'", *sorted(set(asset_origins))])
    return (
        f"default-src 'none'; script-src {sources}; style-src {sources} 'unsafe-inline'; "
        f"img-src {sources} data:; font-src {sources} data:; connect-src 'self'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    )


def _security_headers(path: str, headers: list[Any], schema_policy: bytes) -> list[Any]:
    html = False
    kept: list[Any] = []
    no_store = path.startswith(_NO_STORE_PREFIXES)
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"content-type":
            html = value.startswith(b"text/html")
        elif no_store and lowered == b"cache-control":
            continue
        kept.append((name, value))
    kept.extend(_ALWAYS)
    if no_store:
        kept.append((b"cache-control", b"no-store"))
    if html:
        if path == "/schema" or path.startswith("/schema/"):
            policy = schema_policy
        elif path == "/admin" or path.startswith("/admin/"):
            policy = _ADMIN_HTML_POLICY
        else:
            policy = _STRICT_HTML_POLICY
        kept.append((b"content-security-policy", policy))
    return kept


@functools.lru_cache(maxsize=4096)
def _series(method: str, template: str, status: int) -> tuple[Any, Any]:
    """The request counter's and the duration histogram's series for one answer (`labels()` locks and builds its
    key on every call). A method outside HTTP's own is counted as OTHER: a client's made-up methods must not each
    become a series of their own. Templates are the app's routes, and `unmatched`."""
    label = method if method in _KNOWN_METHODS else "OTHER"
    return REQUESTS.labels(label, template, status), REQUEST_SECONDS.labels(label, template)


def edge_middleware(app: ASGIApp, *, schema_asset_origins: Sequence[str] = ()) -> ASGIApp:
    """Wrap the whole application (outside Litestar's exception handling, so errors and unmatched routes are
    covered too): request id, security headers, request metrics and one JSON access-log line per request."""
    schema_policy = schema_page_policy(schema_asset_origins).encode()

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # type: ignore[comparison-overlap]
            await app(scope, receive, send)
            return
        incoming = ""
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        # A client's id is echoed and logged only if it is well-formed and holds nothing the scrubber would hide.
        valid = incoming and _VALID_ID.match(incoming) and scrub(incoming) == incoming
        request_id = incoming if valid else _request_ids.next()
        scope.setdefault("state", {})["request_id"] = request_id
        path = scope["path"]
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status: dict[str, int] = {"code": 500}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = _security_headers(path, list(message.get("headers", [])), schema_policy)
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        IN_PROGRESS.inc()
        try:
            await app(scope, receive, send_with_headers)
        finally:
            IN_PROGRESS.dec()
            elapsed = time.perf_counter() - started
            # The route template (not the path) keeps patient ids out of the metric labels and the log.
            template = scope.get("path_template") or "unmatched"
            method = scope.get("method", "")
            counter, timer = _series(method, template, status["code"])
            counter.inc()
            timer.observe(elapsed)
            if path not in ("/health", "/metrics") and access_log.isEnabledFor(logging.INFO):
                user = scope.get("user")
                fields: dict[str, Any] = {
                    "method": method,
                    "route": template,
                    "status": status["code"],
                    "durationMs": round(elapsed * 1000, 2),
                    "caller": getattr(user, "kind", None) or "anonymous",
                }
                if method in _KNOWN_METHODS and fields["caller"] in _KNOWN_CALLERS and _SAFE_TEMPLATE.match(template):
                    fields[TRUSTED] = True
                # makeRecord + handle is what `info` does, without looking up the caller's frame.
                access_log.handle(
                    access_log.makeRecord(access_log.name, logging.INFO, __file__, 0, "request", (), None, extra=fields)
                )
            request_id_var.reset(token)

    return middleware


def metrics_client_allowed(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard of /metrics: only clients in HELSEKORT_METRICS_ALLOW (default loopback) see it; others get 404."""
    client = connection.client.host if connection.client else ""
    allowed: tuple[IPv4Network | IPv6Network, ...] = connection.app.state.settings.metrics_networks
    try:
        address = ip_address(client)
    except ValueError:
        raise NotFound("no such route") from None
    if not any(address in network for network in allowed):
        raise NotFound("no such route")
