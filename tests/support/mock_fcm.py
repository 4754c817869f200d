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
import tempfile
import time
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.mock_h2 import Answer, CertificateFiles, MockH2Server, write_certificates

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


class MockFcm(MockH2Server):
    """The mock; `async with MockFcm(...) as mock`, then write a service account with `mock.token_uri`."""

    name = "mock FCM"

    def __init__(
        self,
        *,
        project_id: str = "helsekort-test",
        host: str = "127.0.0.1",
        port: int = 0,
        record_limit: int | None = None,
        access_token_lifetime: int = 3600,
    ) -> None:
        super().__init__(host=host, port=port)
        self.project_id = project_id
        self.access_token_lifetime = access_token_lifetime
        self.received: deque[ReceivedMessage] = deque(maxlen=record_limit)
        self.statuses: Counter[int] = Counter()
        self.tokens_issued = 0
        self.public_key: rsa.RSAPublicKey | None = None
        self.client_email: str | None = None
        self._access: dict[str, float] = {}  # access token → expiry (time.time())
        self._rules: dict[str, _Rule] = {}
        self._dir: Path | None = None
        self._certificates: CertificateFiles | None = None

    # -- lifecycle ----------------------------------------------------------------------------------

    async def start(self) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="helsekort-mock-fcm-"))
        self._certificates = write_certificates(self._dir, self.host)
        await self._listen(self._certificates)

    async def stop(self) -> None:
        await self._close()
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
        self._go_away_all()
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

    def answer_request(self, headers: Mapping[str, str], body: bytes, size: int) -> Answer:
        status, answer_headers, content = self.answer(headers, body)
        return status, list(answer_headers.items()), content

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
        with contextlib.suppress(ValueError, UnicodeDecodeError, AttributeError):
            message = json.loads(body).get("message")
        status, code, extra_headers, details = self._judge(headers, body, message)
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
        self, headers: Mapping[str, str], body: bytes, message: Any
    ) -> tuple[int, str | None, dict[str, str], list[dict[str, Any]]]:
        """`message` is the body's `message` as parsed (None when the body is not a JSON object with one)."""
        scheme, _, token = headers.get("authorization", "").partition(" ")
        expiry = self._access.get(token) if scheme.lower() == "bearer" else None
        if expiry is None or expiry < time.time():
            return 401, "UNAUTHENTICATED", {}, []
        if len(body) > MAX_PAYLOAD_BYTES:
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
