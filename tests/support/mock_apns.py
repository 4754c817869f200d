"""A local mock of Apple's push service: HTTP/2 over TLS on loopback that checks tokens, headers and payloads like APNs."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import logging
import os
import re
import shutil
import signal
import ssl
import tempfile
import time
import uuid
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self, cast

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.events import ConnectionTerminated, DataReceived, RequestReceived, StreamEnded, StreamReset
from h2.exceptions import ProtocolError
from h2.settings import SettingCodes

log = logging.getLogger("helsekort.notifications.mock_apns")

MAX_PAYLOAD_BYTES = 4096
PROVIDER_TOKEN_MAX_AGE = 3600  # seconds: APNs refuses provider tokens older than one hour
PUSH_TYPES = frozenset({"alert", "background", "voip", "complication", "fileprovider", "mdm", "liveactivity"})

# The reasons APNs gives for the statuses a test can ask for.
DEFAULT_REASONS = {
    400: "BadDeviceToken",
    403: "InvalidProviderToken",
    410: "Unregistered",
    413: "PayloadTooLarge",
    429: "TooManyRequests",
    500: "InternalServerError",
    503: "ServiceUnavailable",
}

_DEVICE_PATH = re.compile(r"/3/device/([^/?]*)")
_DEVICE_TOKEN = re.compile(r"[0-9a-fA-F]{64}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# Bodies are only read to check them; past this the mock stops keeping bytes but still counts them.
_BODY_KEEP_LIMIT = 64 * 1024


@dataclass(frozen=True, slots=True)
class ReceivedNotification:
    """One request the mock answered, with the answer it gave."""

    device_token: str
    headers: Mapping[str, str]
    payload: Any  # the parsed JSON body, or None when it was not JSON
    collapse_id: str | None
    apns_id: str
    status: int
    reason: str | None


@dataclass(frozen=True, slots=True)
class CertificateFiles:
    ca_file: Path
    cert_file: Path
    key_file: Path


@dataclass(slots=True)
class _Rule:
    status: int
    reason: str
    remaining: int | None  # None: every request; otherwise this many more
    timestamp_ms: int | None


@dataclass(slots=True)
class _Stream:
    headers: dict[str, str]
    body: bytearray
    size: int = 0


class MockApns:
    """The mock server; start it in the running loop (`async with MockApns(...) as mock`) and send to `mock.endpoint`.

    Checks, in APNs's order as far as it is known: the `/3/device/<token>` path, the bearer provider token
    (ES256 by `public_key`, `kid` = key id, `iss` = team id, `iat` within the hour), `apns-topic`,
    the 64-hex device token, `apns-push-type`, `apns-priority` (5 or 10), `apns-expiration`,
    `apns-collapse-id` (≤ 64 bytes) and the payload (a JSON object with an `aps` object, ≤ 4096 bytes).
    A malformed JSON body gets 400 BadPayload, the mock's own name: APNs does not document one.
    """

    def __init__(
        self,
        *,
        public_key: ec.EllipticCurvePublicKey,
        key_id: str,
        team_id: str,
        topic: str,
        host: str = "127.0.0.1",
        port: int = 0,
        cert_dir: str | Path | None = None,
        record_limit: int | None = None,
        max_concurrent_streams: int = 1000,
    ) -> None:
        self.public_key = public_key
        self.key_id = key_id
        self.team_id = team_id
        self.topic = topic
        self.host = host
        self.port = port
        self.max_concurrent_streams = max_concurrent_streams
        self.received: deque[ReceivedNotification] = deque(maxlen=record_limit)
        self.statuses: Counter[int] = Counter()
        # Every bearer token seen, with how often: one key means the client reused its provider token.
        self.provider_tokens: Counter[str] = Counter()
        self.connections_accepted = 0
        self._verified_iat: dict[str, int] = {}
        self._rules: dict[str, _Rule] = {}
        self._cert_dir = Path(cert_dir) if cert_dir is not None else None
        self._own_cert_dir: Path | None = None
        self._certificates: CertificateFiles | None = None
        self._server: asyncio.Server | None = None
        self._connections: set[_MockConnection] = set()
        self._no_connections = asyncio.Event()
        self._no_connections.set()

    # -- lifecycle ----------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._cert_dir is None:
            self._own_cert_dir = Path(tempfile.mkdtemp(prefix="helsekort-mock-apns-"))
        directory = self._cert_dir or self._own_cert_dir
        assert directory is not None
        self._certificates = write_certificates(directory, self.host)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self._certificates.cert_file, self._certificates.key_file)
        context.set_alpn_protocols(["h2"])
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _MockConnection(self), self.host, self.port, ssl=context)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("mock APNs listening on %s", self.endpoint)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for connection in list(self._connections):
                connection.abort()
            await self._server.wait_closed()
            self._server = None
        if self._own_cert_dir is not None:
            shutil.rmtree(self._own_cert_dir, ignore_errors=True)
            self._own_cert_dir = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def endpoint(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}"

    @property
    def ca_file(self) -> Path:
        if self._certificates is None:
            raise RuntimeError("the mock APNs has not been started")
        return self._certificates.ca_file

    # -- what tests ask for and look at -------------------------------------------------------------

    def respond(
        self,
        device_token: str,
        status: int,
        *,
        times: int | None = None,
        reason: str | None = None,
        timestamp_ms: int | None = None,
    ) -> None:
        """Answer this token's valid requests with `status` — always, or for the next `times` requests.

        410 answers carry `timestamp` (now, in milliseconds, unless given), as APNs's do.
        """
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None for always)")
        self._rules[device_token.lower()] = _Rule(
            status=status,
            reason=reason or DEFAULT_REASONS.get(status, "InternalServerError"),
            remaining=times,
            timestamp_ms=timestamp_ms,
        )

    def clear_responses(self) -> None:
        self._rules.clear()

    @property
    def delivered(self) -> list[ReceivedNotification]:
        return [item for item in self.received if item.status == 200]

    @property
    def distinct_provider_tokens(self) -> int:
        return len(self.provider_tokens)

    async def disconnect_all(self) -> None:
        """Send GOAWAY on every open connection and close it, as APNs does to idle or old connections."""
        for connection in list(self._connections):
            connection.go_away()
        async with asyncio.timeout(2.0):
            await self._no_connections.wait()

    def verify_provider_token(self, token: str) -> str | None:
        """The 403 reason APNs would give for this provider token, or None when it is acceptable."""
        iat = self._verified_iat.get(token)
        if iat is None:
            try:
                header = jwt.get_unverified_header(token)
                if header.get("kid") != self.key_id:
                    return "InvalidProviderToken"
                claims = jwt.decode(
                    token,
                    self.public_key,
                    algorithms=["ES256"],
                    issuer=self.team_id,
                    leeway=60,
                    options={"require": ["iss", "iat"]},
                )
            except jwt.PyJWTError:
                return "InvalidProviderToken"
            iat = int(claims["iat"])
            # The signature is checked once per token; its age is checked on every request.
            self._verified_iat[token] = iat
        if time.time() - iat > PROVIDER_TOKEN_MAX_AGE:
            return "ExpiredProviderToken"
        return None

    # -- answering ----------------------------------------------------------------------------------

    def _answer(self, headers: Mapping[str, str], body: bytes, size: int) -> tuple[int, dict[str, Any], str]:
        """Judge one request: (status, JSON body for errors, apns-id), recording it."""
        apns_id = headers.get("apns-id") or str(uuid.uuid4()).upper()
        token = ""
        payload: Any = None
        try:
            payload = json.loads(body) if body else None
        except (ValueError, UnicodeDecodeError):
            payload = None
        path = _DEVICE_PATH.fullmatch(headers.get(":path", ""))
        if path:
            token = path.group(1)
        status, reason, extra = self._judge(headers, token if path else None, payload, size)
        self.statuses[status] += 1
        self.received.append(
            ReceivedNotification(
                device_token=token,
                headers=dict(headers),
                payload=payload,
                collapse_id=headers.get("apns-collapse-id"),
                apns_id=apns_id,
                status=status,
                reason=reason,
            )
        )
        answer: dict[str, Any] = {} if reason is None else {"reason": reason, **extra}
        return status, answer, apns_id

    def _judge(
        self, headers: Mapping[str, str], token: str | None, payload: Any, size: int
    ) -> tuple[int, str | None, dict[str, Any]]:
        """(status, reason, extra answer fields) for one request; `token` is None when the path is not a device path."""
        if headers.get(":method") != "POST":
            return 405, "MethodNotAllowed", {}
        if token is None:
            return 404, "BadPath", {}
        if "apns-id" in headers and not _UUID.fullmatch(headers["apns-id"]):
            return 400, "BadMessageId", {}
        authorization = headers.get("authorization")
        if not authorization:
            return 403, "MissingProviderToken", {}
        scheme, _, provider_token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not provider_token:
            return 403, "InvalidProviderToken", {}
        self.provider_tokens[provider_token] += 1
        problem = self.verify_provider_token(provider_token)
        if problem:
            return 403, problem, {}
        topic = headers.get("apns-topic")
        if not topic:
            return 400, "MissingTopic", {}
        if topic != self.topic:
            return 400, "BadTopic", {}
        if not _DEVICE_TOKEN.fullmatch(token):
            return 400, "BadDeviceToken", {}
        if headers.get("apns-push-type") not in PUSH_TYPES:
            return 400, "InvalidPushType", {}
        if "apns-priority" in headers and headers["apns-priority"] not in ("5", "10"):
            return 400, "BadPriority", {}
        if "apns-expiration" in headers and not headers["apns-expiration"].isdigit():
            return 400, "BadExpirationDate", {}
        if len(headers.get("apns-collapse-id", "").encode()) > 64:
            return 400, "BadCollapseId", {}
        if size == 0:
            return 400, "PayloadEmpty", {}
        if size > MAX_PAYLOAD_BYTES:
            return 413, "PayloadTooLarge", {}
        if not (isinstance(payload, dict) and isinstance(payload.get("aps"), dict)):
            return 400, "BadPayload", {}
        rule = self._rules.get(token.lower())
        if rule is not None:
            if rule.remaining is not None:
                rule.remaining -= 1
                if rule.remaining == 0:
                    del self._rules[token.lower()]
            extra: dict[str, Any] = {}
            if rule.status == 410:
                extra["timestamp"] = rule.timestamp_ms if rule.timestamp_ms is not None else int(time.time() * 1000)
            return rule.status, rule.reason, extra
        return 200, None, {}


class _MockConnection(asyncio.Protocol):
    """One client's HTTP/2 connection to the mock."""

    def __init__(self, mock: MockApns) -> None:
        self._mock = mock
        self._h2 = H2Connection(H2Configuration(client_side=False))
        self._transport: asyncio.Transport | None = None
        self._streams: dict[int, _Stream] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        self._mock._connections.add(self)
        self._mock._no_connections.clear()
        self._mock.connections_accepted += 1
        self._h2.initiate_connection()
        # Generous windows and streams, as APNs's, so a client's bursts are not throttled by the mock.
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
            log.info("mock APNs: HTTP/2 protocol error from client: %r", exc)
            self._flush()
            self.abort()
            return
        for event in events:
            if isinstance(event, RequestReceived):
                self._streams[event.stream_id] = _Stream(
                    headers={_text(name).lower(): _text(value) for name, value in event.headers}, body=bytearray()
                )
            elif isinstance(event, DataReceived):
                stream = self._streams.get(event.stream_id)
                if stream is not None and event.data:
                    stream.size += len(event.data)
                    if len(stream.body) < _BODY_KEEP_LIMIT:
                        stream.body += event.data
                self._h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, StreamEnded):
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

    def _respond(self, stream_id: int) -> None:
        stream = self._streams.pop(stream_id, None)
        if stream is None:
            return
        status, answer, apns_id = self._mock._answer(stream.headers, bytes(stream.body), stream.size)
        response_headers = [(":status", str(status)), ("apns-id", apns_id)]
        if not answer:
            self._h2.send_headers(stream_id, response_headers, end_stream=True)
            return
        body = json.dumps(answer).encode()
        response_headers += [("content-type", "application/json"), ("content-length", str(len(body)))]
        self._h2.send_headers(stream_id, response_headers)
        self._h2.send_data(stream_id, body, end_stream=True)

    def _flush(self) -> None:
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
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
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
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
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
    _write_private(files.key_file, server_key)
    return files


def write_signing_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """A new APNs-style signing key (EC P-256, PKCS#8 PEM as in Apple's .p8 files) at `path`."""
    key = ec.generate_private_key(ec.SECP256R1())
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_private(path, key)
    return key


def load_verification_key(path: Path) -> ec.EllipticCurvePublicKey:
    """The public key to check provider tokens with, from a .p8 private key or a public key PEM."""
    data = path.read_bytes()
    try:
        key: Any = serialization.load_pem_private_key(data, password=None).public_key()
    except ValueError:
        key = serialization.load_pem_public_key(data)
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError(f"{path} is not an EC P-256 key, which ES256 provider tokens need")
    return key


def _write_private(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)


# -- standalone ---------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.mock_apns",
        description="Run the mock APNs for local runs; prints the HELSEKORT_APNS_* settings to point the service at it.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8443)
    parser.add_argument("--cert-dir", type=Path, required=True, help="where the CA and server certificate are written")
    parser.add_argument(
        "--key-file",
        type=Path,
        default=os.environ.get("HELSEKORT_APNS_KEY_FILE") or None,
        help="the .p8 (or public PEM) key that signs provider tokens; made in --cert-dir when not given",
    )
    parser.add_argument("--key-id", default=os.environ.get("HELSEKORT_APNS_KEY_ID") or "MOCKKEY001")
    parser.add_argument("--team-id", default=os.environ.get("HELSEKORT_APNS_TEAM_ID") or "MOCKTEAM01")
    parser.add_argument("--topic", default=os.environ.get("HELSEKORT_APNS_TOPIC") or "no.helsekort.app")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    cert_dir: Path = args.cert_dir.resolve()
    key_file: Path = (args.key_file or cert_dir / "mock-apns-key.p8").resolve()
    if not key_file.exists() and args.key_file is None:
        write_signing_key(key_file)
    mock = MockApns(
        public_key=load_verification_key(key_file),
        key_id=args.key_id,
        team_id=args.team_id,
        topic=args.topic,
        host=args.host,
        port=args.port,
        cert_dir=cert_dir,
        record_limit=1000,
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(mock, key_file))


async def _serve(mock: MockApns, key_file: Path) -> None:
    async with mock:
        print(f"HELSEKORT_APNS_CA_FILE={mock.ca_file}")
        print(f"HELSEKORT_APNS_ENDPOINT={mock.endpoint}")
        print(f"HELSEKORT_APNS_KEY_FILE={key_file}")
        print(f"HELSEKORT_APNS_KEY_ID={mock.key_id}")
        print(f"HELSEKORT_APNS_TEAM_ID={mock.team_id}")
        print(f"HELSEKORT_APNS_TOPIC={mock.topic}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for name in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(name, stop.set)
        await stop.wait()
        log.info("mock APNs stopping; answers given: %s", dict(mock.statuses))


if __name__ == "__main__":
    main()
