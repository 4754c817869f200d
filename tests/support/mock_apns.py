"""A local mock of Apple's push service: HTTP/2 over TLS on loopback that checks tokens, headers and payloads like APNs."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import re
import shutil
import signal
import tempfile
import time
import uuid
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.mock_h2 import Answer, CertificateFiles, MockH2Server, write_certificates, write_private_key

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


@dataclass(slots=True)
class _Rule:
    status: int
    reason: str
    remaining: int | None  # None: every request; otherwise this many more
    timestamp_ms: int | None


class MockApns(MockH2Server):
    """The mock server; start it in the running loop (`async with MockApns(...) as mock`) and send to `mock.endpoint`.

    Checks, in APNs's order as far as it is known: the `/3/device/<token>` path, the bearer provider token
    (ES256 by `public_key`, `kid` = key id, `iss` = team id, `iat` within the hour), `apns-topic`,
    the 64-hex device token, `apns-push-type`, `apns-priority` (5 or 10), `apns-expiration`,
    `apns-collapse-id` (≤ 64 bytes) and the payload (a JSON object with an `aps` object, ≤ 4096 bytes).
    A malformed JSON body gets 400 BadPayload, the mock's own name: APNs does not document one.
    """

    name = "mock APNs"

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
        super().__init__(host=host, port=port, max_concurrent_streams=max_concurrent_streams)
        self.public_key = public_key
        self.key_id = key_id
        self.team_id = team_id
        self.topic = topic
        self.received: deque[ReceivedNotification] = deque(maxlen=record_limit)
        self.statuses: Counter[int] = Counter()
        # Every bearer token seen, with how often: one key means the client reused its provider token.
        self.provider_tokens: Counter[str] = Counter()
        self._verified_iat: dict[str, int] = {}
        self._rules: dict[str, _Rule] = {}
        self._cert_dir = Path(cert_dir) if cert_dir is not None else None
        self._own_cert_dir: Path | None = None
        self._certificates: CertificateFiles | None = None

    # -- lifecycle ----------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._cert_dir is None:
            self._own_cert_dir = Path(tempfile.mkdtemp(prefix="helsekort-mock-apns-"))
        directory = self._cert_dir or self._own_cert_dir
        assert directory is not None
        self._certificates = write_certificates(directory, self.host)
        await self._listen(self._certificates)
        log.info("mock APNs listening on %s", self.endpoint)

    async def stop(self) -> None:
        await self._close()
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
        self._go_away_all()
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

    def answer_request(self, headers: Mapping[str, str], body: bytes, size: int) -> Answer:
        status, answer, apns_id = self._answer(headers, body, size)
        if not answer:
            return status, [("apns-id", apns_id)], b""
        return status, [("apns-id", apns_id), ("content-type", "application/json")], json.dumps(answer).encode()

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


# -- keys ---------------------------------------------------------------------------------------------


def write_signing_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """A new APNs-style signing key (EC P-256, PKCS#8 PEM as in Apple's .p8 files) at `path`."""
    key = ec.generate_private_key(ec.SECP256R1())
    path.parent.mkdir(parents=True, exist_ok=True)
    write_private_key(path, key)
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
