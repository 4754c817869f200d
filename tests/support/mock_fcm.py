"""A local mock of Firebase Cloud Messaging HTTP v1: HTTP/2 over TLS on loopback, with the OAuth2 token endpoint.

`POST /token` takes the service account's signed JWT (RS256 by `public_key`, `iss` = the client email,
`aud` = the token URI, the messaging scope) and answers an access token; `POST
/v1/projects/<project>/messages:send` checks that bearer token, the message (a token, a notification or data,
`android.priority` high|normal, `android.ttl` like `3600s`, a collapse key of at most 64 bytes) and answers
200 `{name}` or FCM's error body `{error: {code, message, status, details: [{errorCode}]}}`. Tests choose
answers per device token (`respond`), revoke access tokens (`revoke_access_tokens`), and read what came in.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
import shutil
import ssl
import tempfile
import time
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self, cast
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.events import ConnectionTerminated, DataReceived, RequestReceived, StreamEnded, StreamReset
from h2.exceptions import ProtocolError
from h2.settings import SettingCodes

from tests.support.mock_apns import CertificateFiles, write_certificates

log = logging.getLogger("helsekort.notifications.mock_fcm")

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
_SEND_PATH = re.compile(r"/v1/projects/([^/]+)/messages:send")
_TOKEN = re.compile(r"[A-Za-z0-9_:\-]{20,512}")
_TTL = re.compile(r"\d{1,10}(\.\d{1,9})?s")
MAX_PAYLOAD_BYTES = 4096

# FCM's answers: HTTP status → Google status, and the FcmError code tests ask for by status.
GOOGLE_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
DEFAULT_ERROR_CODES = {
    400: "INVALID_ARGUMENT",
    401: "THIRD_PARTY_AUTH_ERROR",
    403: "SENDER_ID_MISMATCH",
    404: "UNREGISTERED",
    429: "QUOTA_EXCEEDED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """One send the mock answered, with its answer."""

    device_token: str
    headers: Mapping[str, str]
    message: Any  # the body's `message`, or None
    status: int
    error_code: str | None


@dataclass(slots=True)
class _Rule:
    status: int
    error_code: str
    remaining: int | None
    retry_after: str | None
    invalid_token: bool


@dataclass(slots=True)
class _Stream:
    headers: dict[str, str]
    body: bytearray


def service_account(path: Path, token_uri: str, project_id: str = "helsekort-test") -> rsa.RSAPrivateKey:
    """Write a service-account JSON (a new RSA key) pointing at `token_uri`; returns the key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": project_id,
                "private_key_id": secrets.token_hex(20),
                "private_key": pem,
                "client_email": f"push@{project_id}.iam.example",
                "token_uri": token_uri,
            }
        ),
        encoding="utf-8",
    )
    return key


class MockFcm:
    """The mock; `async with MockFcm(...) as mock`, then write a service account with `mock.token_uri`."""

    def __init__(
        self,
        *,
        project_id: str = "helsekort-test",
        host: str = "127.0.0.1",
        port: int = 0,
        record_limit: int | None = None,
        access_token_lifetime: int = 3600,
    ) -> None:
        self.project_id = project_id
        self.host = host
        self.port = port
        self.access_token_lifetime = access_token_lifetime
        self.received: deque[ReceivedMessage] = deque(maxlen=record_limit)
        self.statuses: Counter[int] = Counter()
        self.tokens_issued = 0
        self.connections_accepted = 0
        self.public_key: rsa.RSAPublicKey | None = None
        self.client_email: str | None = None
        self._access: dict[str, float] = {}  # access token → expiry (time.time())
        self._rules: dict[str, _Rule] = {}
        self._dir: Path | None = None
        self._certificates: CertificateFiles | None = None
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()

    # -- lifecycle ----------------------------------------------------------------------------------

    async def start(self) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="helsekort-mock-fcm-"))
        self._certificates = write_certificates(self._dir, self.host)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self._certificates.cert_file, self._certificates.key_file)
        context.set_alpn_protocols(["h2"])
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Connection(self), self.host, self.port, ssl=context)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for connection in list(self._connections):
                connection.abort()
            await self._server.wait_closed()
            self._server = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def endpoint(self) -> str:
        return f"https://{self.host}:{self.port}"

    @property
    def token_uri(self) -> str:
        return f"{self.endpoint}/token"

    @property
    def ca_file(self) -> Path:
        if self._certificates is None:
            raise RuntimeError("the mock FCM has not been started")
        return self._certificates.ca_file

    def write_service_account(self, path: Path) -> Path:
        """A service account for this mock at `path`; the mock then accepts only its signatures."""
        key = service_account(path, self.token_uri, self.project_id)
        self.public_key = key.public_key()
        self.client_email = json.loads(path.read_text(encoding="utf-8"))["client_email"]
        return path

    # -- what tests ask for ---------------------------------------------------------------------------

    def respond(
        self,
        device_token: str,
        status: int,
        *,
        times: int | None = None,
        error_code: str | None = None,
        retry_after: str | None = None,
        invalid_token: bool = False,
    ) -> None:
        """Answer this token's valid sends with `status` (FCM's error body), always or for the next `times`.

        `invalid_token` adds the field violation on `message.token` that FCM gives for a malformed token.
        """
        self._rules[device_token] = _Rule(
            status=status,
            error_code=error_code or DEFAULT_ERROR_CODES.get(status, "INTERNAL"),
            remaining=times,
            retry_after=retry_after,
            invalid_token=invalid_token,
        )

    def revoke_access_tokens(self) -> None:
        """Every access token issued so far is refused (401) from now on."""
        self._access.clear()

    async def disconnect_all(self) -> None:
        """Send GOAWAY on every open connection and close it, as Google's front ends do to idle or old ones."""
        for connection in list(self._connections):
            connection.go_away()
        # A client that does not finish the TLS close is cut off, as a server would after its GOAWAY.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                while self._connections:  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
        for connection in list(self._connections):
            connection.abort()

    @property
    def delivered(self) -> list[ReceivedMessage]:
        return [item for item in self.received if item.status == 200]

    # -- answering ----------------------------------------------------------------------------------

    def answer(self, headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        path = headers.get(":path", "")
        if headers.get(":method") != "POST":
            return _json(405, _error(405, "method not allowed", "METHOD_NOT_ALLOWED"))
        if path == "/token":
            return self._token(body)
        match = _SEND_PATH.fullmatch(path)
        if match is None or match.group(1) != self.project_id:
            return _json(404, _error(404, "no such project or path", "NOT_FOUND"))
        return self._send(headers, body)

    def _token(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        form = parse_qs(body.decode("utf-8", "replace"))
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"] or not form.get("assertion"):
            return _json(400, {"error": "unsupported_grant_type"})
        if self.public_key is None:
            return _json(400, {"error": "invalid_grant", "error_description": "no service account known"})
        try:
            claims = jwt.decode(
                form["assertion"][0],
                self.public_key,
                algorithms=["RS256"],
                audience=self.token_uri,
                issuer=self.client_email,
                options={"require": ["iss", "aud", "iat", "exp"]},
            )
        except jwt.PyJWTError as exc:
            return _json(400, {"error": "invalid_grant", "error_description": str(exc)})
        if SCOPE not in str(claims.get("scope", "")).split():
            return _json(400, {"error": "invalid_scope"})
        token = secrets.token_urlsafe(32)
        self._access[token] = time.time() + self.access_token_lifetime
        self.tokens_issued += 1
        return _json(200, {"access_token": token, "expires_in": self.access_token_lifetime, "token_type": "Bearer"})

    def _send(self, headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        message: Any = None
        device = ""
        status, code, extra_headers, details = self._judge(headers, body)
        with contextlib.suppress(ValueError, UnicodeDecodeError, AttributeError):
            message = json.loads(body).get("message")
            device = str(message.get("token", "")) if isinstance(message, dict) else ""
        self.statuses[status] += 1
        self.received.append(ReceivedMessage(device, dict(headers), message, status, code))
        if status == 200:
            return _json(200, {"name": f"projects/{self.project_id}/messages/0:{secrets.token_hex(8)}"})
        error = _error(status, code or "", code or "")
        if details:
            error["error"]["details"].extend(details)
        return _json(status, error, extra_headers)

    def _judge(
        self, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, str | None, dict[str, str], list[dict[str, Any]]]:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        expiry = self._access.get(token) if scheme.lower() == "bearer" else None
        if expiry is None or expiry < time.time():
            return 401, "UNAUTHENTICATED", {}, []
        if len(body) > MAX_PAYLOAD_BYTES:
            return 400, "INVALID_ARGUMENT", {}, []
        try:
            message = json.loads(body)["message"]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return 400, "INVALID_ARGUMENT", {}, []
        if not isinstance(message, dict) or not ("notification" in message or "data" in message):
            return 400, "INVALID_ARGUMENT", {}, []
        data = message.get("data", {})
        if not isinstance(data, dict) or not all(isinstance(value, str) for value in data.values()):
            return 400, "INVALID_ARGUMENT", {}, []  # FCM's data values are strings only
        android = message.get("android", {})
        if android.get("priority", "normal") not in ("high", "normal"):
            return 400, "INVALID_ARGUMENT", {}, []
        if "ttl" in android and not _TTL.fullmatch(str(android["ttl"])):
            return 400, "INVALID_ARGUMENT", {}, []
        if len(str(android.get("collapse_key", "")).encode()) > 64:
            return 400, "INVALID_ARGUMENT", {}, []
        device = str(message.get("token", ""))
        if not _TOKEN.fullmatch(device):
            return 400, "INVALID_ARGUMENT", {}, [_token_violation()]
        rule = self._rules.get(device)
        if rule is None:
            return 200, None, {}, []
        if rule.remaining is not None:
            rule.remaining -= 1
            if rule.remaining <= 0:
                del self._rules[device]
        extra = {"retry-after": rule.retry_after} if rule.retry_after else {}
        return rule.status, rule.error_code, extra, [_token_violation()] if rule.invalid_token else []


def _token_violation() -> dict[str, Any]:
    return {
        "@type": "type.googleapis.com/google.rpc.BadRequest",
        "fieldViolations": [{"field": "message.token", "description": "Invalid registration token"}],
    }


def _error(status: int, message: str, error_code: str) -> dict[str, Any]:
    return {
        "error": {
            "code": status,
            "message": message,
            "status": GOOGLE_STATUS.get(status, "UNKNOWN"),
            "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": error_code}],
        }
    }


def _json(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    return status, {"content-type": "application/json; charset=UTF-8", **(headers or {})}, json.dumps(body).encode()


class _Connection(asyncio.Protocol):
    """One client's HTTP/2 connection to the mock."""

    def __init__(self, mock: MockFcm) -> None:
        self._mock = mock
        self._h2 = H2Connection(H2Configuration(client_side=False))
        self._transport: asyncio.Transport | None = None
        self._streams: dict[int, _Stream] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        self._mock._connections.add(self)
        self._mock.connections_accepted += 1
        self._h2.initiate_connection()
        self._h2.update_settings(
            {SettingCodes.MAX_CONCURRENT_STREAMS: 1000, SettingCodes.INITIAL_WINDOW_SIZE: 1024 * 1024}
        )
        self._h2.increment_flow_control_window(16 * 1024 * 1024)
        self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self._mock._connections.discard(self)
        self._streams.clear()

    def data_received(self, data: bytes) -> None:
        try:
            events = self._h2.receive_data(data)
        except ProtocolError as exc:
            log.info("mock FCM: HTTP/2 protocol error from client: %r", exc)
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
                if stream is not None and event.data and len(stream.body) <= 64 * 1024:
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

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def go_away(self) -> None:
        with contextlib.suppress(ProtocolError):
            self._h2.close_connection()
        self._flush()
        if self._transport is not None:
            self._transport.close()

    def _respond(self, stream_id: int) -> None:
        stream = self._streams.pop(stream_id, None)
        if stream is None:
            return
        status, headers, body = self._mock.answer(stream.headers, bytes(stream.body))
        self._h2.send_headers(
            stream_id, [(":status", str(status)), *headers.items(), ("content-length", str(len(body)))]
        )
        self._h2.send_data(stream_id, body, end_stream=True)

    def _flush(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(self._h2.data_to_send())


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


# -- standalone ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    """Run the mock FCM for local runs and benchmarks; prints the HELSEKORT_FCM_* settings to point the worker at it."""
    import argparse
    import signal

    parser = argparse.ArgumentParser(prog="python -m tests.support.mock_fcm", description=main.__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8444)
    parser.add_argument("--dir", type=Path, required=True, help="where the service-account JSON is written")
    parser.add_argument("--record-limit", type=int, default=1000)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    directory: Path = args.dir.resolve()
    directory.mkdir(parents=True, exist_ok=True)

    async def serve() -> None:
        async with MockFcm(host=args.host, port=args.port, record_limit=args.record_limit) as mock:
            # The CA file lives in the mock's own directory; copy it where the caller can rely on it.
            ca_file = directory / "mock-fcm-ca.pem"
            shutil.copyfile(mock.ca_file, ca_file)
            account = mock.write_service_account(directory / "mock-fcm-service-account.json")
            print(f"HELSEKORT_FCM_CA_FILE={ca_file}")
            print(f"HELSEKORT_FCM_ENDPOINT={mock.endpoint}")
            print(f"HELSEKORT_FCM_CREDENTIALS_FILE={account}", flush=True)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for name in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(name, stop.set)
            await stop.wait()
            log.info("mock FCM stopping; answers given: %s", dict(mock.statuses))

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main()
