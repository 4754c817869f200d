"""The APNs transport: one notification in, Apple's answer (or a retryable transport failure) out, over aioapns."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import ssl
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import urlsplit

from aioapns.common import NotificationRequest, NotificationResult, PushType
from aioapns.connection import (
    APNsBaseClientProtocol,
    APNsBaseConnectionPool,
    APNsTLSClientProtocol,
    JWTAuthorizationHeaderProvider,
)
from aioapns.exceptions import ConnectionClosed
from aioapns.exceptions import ConnectionError as ApnsConnectionError
from h2.connection import ConnectionState
from h2.exceptions import FlowControlError, NoAvailableStreamIDError, ProtocolError

from backend.core.settings import ApnsSettings, SettingsError
from backend.notifications.h2client import PushH2Connection

log = logging.getLogger("helsekort.notifications.apns")

ApnsEnvironment = Literal["production", "sandbox"]
Priority = Literal[5, 10]
PushTypeName = Literal["alert", "background", "voip", "complication", "fileprovider", "mdm", "liveactivity"]

# Status 0 is ours, not Apple's: the notification never got an answer from APNs, so it may be retried.
TRANSPORT_FAILURE = 0
# 401 is FCM's (APNs answers 403): an access token refused even after fetching a new one is the service
# account's problem for an operator to fix, not the phone's, so the notification waits for it.
RETRYABLE_STATUSES = frozenset({TRANSPORT_FAILURE, 401, 429, 500, 502, 503, 504})

# Registration only accepts 64 hex characters; anything that could not even form a request path is
# answered here the way APNs would answer a bad token, rather than sent.
_PATH_SAFE_TOKEN = re.compile(r"[0-9A-Za-z]{1,200}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ApnsConfig:
    """What the sender needs, mirroring `ApnsSettings` with the credentials required."""

    endpoint: str | None = None
    ca_file: str | None = None
    key_file: str
    key_id: str
    team_id: str
    topic: str

    @classmethod
    def from_settings(cls, settings: ApnsSettings) -> ApnsConfig:
        if not (settings.key_file and settings.key_id and settings.team_id and settings.topic):
            raise SettingsError(
                "push needs HELSEKORT_APNS_KEY_FILE, HELSEKORT_APNS_KEY_ID, HELSEKORT_APNS_TEAM_ID and HELSEKORT_APNS_TOPIC"
            )
        return cls(
            endpoint=settings.endpoint,
            ca_file=settings.ca_file,
            key_file=settings.key_file,
            key_id=settings.key_id,
            team_id=settings.team_id,
            topic=settings.topic,
        )


@dataclass(frozen=True, slots=True)
class SendResult:
    """The push service's answer to one notification; status 0 means no answer (connection-error, timeout, flow-control)."""

    status: int
    reason: str | None
    timestamp: int | None  # 410 only: milliseconds since the epoch when APNs last knew the token as invalid
    apns_id: str  # APNs's apns-id, or FCM's message id
    retry_after: float | None = None  # seconds the service asked us to wait (FCM's Retry-After on 429/503)

    @property
    def delivered(self) -> bool:
        return self.status == 200

    @property
    def retryable(self) -> bool:
        return self.status in RETRYABLE_STATUSES


class _Unanswered(Exception):
    """The notification got no answer from APNs; `reason` goes into the status-0 result."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# Apple's hosts, as aioapns's production and development protocols name them.
PRODUCTION_HOST = ("api.push.apple.com", 443)
SANDBOX_HOST = ("api.development.push.apple.com", 443)


class _PushProtocol(APNsTLSClientProtocol):
    """aioapns's TLS protocol on our h2 connection, with its writes batched and its streams forgotten."""

    conn: PushH2Connection

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # header_encoding None: aioapns reads the answers' headers as bytes.
        self.conn = PushH2Connection()
        self._flush_scheduled = False

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self.conn.settings_seen.set()

    def flush(self) -> None:
        # aioapns writes to the socket (one TLS record, one syscall) and re-arms its idle timer for every
        # notification and every read; here the frames of one event-loop turn go out in one write.
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self._flush_now)

    def _flush_now(self) -> None:
        self._flush_scheduled = False
        data = self.conn.data_to_send()
        if self.transport is None or self.transport.is_closing():
            return
        self.refresh_inactivity_timer()
        if data:
            self.transport.write(data)

    @property
    def is_busy(self) -> bool:
        # aioapns keeps a connection in its pool until connection_lost, which the TLS shutdown can
        # delay well after a GOAWAY; until then its pool would hand out a connection h2 has closed.
        closing = self.transport is None or self.transport.is_closing()
        return closing or super().is_busy

    def on_stream_ended(self, stream_id: int) -> None:
        # aioapns forgets a stream's notification id only when an error body arrives, so without
        # this every delivered notification stays in request_streams for the connection's life.
        self.request_streams.pop(stream_id, None)
        super().on_stream_ended(stream_id)


def _endpoint_protocol(host: str, port: int) -> type[_PushProtocol]:
    """Our protocol for one host: aioapns reads the host and port from class attributes."""

    class EndpointProtocol(_PushProtocol):
        APNS_SERVER = host
        APNS_PORT = port

    return EndpointProtocol


class _SharedTokenPool(APNsBaseConnectionPool):
    """aioapns's connection pool with one provider token for all its connections.

    aioapns's own key pool makes a new `JWTAuthorizationHeaderProvider` in every `create_connection`,
    so each connection (up to `max_connections`, and again after every idle close or GOAWAY) signs a
    new JWT; Apple answers 429 TooManyProviderTokenUpdates when tokens change more often than every
    20 minutes. Sharing one provider keeps aioapns's own lifetime rule (re-sign after 30 minutes, well
    inside APNs's one hour) across every connection and both environments.
    """

    protocol_class: type[_PushProtocol]

    def __init__(
        self,
        *,
        protocol_class: type[_PushProtocol],
        auth_provider: JWTAuthorizationHeaderProvider,
        topic: str,
        ssl_context: ssl.SSLContext,
        max_connections: int,
    ) -> None:
        super().__init__(topic=topic, max_connections=max_connections)
        self._topic = topic
        self.protocol_class = protocol_class
        self.ssl_context = ssl_context
        self._auth_provider = auth_provider

    async def create_connection(self) -> APNsBaseClientProtocol:
        factory = partial(
            self.protocol_class,
            self._topic,
            self.loop,
            self.discard_connection,
            self._auth_provider,
        )
        _, protocol = await self.loop.create_connection(
            factory,
            host=self.protocol_class.APNS_SERVER,
            port=self.protocol_class.APNS_PORT,
            ssl=self.ssl_context,
        )
        # Handed out once the server's settings are in (PushH2Connection.settings_seen); waiting here, under the
        # pool's lock, also keeps the sends in the order they came.
        try:
            await protocol.conn.settings_seen.wait()
        except BaseException:
            protocol.close()
            raise
        if protocol.transport is None or protocol.transport.is_closing():
            raise ConnectionClosed("connection closed before the server's settings")
        return protocol


class ApnsSender:
    """Sends notifications to APNs with token-based auth, one lazily opened HTTP/2 pool per APNs host.

    Create and use it in one event loop (aioapns binds its pools to the loop they were made in), and
    `await close()` it, or use it as an async context manager.
    """

    def __init__(
        self,
        config: ApnsConfig | ApnsSettings,
        *,
        timeout: float = 10.0,
        max_connections: int = 10,
    ) -> None:
        self.config = config if isinstance(config, ApnsConfig) else ApnsConfig.from_settings(config)
        self.timeout = timeout
        self.max_connections = max_connections
        # Read now so that a missing key file stops the worker at start, not at the first event.
        key = Path(self.config.key_file).read_text(encoding="utf-8")
        self._auth_provider = JWTAuthorizationHeaderProvider(
            key=key, key_id=self.config.key_id, team_id=self.config.team_id
        )
        self._ssl_context = ssl.create_default_context(cafile=self.config.ca_file)
        self._ssl_context.set_alpn_protocols(["h2"])
        self._protocols: dict[ApnsEnvironment, type[_PushProtocol]]
        if self.config.endpoint:
            host, port = _parse_endpoint(self.config.endpoint)
            protocol = _endpoint_protocol(host, port)
            self._protocols = {"production": protocol, "sandbox": protocol}
        else:
            self._protocols = {
                "production": _endpoint_protocol(*PRODUCTION_HOST),
                "sandbox": _endpoint_protocol(*SANDBOX_HOST),
            }
        self._pools: dict[type[_PushProtocol], _SharedTokenPool] = {}

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def send(
        self,
        device_token: str,
        environment: ApnsEnvironment,
        payload: dict[str, Any],
        *,
        collapse_id: str | None = None,
        priority: Priority = 10,
        expiration: datetime | None = None,
        push_type: PushTypeName = "alert",
    ) -> SendResult:
        """Send one notification and return APNs's answer; transport failures come back as status 0."""
        if environment not in self._protocols:
            raise ValueError(f"environment must be production or sandbox, not {environment!r}")
        if priority not in (5, 10):
            raise ValueError(f"priority must be 5 or 10, not {priority!r}")
        kind = PushType(push_type)
        # aioapns serialises after it has sent the headers, which would leave a half-open stream.
        json.dumps(payload, ensure_ascii=False)
        apns_id = str(uuid.uuid4())
        if not _PATH_SAFE_TOKEN.fullmatch(device_token):
            return SendResult(400, "BadDeviceToken", None, apns_id)
        request = NotificationRequest(
            device_token=device_token,
            message=payload,
            notification_id=apns_id,
            time_to_live=None if expiration is None else _time_to_live(expiration),
            priority=priority,
            collapse_key=collapse_id,
            push_type=kind,
        )
        try:
            result = await self._deliver(self._pool(environment), request)
        except _Unanswered as failure:
            return SendResult(TRANSPORT_FAILURE, failure.reason, None, apns_id)
        return SendResult(
            status=int(result.status),
            reason=result.description or None,
            timestamp=result.timestamp,
            apns_id=result.notification_id,
        )

    async def close(self) -> None:
        """Close every connection and wait (briefly) until their transports are gone."""
        pools = list(self._pools.values())
        self._pools.clear()
        for pool in pools:
            pool.close()
        # aioapns only closes the transports; waiting for connection_lost keeps them from outliving the
        # loop. aioapns offers nothing to await, so poll its connection lists.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2.0):
                while any(pool.connections for pool in pools):  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
        for pool in pools:
            for connection in list(pool.connections):
                if connection.transport is not None:
                    connection.transport.abort()

    def _pool(self, environment: ApnsEnvironment) -> _SharedTokenPool:
        protocol = self._protocols[environment]
        pool = self._pools.get(protocol)
        if pool is None:
            # Made here, inside the running loop: aioapns's pool calls asyncio.get_event_loop() when built.
            pool = _SharedTokenPool(
                protocol_class=protocol,
                auth_provider=self._auth_provider,
                topic=self.config.topic,
                ssl_context=self._ssl_context,
                max_connections=self.max_connections,
            )
            self._pools[protocol] = pool
        return pool

    async def _deliver(self, pool: _SharedTokenPool, request: NotificationRequest) -> NotificationResult:
        # Two tries: a pooled connection can die (idle close, GOAWAY) between acquire and answer, and a
        # fresh one usually works; anything longer is the worker's backoff, not ours. aioapns's own
        # pool.send_notification is not used because it sleeps a second between attempts.
        for _ in range(2):
            try:
                async with asyncio.timeout(self.timeout):
                    connection = await pool.acquire()
            except (ApnsConnectionError, TimeoutError) as exc:
                # aioapns raises its ConnectionError from inside the handler, so the cause is the context.
                cause = repr(exc.__context__) if isinstance(exc, ApnsConnectionError) else f"none in {self.timeout}s"
                log.warning("APNs at %s unreachable: %s", pool.protocol_class.APNS_SERVER, cause)
                raise _Unanswered("connection-error") from exc
            try:
                async with asyncio.timeout(self.timeout):
                    return await connection.send_notification(request)
            except (ConnectionClosed, NoAvailableStreamIDError) as exc:
                log.info("APNs connection closed under notification %s: %r", request.notification_id, exc)
                connection.close()
            except FlowControlError as exc:
                # The server's window is full: too many notifications in flight on one connection.
                raise _Unanswered("flow-control") from exc
            except ProtocolError as exc:
                # h2 refused to open the stream: the connection has had a GOAWAY, or the server lowered
                # its stream limit under aioapns's count; then only the stream slot is given back.
                log.info("APNs connection refused notification %s: %r", request.notification_id, exc)
                if connection.conn.state_machine.state is ConnectionState.CLOSED:
                    connection.close()
                else:
                    connection.free_channels.release()
            except TimeoutError as exc:
                _forget(connection, request)
                # A connection that leaves a request unanswered this long is treated as dead.
                connection.close()
                raise _Unanswered("timeout") from exc
            except asyncio.CancelledError:
                _forget(connection, request)
                raise
        raise _Unanswered("connection-error")


def _forget(connection: APNsBaseClientProtocol, request: NotificationRequest) -> None:
    """Drop a cancelled request so that a late answer or connection_lost does not resolve a cancelled future."""
    connection.requests.pop(request.notification_id, None)


def _time_to_live(expiration: datetime) -> int:
    """Seconds from now, which aioapns adds back to int(time.time()) for the apns-expiration header."""
    if expiration.tzinfo is None:
        raise ValueError("expiration must be timezone-aware")
    return int(expiration.timestamp()) - int(time.time())


def _parse_endpoint(endpoint: str) -> tuple[str, int]:
    parts = urlsplit(endpoint)
    if parts.scheme != "https" or not parts.hostname or parts.path not in ("", "/"):
        raise SettingsError(f"HELSEKORT_APNS_ENDPOINT must be a base URL like https://127.0.0.1:8443, not {endpoint!r}")
    return parts.hostname, parts.port or 443
