"""Rate limits shared by every API process: fixed-window counters in PostgreSQL (`rate_limit_window`).

A limit counts hits per key in a window that starts at the key's first hit and lasts `window_seconds`
(the semantics of Litestar's limiter and of the in-process counters this replaces). Each hit is ONE
statement, `INSERT … ON CONFLICT (bucket) DO UPDATE … RETURNING`: PostgreSQL locks the key's row, so the
read, the increment (or the start of a new window) and the answer are atomic, and N hits from any number
of processes count exactly N. The clock is the database's, so API hosts with skewed clocks agree.

Why not Litestar's `RateLimitMiddleware` with a PostgreSQL `Store`: it reads the key's history with
`store.get`, appends in Python and writes it back with `store.set`, under an `anyio.Lock` that exists
only inside one process. Two processes interleaving get → set both write "history + 1": a lost count
for every race, so under exactly the load a limit is for, N processes still allow nearly N times the limit.

Once a key is over its limit, this process remembers until when (its window cannot end earlier), and
answers further hits from memory: a caller hammering the service after its 429 costs no database round trip.

The table is UNLOGGED (no WAL per hit; after a crash or a failover it is empty, which forgets at most one
window of counts) and keyed by a SHA-256 of the limit's name and the key, so no address or caller id is
stored in clear. Ended windows are deleted by the worker once a minute (`purge_job`); a key that comes back
after its window ended simply starts a new one, so the purge is never needed for correctness.

When the database cannot be reached, `hit` raises `RateLimitUnavailable` (a 503 `ServiceUnavailable` with
`Retry-After`); each caller decides what that means (see `limit_writes` and `auth.AuthFailureLimiter`).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import asyncpg
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from backend.core.errors import DATABASE_UNAVAILABLE, ServiceUnavailable, TooManyRequests
from backend.db.engine import DB

log = logging.getLogger("helsekort.ratelimit")

# Keys known to be over their limit, remembered per process; beyond this many the expired ones are dropped.
MAX_REMEMBERED = 10_000

_HIT = """
INSERT INTO rate_limit_window AS w (bucket, limit_name, window_ends, hits)
VALUES ($1, $2, now() + make_interval(secs => $3), 1)
ON CONFLICT (bucket) DO UPDATE SET
    window_ends = CASE WHEN w.window_ends <= now() THEN excluded.window_ends ELSE w.window_ends END,
    hits = CASE WHEN w.window_ends <= now() THEN 1 ELSE w.hits + 1 END
RETURNING w.hits, extract(epoch FROM w.window_ends - now())::float8
"""


# Any failure of the one fixed statement is the database's state (down, stalled, busy, read-only after a
# failover, not migrated), never the caller's input.
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    ServiceUnavailable,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    TimeoutError,
    *DATABASE_UNAVAILABLE,
)


class RateLimitUnavailable(ServiceUnavailable):
    """The counters cannot be read or written: the database is down, stalled, busy or read-only."""

    def __init__(self) -> None:
        super().__init__("the rate limit cannot be checked: the database is not reachable", retry_after=1)


@dataclass(frozen=True, slots=True)
class Count:
    """One key's count in its current window, as the hit that made it saw it."""

    limit: int
    window_seconds: int
    hits: int
    reset: int  # whole seconds until the window ends (at least 1): the Retry-After of a refusal

    @property
    def allowed(self) -> bool:
        return self.hits <= self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.hits)

    def headers(self) -> dict[str, str]:
        """The RateLimit headers (IETF draft, as Litestar's limiter sends them) for an answer under this limit."""
        return {
            "RateLimit-Policy": f"{self.limit}; w={self.window_seconds}",
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }


class RateLimit:
    """`limit` hits per key per window of `window_seconds`, counted in PostgreSQL for every process."""

    def __init__(self, name: str, limit: int, *, window_seconds: int = 60) -> None:
        if limit < 1 or window_seconds < 1:
            raise ValueError("a rate limit needs at least one hit per window of at least one second")
        self.name = name
        self.limit = limit
        self.window_seconds = window_seconds
        self._over_until: dict[bytes, float] = {}  # bucket → monotonic time its window ends

    def bucket(self, key: str) -> bytes:
        return hashlib.sha256(f"{self.name}\0{key}".encode()).digest()

    async def hit(self, key: str) -> Count:
        """Count one hit for `key` and return the count; never inside a transaction (it would hold the row)."""
        bucket = self.bucket(key)
        over_until = self._over_until.get(bucket)
        if over_until is not None:
            left = over_until - time.monotonic()
            if left > 0:
                return Count(self.limit, self.window_seconds, self.limit + 1, max(1, math.ceil(left)))
            del self._over_until[bucket]
        try:
            async with DB.connection() as connection:
                row = await connection.fetchrow(_HIT, bucket, self.name, self.window_seconds)
        except _UNAVAILABLE as exc:
            log.warning("rate limit not checked", extra={"limit": self.name, "error": type(exc).__name__})
            raise RateLimitUnavailable() from exc
        hits, seconds_left = int(row[0]), float(row[1])
        count = Count(self.limit, self.window_seconds, hits, max(1, math.ceil(seconds_left)))
        if not count.allowed:
            self._remember_over(bucket, seconds_left)
        return count

    def _remember_over(self, bucket: bytes, seconds_left: float) -> None:
        now = time.monotonic()
        if len(self._over_until) >= MAX_REMEMBERED:
            self._over_until = {key: until for key, until in self._over_until.items() if until > now}
            if len(self._over_until) >= MAX_REMEMBERED:
                self._over_until.clear()
        self._over_until[bucket] = now + seconds_left


# The shape of a write step (auth.WriteStep), repeated here so that this module stays below core/auth.py.
Step = Callable[[Scope, Receive, Send, ASGIApp], Awaitable[None]]


def limit_writes(limit: RateLimit, *, detail: str = "too many writes") -> Step:
    """A write step (`RequirePrincipal(writes=[...])`): `limit` per authenticated caller, RateLimit headers on
    the answer, 429 with Retry-After over the limit. Without the database the write is refused with 503: a
    write could not be stored anyway, and an unlimited write path is what the limit exists to prevent."""

    async def step(scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        caller = str(getattr(scope.get("user"), "caller_id", "anonymous"))
        count = await limit.hit(caller)
        headers = count.headers()
        if not count.allowed:
            raise TooManyRequests(detail, retry_after=count.reset, headers=headers)
        await next_app(scope, receive, _with_headers(send, headers))

    return step


def _with_headers(send: Send, headers: Mapping[str, str]) -> Send:
    encoded = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), *encoded]
        await send(message)

    return wrapped


async def purge_expired_windows() -> int:
    """Delete the counters whose window has ended (a returning key starts a new window anyway)."""
    async with DB.connection() as connection:
        result: str = await connection.execute("DELETE FROM rate_limit_window WHERE window_ends < now()")
    return int(result.rsplit(maxsplit=1)[-1])


PURGE_EVERY_SECONDS = 60.0
_next_purge = 0.0


async def purge_job() -> int:
    """Worker job: the purge at most once a minute. Windows end all the time on a busy service; purging each
    round would report work every round and keep the worker from ever idling."""
    global _next_purge  # noqa: PLW0603 - one schedule per worker process
    now = time.monotonic()
    if now < _next_purge:
        return 0
    _next_purge = now + PURGE_EVERY_SECONDS
    return await purge_expired_windows()
