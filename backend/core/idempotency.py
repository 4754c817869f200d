"""Idempotency-Key on POSTs: scoped to the caller; a replay gets the stored answer, another body 422, in flight 409."""

from __future__ import annotations

import gzip
import hashlib
import json
from typing import Any

import brotli  # type: ignore[import-untyped]
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from backend.core.errors import BadRequest, Conflict, UnprocessableContent
from backend.db.engine import DB

KEEP_HOURS = 24
IN_FLIGHT_LEASE_SECONDS = 60
_REPLAYED_HEADERS = {b"content-type", b"etag", b"location", b"last-modified"}


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


class IdempotencyMiddleware(ASGIMiddleware):
    """Inside authentication (it needs the caller): a router middleware, or `.handle` as a write step."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        method = str(scope.get("method", ""))
        key = _header(scope, b"idempotency-key") if method == "POST" else None
        principal = scope.get("user")
        if key is None or principal is None:
            await next_app(scope, receive, send)
            return
        if not 1 <= len(key) <= 200 or not key.isprintable():
            raise BadRequest("Idempotency-Key must be 1 to 200 printable characters", field="Idempotency-Key")
        body = await _read_body(receive)
        fingerprint = hashlib.sha256(
            b"\0".join([method.encode(), scope["path"].encode(), bytes(scope.get("query_string", b"")), body])
        ).digest()
        caller: str = principal.caller_id
        row_id = await self._claim(caller, key, method=method, path=scope["path"], fingerprint=fingerprint, send=send)
        if row_id is None:
            return
        await self._execute(row_id, body, scope, send, next_app)

    async def _claim(
        self, caller: str, key: str, *, method: str, path: str, fingerprint: bytes, send: Send
    ) -> int | None:
        async with DB.connection() as connection:
            for _ in range(2):
                row_id: int | None = await connection.fetchval(
                    """
                    INSERT INTO idempotency_key (caller, key, method, path, body_digest, created_at, locked_until,
                                                 expires_at)
                    VALUES ($1, $2, $3, $4, $5, now(), now() + make_interval(secs => $6),
                            now() + make_interval(hours => $7))
                    ON CONFLICT (caller, key) DO NOTHING
                    RETURNING id
                    """,
                    caller,
                    key,
                    method,
                    path,
                    fingerprint,
                    IN_FLIGHT_LEASE_SECONDS,
                    KEEP_HOURS,
                )
                if row_id is not None:
                    return row_id
                existing = await connection.fetchrow(
                    """
                    SELECT id, body_digest, status, response_headers, response_body,
                           expires_at < now() AS expired, locked_until < now() AS abandoned
                    FROM idempotency_key WHERE caller = $1 AND key = $2
                    """,
                    caller,
                    key,
                )
                if existing is None:
                    continue
                if existing["expired"]:
                    await connection.execute("DELETE FROM idempotency_key WHERE id = $1", existing["id"])
                    continue
                if bytes(existing["body_digest"]) != fingerprint:
                    raise UnprocessableContent(
                        "this Idempotency-Key was used for a different request; use a new key for a new request"
                    )
                if existing["status"] is not None:
                    await _replay(existing, send)
                    return None
                if existing["abandoned"]:
                    # The first attempt died mid-flight (the lease ran out): this request takes over.
                    taken: int | None = await connection.fetchval(
                        """
                        UPDATE idempotency_key SET locked_until = now() + make_interval(secs => $2)
                        WHERE id = $1 AND status IS NULL AND locked_until < now() RETURNING id
                        """,
                        existing["id"],
                        IN_FLIGHT_LEASE_SECONDS,
                    )
                    if taken is not None:
                        return taken
                raise Conflict("a request with this Idempotency-Key is still being processed; retry shortly")
        raise Conflict("a request with this Idempotency-Key is still being processed; retry shortly")

    async def _execute(self, row_id: int, body: bytes, scope: Scope, send: Send, next_app: ASGIApp) -> None:
        delivered = False

        async def replay_body() -> Any:
            nonlocal delivered
            if delivered:
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        status = 500
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", [])]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        completed = False
        try:
            await next_app(scope, replay_body, capture)
            completed = True
        finally:
            async with DB.connection() as connection:
                if completed and status < 500:
                    kept = {k.decode(): v.decode("latin-1") for k, v in headers if k.lower() in _REPLAYED_HEADERS}
                    encoding = next((v.decode("latin-1") for k, v in headers if k.lower() == b"content-encoding"), "")
                    await connection.execute(
                        """
                        UPDATE idempotency_key SET status = $2, response_headers = $3, response_body = $4,
                                                   locked_until = NULL
                        WHERE id = $1
                        """,
                        row_id,
                        status,
                        json.dumps(kept),
                        _identity_body(b"".join(chunks), encoding),
                    )
                else:
                    # Failed or crashed requests are not remembered, so the client may retry with the key.
                    await connection.execute("DELETE FROM idempotency_key WHERE id = $1", row_id)


def _identity_body(body: bytes, encoding: str) -> bytes:
    """The answer as the handler wrote it: compression (inside this step) suited the first caller's
    Accept-Encoding, not a replay's, which is sent as identity with no Content-Encoding."""
    encoding = encoding.strip().lower()
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "br":
        return bytes(brotli.decompress(body))
    return body


async def _replay(row: Any, send: Send) -> None:
    stored = json.loads(row["response_headers"] or "{}")
    headers = [(k.encode(), str(v).encode("latin-1")) for k, v in stored.items()]
    headers.append((b"idempotency-replayed", b"true"))
    await send({"type": "http.response.start", "status": row["status"], "headers": headers})
    await send({"type": "http.response.body", "body": bytes(row["response_body"] or b""), "more_body": False})


async def purge_expired_keys() -> int:
    """Worker job: forget keys older than the retention window."""
    async with DB.connection() as connection:
        result: str = await connection.execute("DELETE FROM idempotency_key WHERE expires_at < now()")
    return int(result.rsplit(maxsplit=1)[-1])
