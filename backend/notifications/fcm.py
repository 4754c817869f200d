"""The FCM transport (Firebase Cloud Messaging HTTP v1): one Android notification in, Google's answer out.

Auth: an OAuth2 access token from the service account's JSON (a JWT signed RS256 with its private key,
exchanged at its `token_uri` with httpx), cached until shortly before it expires and fetched again once when
FCM answers 401. Transport: every send multiplexed on one reused HTTP/2 connection (h2client.py).
Answers are mapped onto the same `SendResult` as APNs's: the status, FCM's `errorCode` as the reason,
and `Retry-After` (seconds) on 429/503. A token FCM calls invalid comes back as reason
`InvalidRegistrationToken` (400 with a field violation on `message.token`), so the worker disables it
and does not mistake a malformed message of ours for a dead phone.
"""

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
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import urlsplit

import httpx
import jwt
import msgspec

from backend.core.settings import FcmSettings, SettingsError
from backend.notifications.apns import TRANSPORT_FAILURE, SendResult
from backend.notifications.h2client import ConnectionFailed, H2Client, Response

log = logging.getLogger("helsekort.notifications.fcm")

GOOGLE_ENDPOINT = "https://fcm.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
INVALID_TOKEN = "InvalidRegistrationToken"  # noqa: S105 - FCM's reason, not a secret
# Seconds before an access token's expiry that a new one is fetched.
_EARLY_REFRESH = 300
# FCM registration tokens: URL-safe characters, case-sensitive; anything else is refused without a request.
_TOKEN = re.compile(r"[A-Za-z0-9_:\-]{20,512}")

AndroidPriority = Literal["high", "normal"]


@dataclass(frozen=True, slots=True)
class ServiceAccount:
    """What the sender needs from a Google service-account JSON."""

    project_id: str
    client_email: str
    private_key: str
    private_key_id: str | None
    token_uri: str

    @classmethod
    def load(cls, path: str | Path) -> ServiceAccount:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SettingsError(f"HELSEKORT_FCM_CREDENTIALS_FILE: cannot read a JSON service account ({exc})") from exc
        missing = [key for key in ("project_id", "client_email", "private_key", "token_uri") if not data.get(key)]
        if not isinstance(data, dict) or missing:
            raise SettingsError(f"HELSEKORT_FCM_CREDENTIALS_FILE lacks {', '.join(missing) or 'an object'}")
        if urlsplit(str(data["token_uri"])).scheme != "https":
            raise SettingsError("HELSEKORT_FCM_CREDENTIALS_FILE: token_uri must be an https:// URL")
        return cls(
            project_id=str(data["project_id"]),
            client_email=str(data["client_email"]),
            private_key=str(data["private_key"]),
            private_key_id=data.get("private_key_id") or None,
            token_uri=str(data["token_uri"]),
        )


@dataclass(slots=True)
class _AccessToken:
    value: str
    expires_at: float  # time.monotonic()


class FcmSender:
    """Sends Android notifications through FCM HTTP v1; create and use it in one event loop, then `close()`."""

    def __init__(self, settings: FcmSettings, *, timeout: float = 10.0) -> None:
        if not settings.credentials_file:
            raise SettingsError("Android push needs HELSEKORT_FCM_CREDENTIALS_FILE")
        # Read now so that a missing or broken file stops the worker at start, not at the first event.
        self.account = ServiceAccount.load(settings.credentials_file)
        endpoint = (settings.endpoint or GOOGLE_ENDPOINT).rstrip("/")
        if urlsplit(endpoint).scheme != "https":
            raise SettingsError(f"HELSEKORT_FCM_ENDPOINT must be an https:// base URL, not {endpoint!r}")
        self.path = f"/v1/projects/{self.account.project_id}/messages:send"
        self.url = f"{endpoint}{self.path}"
        self.timeout = timeout
        # The token endpoint is asked about once an hour: httpx; the sends go over one HTTP/2 connection.
        self._client = httpx.AsyncClient(
            http2=True, verify=ssl.create_default_context(cafile=settings.ca_file), timeout=timeout
        )
        self._h2 = H2Client(endpoint, ssl.create_default_context(cafile=settings.ca_file), connect_timeout=timeout)
        self._token: _AccessToken | None = None
        self._token_lock = asyncio.Lock()
        self.tokens_fetched = 0

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self._h2.close()
        await self._client.aclose()

    @property
    def connections_made(self) -> int:
        return self._h2.connections_made

    # -- access tokens ------------------------------------------------------------------------------

    def _assertion(self) -> str:
        now = int(time.time())
        claims = {"iss": self.account.client_email, "scope": SCOPE, "aud": self.account.token_uri, "iat": now,
                  "exp": now + 3600}  # fmt: skip
        headers = {"kid": self.account.private_key_id} if self.account.private_key_id else None
        return jwt.encode(claims, self.account.private_key, algorithm="RS256", headers=headers)

    async def access_token(self, *, stale: str | None = None) -> str:
        """The cached access token, or a new one when it is (nearly) expired or `stale` (a token FCM refused)."""
        async with self._token_lock:
            token = self._token
            if token is not None and token.value != stale and time.monotonic() < token.expires_at:
                return token.value
            try:
                response = await self._client.post(
                    self.account.token_uri,
                    data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": self._assertion()},
                )
            except (httpx.TransportError, ssl.SSLError, OSError) as exc:
                log.warning("FCM token endpoint unreachable: %r", exc)
                raise _Unanswered("token-endpoint-unreachable") from exc
            if response.status_code != 200:
                log.error("FCM token endpoint refused the service account: %d", response.status_code)
                raise _Unanswered(f"token-endpoint-{response.status_code}")
            try:
                body = response.json()
                value = str(body["access_token"])
                lifetime = float(body.get("expires_in", 3600))
            except (ValueError, KeyError, TypeError) as exc:
                raise _Unanswered("token-endpoint-bad-answer") from exc
            self._token = _AccessToken(value=value, expires_at=time.monotonic() + max(lifetime - _EARLY_REFRESH, 30.0))
            self.tokens_fetched += 1
            return self._token.value

    # -- sending ------------------------------------------------------------------------------------

    async def send(
        self,
        device_token: str,
        message: dict[str, Any],
        *,
        collapse_key: str | None = None,
        priority: AndroidPriority = "high",
        expiration: datetime | None = None,
    ) -> SendResult:
        """Send one message (FCM's `message` without `token` and `android`, which are set here)."""
        message_id = str(uuid.uuid4())
        if not _TOKEN.fullmatch(device_token):
            return SendResult(400, INVALID_TOKEN, None, message_id)
        android: dict[str, Any] = {"priority": priority}
        if collapse_key:
            android["collapse_key"] = collapse_key
        if expiration is not None:
            android["ttl"] = f"{max(int(expiration.timestamp() - time.time()), 0)}s"
        body = {"message": {**message, "token": device_token, "android": {**message.get("android", {}), **android}}}
        content = msgspec.json.encode(body)  # compact UTF-8 JSON, several times faster than json.dumps
        try:
            token = await self.access_token()
            response = await self._post(content, token)
            if response.status == 401:
                # Revoked or expired early: one new token, one more try.
                token = await self.access_token(stale=token)
                response = await self._post(content, token)
        except _Unanswered as failure:
            return SendResult(TRANSPORT_FAILURE, failure.reason, None, message_id)
        return _result(response, message_id)

    async def _post(self, content: bytes, token: str) -> Response:
        # Two tries: a connection can close (GOAWAY, idle close) under a request; a fresh one usually works.
        for attempt in range(2):
            try:
                async with asyncio.timeout(self.timeout):
                    return await self._h2.post(
                        self.path,
                        content,
                        {"authorization": f"Bearer {token}", "content-type": "application/json; charset=UTF-8"},
                    )
            except TimeoutError as exc:
                raise _Unanswered("timeout") from exc
            except ConnectionFailed as exc:
                if attempt == 1:
                    log.warning("FCM unreachable: %s", exc)
                    raise _Unanswered("connection-error") from exc
        raise _Unanswered("connection-error")  # pragma: no cover - the loop returns or raises


class _Unanswered(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _json(response: Response) -> Any:
    return json.loads(response.body)


def _result(response: Response, message_id: str) -> SendResult:
    status = response.status
    if status == 200:
        name = ""
        with contextlib.suppress(ValueError, AttributeError):
            name = str(_json(response).get("name", ""))
        # projects/<p>/messages/<id>: the id is the part worth keeping (push_attempt keeps 64 characters).
        return SendResult(200, None, None, (name.rsplit("/", 1)[-1] or message_id)[:64])
    return SendResult(status, _reason(response), None, message_id, retry_after=_retry_after(response))


def _reason(response: Response) -> str:
    """FCM's errorCode (UNREGISTERED, QUOTA_EXCEEDED, ...), or the Google status; a bad token is told apart."""
    try:
        error = _json(response).get("error", {})
    except (ValueError, AttributeError):
        return f"HTTP {response.status}"
    if not isinstance(error, dict):
        return f"HTTP {response.status}"
    code = str(error.get("status") or f"HTTP {response.status}")
    for detail in error.get("details") or []:
        if not isinstance(detail, dict):
            continue
        if detail.get("errorCode"):
            code = str(detail["errorCode"])
        for violation in detail.get("fieldViolations") or []:
            if isinstance(violation, dict) and violation.get("field") == "message.token":
                return INVALID_TOKEN
    return code


def _retry_after(response: Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None
