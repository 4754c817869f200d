"""What the mock APNs and the mock FCM share: a loopback TLS certificate, and an HTTP/2-over-TLS server whose
connections collect each request (headers, body) and send back the mock's answer.

A mock says what to answer in `answer_request`; everything about HTTP/2 is here. Requests are checked as they
come in (h2 validates the client's headers, so a malformed request is a protocol error, as at Apple and Google);
the mock's own answers are written well-formed and not validated again.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.events import ConnectionTerminated, DataReceived, RequestReceived, StreamEnded, StreamReset
from h2.exceptions import ProtocolError
from h2.settings import SettingCodes

log = logging.getLogger("helsekort.notifications.mock_h2")

# Bodies are only read to check them; past this a mock stops keeping bytes but still counts them.
BODY_KEEP_LIMIT = 64 * 1024

# (status, answer headers after :status, answer body; empty: none)
Answer = tuple[int, list[tuple[str, str]], bytes]


@dataclass(frozen=True, slots=True)
class CertificateFiles:
    ca_file: Path
    cert_file: Path
    key_file: Path


@dataclass(slots=True)
class _Stream:
    headers: dict[str, str]
    body: bytearray = field(default_factory=bytearray)
    size: int = 0


class MockH2Server:
    """The listening side of a mock: TLS on loopback, HTTP/2 only, its open connections; `answer_request` is the mock's."""

    name = "mock"

    def __init__(self, *, host: str, port: int, max_concurrent_streams: int = 1000) -> None:
        self.host = host
        self.port = port
        self.max_concurrent_streams = max_concurrent_streams
        self.connections_accepted = 0
        # What a client did wrong or pushed to the limit: HTTP/2 protocol errors it caused, and the most streams
        # it had open on one connection at once (a request is open from its headers until it is answered).
        self.protocol_errors = 0
        self.peak_open_streams = 0
        # Seconds a new connection's first bytes from the server (its SETTINGS) take to reach the client, as over
        # a real network; on loopback in one event loop they would arrive before the client's first request.
        self.first_write_delay = 0.0
        # Seconds the mock takes to answer a complete request, its stream open meanwhile (Apple's servers pass a
        # notification on before answering); 0 answers it in the same read.
        self.answer_delay = 0.0
        self._server: asyncio.Server | None = None
        self._connections: set[MockH2Connection] = set()
        self._no_connections = asyncio.Event()
        self._no_connections.set()

    def act_distant(self, *, max_concurrent_streams: int, latency: float = 0.05) -> None:
        """From the next connection on, behave as a server a round trip away: its SETTINGS (this stream limit)
        reach the client `latency` seconds after it connects, and each answer comes `latency` seconds after the
        request, its stream open meanwhile."""
        self.max_concurrent_streams = max_concurrent_streams
        self.first_write_delay = self.answer_delay = latency

    def answer_request(self, headers: Mapping[str, str], body: bytes, size: int) -> Answer:
        """The answer to one complete request (`body` as kept, `size` every byte of it)."""
        raise NotImplementedError

    @property
    def endpoint(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}"

    async def _listen(self, certificates: CertificateFiles) -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certificates.cert_file, certificates.key_file)
        context.set_alpn_protocols(["h2"])
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: MockH2Connection(self), self.host, self.port, ssl=context)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
            for connection in list(self._connections):
                connection.abort()
            await self._server.wait_closed()
            self._server = None

    def _go_away_all(self) -> None:
        for connection in list(self._connections):
            connection.go_away()


class MockH2Connection(asyncio.Protocol):
    """One client's HTTP/2 connection to a mock."""

    def __init__(self, mock: MockH2Server) -> None:
        self._mock = mock
        self._h2 = H2Connection(
            H2Configuration(client_side=False, validate_outbound_headers=False, normalize_outbound_headers=False)
        )
        self._transport: asyncio.Transport | None = None
        self._streams: dict[int, _Stream] = {}
        self._hold_until = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        self._mock._connections.add(self)
        self._mock._no_connections.clear()
        self._mock.connections_accepted += 1
        if self._mock.first_write_delay:
            loop = asyncio.get_running_loop()
            self._hold_until = loop.time() + self._mock.first_write_delay
            loop.call_at(self._hold_until, self._flush)
        self._h2.initiate_connection()
        # Generous windows and streams, as Apple's and Google's, so a client's bursts are not throttled by the mock.
        self._h2.update_settings(
            {
                SettingCodes.MAX_CONCURRENT_STREAMS: self._mock.max_concurrent_streams,
                SettingCodes.INITIAL_WINDOW_SIZE: 1024 * 1024,
            }
        )
        self._h2.increment_flow_control_window(16 * 1024 * 1024)
        self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self._mock._connections.discard(self)
        if not self._mock._connections:
            self._mock._no_connections.set()
        self._streams.clear()

    def data_received(self, data: bytes) -> None:
        try:
            events = self._h2.receive_data(data)
        except ProtocolError as exc:
            log.info("%s: HTTP/2 protocol error from client: %r", self._mock.name, exc)
            self._mock.protocol_errors += 1
            self._flush()
            self.abort()
            return
        for event in events:
            if isinstance(event, RequestReceived):
                self._streams[event.stream_id] = _Stream({_text(n).lower(): _text(v) for n, v in event.headers or []})
                self._mock.peak_open_streams = max(self._mock.peak_open_streams, len(self._streams))
            elif isinstance(event, DataReceived):
                stream = self._streams.get(event.stream_id)
                if stream is not None and event.data:
                    stream.size += len(event.data)
                    if len(stream.body) < BODY_KEEP_LIMIT:
                        stream.body += event.data
                self._h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, StreamEnded):
                if self._mock.answer_delay:
                    asyncio.get_running_loop().call_later(self._mock.answer_delay, self._respond_later, event.stream_id)
                else:
                    self._respond(event.stream_id)
            elif isinstance(event, StreamReset):
                self._streams.pop(event.stream_id, None)
            elif isinstance(event, ConnectionTerminated):
                self._flush()
                if self._transport is not None:
                    self._transport.close()
                return
        self._flush()

    def go_away(self) -> None:
        with contextlib.suppress(ProtocolError):
            self._h2.close_connection()
        self._flush()
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def _respond_later(self, stream_id: int) -> None:
        if self._transport is None or self._transport.is_closing():
            return
        with contextlib.suppress(ProtocolError):  # the client reset the stream, or the connection closed
            self._respond(stream_id)
        self._flush()

    def _respond(self, stream_id: int) -> None:
        stream = self._streams.pop(stream_id, None)
        if stream is None:
            return
        status, headers, body = self._mock.answer_request(stream.headers, bytes(stream.body), stream.size)
        response = [(":status", str(status)), *headers]
        if not body:
            self._h2.send_headers(stream_id, response, end_stream=True)
            return
        self._h2.send_headers(stream_id, [*response, ("content-length", str(len(body)))])
        self._h2.send_data(stream_id, body, end_stream=True)

    def _flush(self) -> None:
        if self._hold_until and asyncio.get_running_loop().time() < self._hold_until:
            return  # h2 keeps the bytes until the flush `connection_made` scheduled
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(self._h2.data_to_send())


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


# -- keys and certificates --------------------------------------------------------------------------


def write_certificates(directory: Path, host: str = "127.0.0.1") -> CertificateFiles:
    """A fresh CA and a server certificate it signed for loopback (and `host`), written as PEM files."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Helsekort mock APNs CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    names: list[x509.GeneralName] = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    try:
        extra: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        extra = x509.DNSName(host)
    if extra not in names:
        names.append(extra)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mock APNs")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    files = CertificateFiles(
        ca_file=directory / "ca.pem", cert_file=directory / "server.pem", key_file=directory / "server-key.pem"
    )
    files.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    write_private_key(files.key_file, server_key)
    return files


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    """A CA signs certificates (and CRLs); a server's key signs its TLS handshakes."""
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def write_private_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    """PKCS#8 PEM, readable by its owner only."""
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
