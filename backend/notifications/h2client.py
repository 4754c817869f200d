"""A small HTTP/2 client over one TLS connection, for the FCM sender's many small POSTs; and the h2 connection
both push transports (this client and the APNs sender's aioapns protocol) use.

httpx's HTTP/2 (httpcore over anyio) cost about three times the CPU per notification of the APNs sender
(aioapns on h2): every request wrote its headers and its body as separate TLS records and socket writes.
Here requests are multiplexed on one `h2` connection, frames are written once per event-loop turn, and the
connection is opened lazily and again after the server closes it (GOAWAY, idle close). Only what FCM needs:
POST with a small body, status, headers and body back.

`PushH2Connection` is h2's connection with the per-request costs cut that a drain of 100,000 notifications
spent most of its CPU on (profiled under bench.push_mixed_load): our own, well-formed request headers are not
normalised and validated again, nor the answers' headers, of which only the status and a few are read; HPACK
indexes only the headers that repeat (method, host, topic, ...) and sends the per-notification ones (the device
token's path, ids, the authorization) as never-indexed literals without Huffman coding (pure Python, and slower
than the bytes it saves); counting open streams, which h2 does by scanning every stream for each new one, is
done every few dozen streams; and closed streams are remembered in a bounded number, so a long-lived connection
does not grow.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlsplit

from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.errors import ErrorCodes
from h2.events import (
    ConnectionTerminated,
    DataReceived,
    Event,
    RemoteSettingsChanged,
    ResponseReceived,
    StreamEnded,
    StreamReset,
    WindowUpdated,
)
from h2.exceptions import H2Error
from h2.settings import SettingCodes
from hpack import Encoder

# Request headers whose values repeat from one notification to the next, and so are worth HPACK's dynamic table.
_REPEATING_HEADERS = frozenset(
    {
        b":method",
        b":scheme",
        b":authority",
        b"host",
        b"content-type",
        b"apns-topic",
        b"apns-push-type",
        b"apns-priority",
    }
)


class _RequestEncoder(Encoder):
    """HPACK for push requests: repeating headers indexed, every other one a never-indexed plain literal (RFC 7541
    §6.2.3), which also keeps the authorization and the device tokens out of the compression context."""

    def encode(self, headers: Any, huffman: bool = True) -> bytes:
        block = []
        if self.header_table.resized:
            block.append(self._encode_table_size_change())
            self.header_table.resized = False
        for header in headers:  # bytes (name, value) pairs: h2 has encoded them
            name, value = header[0], header[1]
            block.append(self.add((name, value), name not in _REPEATING_HEADERS, False))
        return b"".join(block)


class PushH2Connection(H2Connection):
    """A client-side h2 connection for many small requests whose headers the caller builds well-formed."""

    # h2 remembers up to 65,536 closed streams per connection (about 10 MB at APNs's rates), which made a
    # 100,000-notification drain grow; a few hundred are in flight at most, so 1,024 is ample for frames still
    # arriving on a stream just closed.
    MAX_CLOSED_STREAMS = 1024
    # Streams opened between two exact counts of the open ones (each count scans every stream).
    _COUNT_EVERY = 32

    def __init__(self, *, header_encoding: str | None = None) -> None:
        super().__init__(
            H2Configuration(
                client_side=True,
                header_encoding=header_encoding,
                validate_outbound_headers=False,
                normalize_outbound_headers=False,
                # The answers are read for their status and a few named headers only, which cope with any.
                validate_inbound_headers=False,
            )
        )
        self.encoder = _RequestEncoder()
        self._open_counted = 0
        self._opened_since = self._COUNT_EVERY
        # Set by the server's first SETTINGS frame, or by the protocol when the connection ends. A new connection is
        # used only then: before it, h2 counts the server's stream limit as unlimited (aioapns as 1,000), while the
        # server holds to its own default (100 in h2) until we acknowledge its settings, so a burst would open
        # streams it refuses as a protocol error, closing the connection under requests it had already answered.
        self.settings_seen = asyncio.Event()

    def receive_data(self, data: Any) -> list[Event]:  # h2 types it as its private Buffer protocol
        events = super().receive_data(data)
        if not self.settings_seen.is_set() and any(isinstance(event, RemoteSettingsChanged) for event in events):
            self.settings_seen.set()
        return events

    @property
    def open_outbound_streams(self) -> int:
        # h2 asks this once per new stream (and only then), to refuse one above the server's limit. Between exact
        # counts, the last count plus the streams opened since is an upper bound; near the limit it is counted
        # exactly, so no stream is refused that h2 itself would allow. Counting also forgets closed streams.
        limit = self.remote_settings.max_concurrent_streams
        if self._opened_since >= self._COUNT_EVERY or self._open_counted + self._opened_since + 1 > limit:
            self._open_counted = self._open_streams(int(self.config.client_side))
            self._opened_since = 0
        count = self._open_counted + self._opened_since
        self._opened_since += 1
        return count


class ConnectionFailed(Exception):
    """The request got no answer: the connection could not be made, or closed before the answer."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(slots=True)
class _Pending:
    future: asyncio.Future[Response]
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytearray = field(default_factory=bytearray)


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.h2 = PushH2Connection(header_encoding="utf-8")
        self.transport: asyncio.Transport | None = None
        self.pending: dict[int, _Pending] = {}
        self.closed = False
        self.lost = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._window = asyncio.Event()
        self._flush_scheduled = False

    # -- asyncio ------------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.h2.initiate_connection()
        self.h2.update_settings({SettingCodes.ENABLE_PUSH: 0, SettingCodes.INITIAL_WINDOW_SIZE: 1024 * 1024})
        self.h2.increment_flow_control_window(16 * 1024 * 1024)
        self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.lost.set()
        self._fail_all(above=0)
        self._room.set()
        self._window.set()
        self.h2.settings_seen.set()

    def data_received(self, data: bytes) -> None:
        try:
            events = self.h2.receive_data(data)
        except H2Error:
            self.close()
            return
        for event in events:
            if isinstance(event, ResponseReceived):
                pending = self.pending.get(event.stream_id)
                if pending is not None:
                    headers = {str(name): str(value) for name, value in event.headers or []}
                    pending.status = int(headers.get(":status", "0"))
                    pending.headers = headers
            elif isinstance(event, DataReceived):
                pending = self.pending.get(event.stream_id)
                if pending is not None and event.data:
                    pending.body += event.data
                if event.flow_controlled_length:
                    with contextlib.suppress(H2Error):
                        self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, StreamEnded):
                pending = self.pending.pop(event.stream_id, None)
                if pending is not None and not pending.future.done():
                    pending.future.set_result(Response(pending.status, pending.headers, bytes(pending.body)))
                self._room.set()
                self._close_when_drained()
            elif isinstance(event, StreamReset):
                pending = self.pending.pop(event.stream_id, None)
                if pending is not None and not pending.future.done():
                    pending.future.set_exception(ConnectionFailed(f"stream reset ({event.error_code!r})"))
                self._room.set()
            elif isinstance(event, WindowUpdated):
                self._window.set()
            elif isinstance(event, RemoteSettingsChanged):
                self._room.set()
            elif isinstance(event, ConnectionTerminated):
                # GOAWAY: streams the server did not take are failed now; the others may still be answered.
                self.closed = True
                last = event.last_stream_id if event.last_stream_id is not None else 0
                self._fail_all(above=last)
                self._room.set()
                self._close_when_drained()
        self._flush()

    # -- requests -----------------------------------------------------------------------------------

    async def request(self, headers: list[tuple[str, str]], body: bytes) -> Response:
        while not self.closed and len(self.pending) >= self.h2.remote_settings.max_concurrent_streams:
            self._room.clear()
            await self._room.wait()
        if self.closed:
            raise ConnectionFailed("connection closed")
        try:
            stream_id = self.h2.get_next_available_stream_id()
            self.h2.send_headers(stream_id, headers)
        except H2Error as exc:
            self.closed = True
            raise ConnectionFailed(repr(exc)) from exc
        pending = _Pending(asyncio.get_running_loop().create_future())
        self.pending[stream_id] = pending
        try:
            view = memoryview(body)
            while view:
                window = min(self.h2.local_flow_control_window(stream_id), self.h2.max_outbound_frame_size)
                if window <= 0:
                    self._flush()
                    self._window.clear()
                    await self._window.wait()
                    if self.closed:
                        raise ConnectionFailed("connection closed while sending")
                    continue
                self.h2.send_data(stream_id, bytes(view[:window]))
                view = view[window:]
            self.h2.end_stream(stream_id)
        except H2Error as exc:
            self.pending.pop(stream_id, None)
            raise ConnectionFailed(repr(exc)) from exc
        self._schedule_flush()
        try:
            return await pending.future
        except asyncio.CancelledError:
            # A timeout: the stream is given up, and the server told so.
            if self.pending.pop(stream_id, None) is not None and not self.closed:
                with contextlib.suppress(H2Error):
                    self.h2.reset_stream(stream_id, ErrorCodes.CANCEL)
                    self._schedule_flush()
            raise

    def close(self) -> None:
        self.closed = True
        if self.transport is not None and not self.transport.is_closing():
            with contextlib.suppress(H2Error):
                self.h2.close_connection()
            self._flush()
            self.transport.close()

    # -- internals ----------------------------------------------------------------------------------

    def _fail_all(self, *, above: int) -> None:
        """Fail the requests on streams numbered above `above` (0: every one)."""
        for stream_id in [stream_id for stream_id in self.pending if stream_id > above]:
            pending = self.pending.pop(stream_id)
            if not pending.future.done():
                pending.future.set_exception(ConnectionFailed("connection closed before the answer"))

    def _close_when_drained(self) -> None:
        """After a GOAWAY, the connection is closed once its last answer is in."""
        if self.closed and not self.pending and self.transport is not None and not self.transport.is_closing():
            self._flush()
            self.transport.close()

    def _schedule_flush(self) -> None:
        # Many requests started in one loop turn go out in one write.
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        data = self.h2.data_to_send()
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)


class H2Client:
    """POSTs to one https origin over one HTTP/2 connection, made when first needed and again after it closes."""

    def __init__(self, base_url: str, ssl_context: ssl.SSLContext, *, connect_timeout: float = 10.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError(f"an https base URL is needed, not {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or 443
        self.authority = parts.netloc
        self.ssl_context = ssl_context
        self.ssl_context.set_alpn_protocols(["h2"])
        self.connect_timeout = connect_timeout
        self.connections_made = 0
        self._protocol: _Protocol | None = None
        self._connecting = asyncio.Lock()

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> Response:
        protocol = await self._connection()
        request = [
            (":method", "POST"),
            (":scheme", "https"),
            (":authority", self.authority),
            (":path", path),
            *headers.items(),
            ("content-length", str(len(body))),
        ]
        return await protocol.request(request, body)

    async def _connection(self) -> _Protocol:
        protocol = self._protocol
        if protocol is not None and not protocol.closed:
            return protocol
        async with self._connecting:
            if self._protocol is not None and not self._protocol.closed:
                return self._protocol
            if self._protocol is not None:
                self._protocol.close()
            loop = asyncio.get_running_loop()
            made: _Protocol | None = None
            try:
                async with asyncio.timeout(self.connect_timeout):
                    _, made = await loop.create_connection(_Protocol, self.host, self.port, ssl=self.ssl_context)
                    await made.h2.settings_seen.wait()  # PushH2Connection.settings_seen
            except BaseException as exc:
                if made is not None:
                    made.close()
                if isinstance(exc, OSError | ssl.SSLError | TimeoutError):
                    raise ConnectionFailed(f"cannot connect to {self.authority}: {exc!r}") from exc
                raise
            if made.closed:
                raise ConnectionFailed(f"{self.authority} closed the connection before its settings")
            self.connections_made += 1
            self._protocol = made
            return made

    async def close(self) -> None:
        protocol, self._protocol = self._protocol, None
        if protocol is not None:
            protocol.close()
            transport = protocol.transport
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2.0):
                    await protocol.lost.wait()
            if transport is not None and not protocol.lost.is_set():
                transport.abort()
