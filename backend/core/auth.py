"""Bearer-token verification against the trusted issuers (ID-porten, HelseID, editors, machine clients) and the
principals it yields."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
import jwt
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from backend.core.errors import Forbidden, TooManyRequests, Unauthorized
from backend.core.identity import IdentitySealer, InvalidIdentityNumber, parse_identity_number
from backend.core.ratelimit import RateLimit, RateLimitUnavailable
from backend.settings import IssuerSettings

log = logging.getLogger("helsekort.auth")

ALLOWED_ALGORITHMS = ("RS256", "ES256", "PS256")
LEEWAY_SECONDS = 30
JWKS_REFETCH_SECONDS = 60.0
# An issuer's JWKS is fetched again when its Cache-Control max-age ends, never sooner than 5 min, never later than 24 h.
JWKS_MIN_LIFETIME = 300.0
JWKS_DEFAULT_LIFETIME = 3600.0
JWKS_MAX_LIFETIME = 86_400.0
CITIZEN_ACR = "idporten-loa-high"

# HelseID claim names (the org kind is added by the HelseID client configuration of each organisation).
HELSEID_PID = "helseid://claims/identity/pid"
HELSEID_HPR = "helseid://claims/hpr/hpr_number"
HELSEID_SECURITY_LEVEL = "helseid://claims/identity/security_level"
HELSEID_ORG_NUMBER = "helseid://claims/client/claims/orgnr_parent"
HELSEID_HPR_DETAILS = "helseid://claims/hpr/hpr_details"
HELSEKORT_ORG_KIND = "helsekort://claims/org_kind"
# The organisation's kommunenummer, given by the HelseID client configuration of each organisation like the org kind
# (named in HelseID's client-claims family beside `orgnr_parent`); optional: organisations outside a municipality.
HELSEID_MUNICIPALITY = "helseid://claims/client/claims/kommunenummer"

ORG_KINDS = (
    "fastlege",
    "helsestasjon",
    "sykehus",
    "legevakt",
    "laboratorium",
    "hjemmetjeneste",
    "apotek",
    "kommune",
)
AUTHORIZATIONS = ("LE", "JO", "SP")

PrincipalKind = Literal["citizen", "clinician", "editor", "system"]


@dataclass(frozen=True, slots=True)
class CitizenPrincipal:
    pid: str = field(repr=False)
    caller_id: str
    kind: PrincipalKind = "citizen"
    # The `name` claim when the login gives one (ID-porten's profile scope, BankID and Buypass); printed on her
    # own pregnancy card and nowhere else.
    name: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class ClinicianPrincipal:
    hpr: str
    pid: str = field(repr=False)
    authorization: str
    org_number: str
    org_kind: str
    name: str | None
    caller_id: str
    kind: PrincipalKind = "clinician"
    municipality: str | None = None  # the organisation's 4-digit kommunenummer, when the token names one


@dataclass(frozen=True, slots=True)
class EditorPrincipal:
    sub: str
    name: str | None
    caller_id: str
    kind: PrincipalKind = "editor"


@dataclass(frozen=True, slots=True)
class SystemPrincipal:
    """A machine client (the population-register feed): its client id and the scopes its token grants."""

    sub: str
    scopes: frozenset[str]
    caller_id: str
    kind: PrincipalKind = "system"


Principal = CitizenPrincipal | ClinicianPrincipal | EditorPrincipal | SystemPrincipal


def jwks_lifetime(cache_control: str | None) -> float:
    """Seconds until an issuer's JWKS is fetched again: its Cache-Control max-age, within 5 min and 24 h."""
    max_age: float = JWKS_DEFAULT_LIFETIME
    for directive in (cache_control or "").split(","):
        name, _, value = directive.strip().partition("=")
        if name.lower() in ("no-cache", "no-store"):
            max_age = 0
        elif name.lower() == "max-age" and value.strip().strip('"').isdigit():
            max_age = int(value.strip().strip('"'))
            break
    return min(max(max_age, JWKS_MIN_LIFETIME), JWKS_MAX_LIFETIME)


class _IssuerKeys:
    """One issuer's JWKS: refreshed when its lifetime ends (a removed key stops being trusted), and for an
    unknown kid at most once a minute. If the issuer cannot be reached, the keys are kept at most 24 h."""

    def __init__(self, issuer: IssuerSettings, http: httpx.AsyncClient | None, static: dict[str, Any] | None) -> None:
        self.issuer = issuer
        self._http = http
        self._static = static
        self._keys: dict[str, tuple[jwt.PyJWK, str | None]] = {}
        self._fetched_at = float("-inf")  # last attempt, for the once-a-minute unknown-kid refetch
        self._refresh_at = float("-inf")
        self._trusted_until = float("-inf")
        self._lock = asyncio.Lock()

    async def _load(self) -> tuple[dict[str, Any], float]:
        """The JWKS document and how long it may be used before it is fetched again."""
        if self._static is not None:
            return self._static, float("inf")
        if self.issuer.jwks_file:
            text = await asyncio.to_thread(Path(self.issuer.jwks_file).read_text, encoding="utf-8")
            return dict(json.loads(text)), jwks_lifetime(None)
        if self._http is None or not self.issuer.jwks_url:
            raise Unauthorized("the issuer's keys are not available")
        response = await self._http.get(self.issuer.jwks_url, timeout=5.0)
        response.raise_for_status()
        return dict(response.json()), jwks_lifetime(response.headers.get("cache-control"))

    async def _refresh(self) -> None:
        now = time.monotonic()
        self._fetched_at = now
        try:
            document, lifetime = await self._load()
        except (httpx.HTTPError, OSError, ValueError) as exc:
            log.warning("jwks fetch failed", extra={"issuer": self.issuer.issuer, "error": type(exc).__name__})
            self._refresh_at = now + JWKS_REFETCH_SECONDS
            if now >= self._trusted_until:
                self._keys = {}
            return
        keys: dict[str, tuple[jwt.PyJWK, str | None]] = {}
        for item in document.get("keys", []):
            if isinstance(item, dict) and item.get("kid") and item.get("use", "sig") == "sig":
                if item.get("kty") not in ("RSA", "EC"):
                    continue
                try:
                    keys[str(item["kid"])] = (jwt.PyJWK(item), item.get("alg"))
                except jwt.PyJWKError:
                    continue
        self._keys = keys
        self._refresh_at = now + lifetime
        self._trusted_until = now + max(lifetime, JWKS_MAX_LIFETIME)

    async def key(self, kid: str) -> tuple[jwt.PyJWK, str | None]:
        """The key for `kid` and the algorithm its JWK declares (None when it declares none)."""
        found = self._keys.get(kid)
        if found is not None and time.monotonic() < self._refresh_at:
            return found
        async with self._lock:
            now = time.monotonic()
            if now >= self._refresh_at or (kid not in self._keys and now - self._fetched_at >= JWKS_REFETCH_SECONDS):
                await self._refresh()
            found = self._keys.get(kid)
        if found is None:
            if not self._keys:
                raise Unauthorized("the token's signing key cannot be fetched")
            raise Unauthorized("the token's key id is unknown")
        return found


class TokenVerifier:
    """Verifies access tokens from the trusted issuers and turns their claims into a principal."""

    def __init__(
        self,
        issuers: Sequence[IssuerSettings],
        *,
        sealer: IdentitySealer,
        allow_synthetic_numbers: bool,
        static_jwks: dict[str, dict[str, Any]] | None = None,
        cache_size: int = 10_000,
    ) -> None:
        self._http = httpx.AsyncClient() if any(i.jwks_url for i in issuers) else None
        self._issuers = {
            issuer.issuer: _IssuerKeys(issuer, self._http, (static_jwks or {}).get(issuer.issuer)) for issuer in issuers
        }
        self._sealer = sealer
        self._allow_synthetic = allow_synthetic_numbers
        self._cache: OrderedDict[str, tuple[Principal, float, _IssuerKeys, str]] = OrderedDict()
        self._cache_size = cache_size

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    async def verify(self, token: str) -> Principal:
        cache_key = hashlib.sha256(token.encode()).hexdigest()
        cached = self._cache.get(cache_key)
        if cached is not None:
            principal, expires, issuer_keys, kid = cached
            if time.time() >= expires + LEEWAY_SECONDS:
                self._cache.pop(cache_key, None)
                raise ClaimsRefused("the token has expired")
            try:
                # The signing key must still be published: a key the issuer removed ends its tokens too.
                await issuer_keys.key(kid)
            except Unauthorized:
                self._cache.pop(cache_key, None)
                raise
            return principal
        principal, expires, issuer_keys, kid = await self._verify(token)
        self._cache[cache_key] = (principal, expires, issuer_keys, kid)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return principal

    async def _verify(self, token: str) -> tuple[Principal, float, _IssuerKeys, str]:
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise Unauthorized("the bearer token is malformed") from exc
        algorithm = header.get("alg")
        if algorithm not in ALLOWED_ALGORITHMS:
            raise Unauthorized("the token's signing algorithm is not accepted")
        # RFC 9068 access tokens only: an ID token (or anything else) is not a credential here.
        if str(header.get("typ", "")).lower() not in ("at+jwt", "application/at+jwt"):
            raise Unauthorized("the token is not an access token")
        issuer_keys = self._issuers.get(str(unverified.get("iss", "")))
        if issuer_keys is None:
            raise Unauthorized("the token's issuer is not trusted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("the token has no key id")
        # jku, x5u and jwk headers are ignored: keys come only from the configured JWKS.
        key, declared_algorithm = await issuer_keys.key(kid)
        # A key published for one algorithm is never used with another (algorithm confusion).
        if declared_algorithm and declared_algorithm != algorithm:
            raise Unauthorized("the token's algorithm does not match its key")
        issuer = issuer_keys.issuer
        try:
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=[algorithm],
                audience=issuer.audience,
                issuer=issuer.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud"]},
            )
        # PyJWT checks the signature before the claims: these errors mean a correctly signed token.
        except jwt.ExpiredSignatureError as exc:
            raise ClaimsRefused("the token has expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise ClaimsRefused("the token is not valid yet") from exc
        except jwt.InvalidAudienceError as exc:
            raise ClaimsRefused("the token is for another audience") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("the token's signature or claims are invalid") from exc
        if float(claims["iat"]) > time.time() + LEEWAY_SECONDS:
            raise ClaimsRefused("the token was issued in the future")
        try:
            principal = self._principal(issuer.kind, claims)
        except Unauthorized as exc:
            raise ClaimsRefused(exc.detail) from exc
        return principal, float(claims["exp"]), issuer_keys, kid

    def _identity(self, raw: object) -> str:
        try:
            return parse_identity_number(str(raw), allow_synthetic=self._allow_synthetic).value
        except InvalidIdentityNumber as exc:
            raise Unauthorized("the token's identity number is invalid") from exc

    def _principal(self, kind: str, claims: dict[str, Any]) -> Principal:
        if kind == "citizen":
            if claims.get("acr") != CITIZEN_ACR:
                raise Unauthorized("citizen tokens need security level idporten-loa-high")
            pid = self._identity(claims.get("pid", ""))
            name = claims.get("name")
            return CitizenPrincipal(
                pid=pid,
                caller_id="citizen:" + self._sealer.digest(pid).hex()[:40],
                name=str(name) if name else None,
            )
        if kind == "clinician":
            if str(claims.get(HELSEID_SECURITY_LEVEL)) != "4":
                raise Unauthorized("clinician tokens need HelseID security level 4")
            pid = self._identity(claims.get(HELSEID_PID, ""))
            hpr = str(claims.get(HELSEID_HPR, ""))
            if not hpr.isdigit() or not 1 <= len(hpr) <= 12:
                raise Unauthorized("clinician tokens need an HPR number")
            org = str(claims.get(HELSEID_ORG_NUMBER, ""))
            if not (org.isdigit() and len(org) == 9):
                raise Unauthorized("clinician tokens need a 9-digit organisation number")
            org_kind = str(claims.get(HELSEKORT_ORG_KIND, ""))
            if org_kind not in ORG_KINDS:
                raise Unauthorized("clinician tokens need a known organisation kind")
            authorization = _authorization(claims.get(HELSEID_HPR_DETAILS))
            if authorization is None:
                raise Unauthorized("clinician tokens need an HPR authorization (LE, JO or SP)")
            municipality = claims.get(HELSEID_MUNICIPALITY)
            if municipality is not None and not (
                isinstance(municipality, str) and len(municipality) == 4 and municipality.isdigit()
            ):
                raise Unauthorized("a clinician token's kommunenummer must be 4 digits")
            return ClinicianPrincipal(
                hpr=hpr,
                pid=pid,
                authorization=authorization,
                org_number=org,
                org_kind=org_kind,
                name=_display_name(claims.get("name")),
                caller_id=f"clinician:{hpr}:{org}",
                municipality=municipality,
            )
        if kind == "system":
            return _system_principal(claims)
        sub = str(claims.get("sub", ""))
        if not sub:
            raise Unauthorized("editor tokens need a subject")
        # The subject is the editor's identity in the audit log and idempotency keys (200-character columns):
        # refused, not cut, when it cannot be stored whole.
        if len(sub) > MAX_SUBJECT_LENGTH or not sub.isprintable():
            raise Unauthorized(f"editor tokens need a subject of at most {MAX_SUBJECT_LENGTH} printable characters")
        return EditorPrincipal(sub=sub, name=_display_name(claims.get("name")), caller_id=f"editor:{sub}")


MAX_SUBJECT_LENGTH = 128
SYSTEM_SCOPES = ("registry",)


def _system_principal(claims: dict[str, Any]) -> SystemPrincipal:
    """A machine client's token (RFC 9068): its client id (`client_id`, else `sub`) and the space-separated `scope`."""
    sub = str(claims.get("client_id") or claims.get("sub") or "")
    if not sub or len(sub) > MAX_SUBJECT_LENGTH or not sub.isprintable():
        raise Unauthorized(f"system tokens need a client id of at most {MAX_SUBJECT_LENGTH} printable characters")
    scopes = frozenset(str(claims.get("scope", "")).split()) & frozenset(SYSTEM_SCOPES)
    if not scopes:
        raise Unauthorized("system tokens need a scope this service knows (registry)")
    return SystemPrincipal(sub=sub, scopes=scopes, caller_id=f"system:{sub}")


MAX_NAME_LENGTH = 200  # audit_log.name


def display_name(raw: object) -> str | None:
    """A name as the audit log can hold it (printable characters, cut to the column), None when there is none."""
    return _display_name(raw)


def _display_name(raw: object) -> str | None:
    """A token's display name as the audit log can hold it: printable characters only, cut to the column."""
    if not raw:
        return None
    # isprintable() is false for NUL, other controls and lone surrogates, none of which PostgreSQL text takes.
    name = "".join(character for character in str(raw) if character.isprintable()).strip()
    return name[:MAX_NAME_LENGTH] or None


def _authorization(details: object) -> str | None:
    if isinstance(details, str):
        try:
            details = json.loads(details)
        except json.JSONDecodeError:
            return None
    if not isinstance(details, dict):
        return None
    for approval in details.get("approvals", []):
        if isinstance(approval, dict) and approval.get("profession") in AUTHORIZATIONS:
            return str(approval["profession"])
    return None


class ClaimsRefused(Unauthorized):
    """The signature is the issuer's, but the token is refused (expired, another audience, too low a level)."""


class AuthFailureLimiter:
    """Failed authentications per (client address, issuer and key id the token names); over the limit → 429.

    Tokens are verified before the limiter is asked, and only failures are ever answered 429: a correctly
    signed token is never blocked, however many bad ones others behind the same address sent. The counts
    are shared by every API process (core/ratelimit.py). Without the database a failure is not counted and
    is answered 401 as usual (logged): the request is refused either way, and the limiter must never turn a
    refusal into a 500 or hold up valid tokens, which are verified without the database.
    """

    def __init__(self, per_minute: int) -> None:
        self._limit = RateLimit("auth-failures", per_minute)

    async def failed(self, client: str, token_key: str) -> None:
        """Count one failure; raise TooManyRequests when this address and key are over the limit."""
        try:
            count = await self._limit.hit(f"{client}\0{token_key}")
        except RateLimitUnavailable:
            return  # logged by the limiter; the caller's 401 stands
        if not count.allowed:
            raise TooManyRequests("too many failed authentications", retry_after=count.reset)


def token_key(token: str | None) -> str:
    """The issuer and key id a (possibly forged) token names, unverified, bounded: the limiter's key."""
    if not token:
        return "no-token"
    try:
        kid = str(jwt.get_unverified_header(token).get("kid", ""))
        issuer = str(jwt.decode(token, options={"verify_signature": False}).get("iss", ""))
    except jwt.PyJWTError:
        return "malformed"
    return f"{issuer[:200]} {kid[:100]}"


def bearer_token(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            break
    raise Unauthorized("a bearer token is required")


# A write-only step after authentication: (scope, receive, send, next_app), e.g. idempotency, rate limits.
WriteStep = Callable[[Scope, Receive, Send, ASGIApp], Awaitable[None]]
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class RequirePrincipal(ASGIMiddleware):
    """Router middleware: authenticate the bearer token and require one kind of principal (else 403).

    `writes` run, in order, only for requests that change something: reads pay for authentication
    alone, which keeps the citizen's most frequent calls within budget (measured in bench/).
    """

    def __init__(self, kind: PrincipalKind, *, writes: Sequence[WriteStep] = ()) -> None:
        self.kind = kind
        self.writes = tuple(writes)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        state = scope["app"].state
        verifier: TokenVerifier = state.token_verifier
        limiter: AuthFailureLimiter = state.auth_failure_limiter
        client = (scope.get("client") or ("unknown", 0))[0]
        token: str | None = None
        try:
            token = bearer_token(scope)
            principal = await verifier.verify(token)
        except ClaimsRefused:
            raise
        except Unauthorized:
            await limiter.failed(client, token_key(token))
            raise
        if principal.kind != self.kind:
            raise Forbidden(f"this route is for {self.kind} tokens, not {principal.kind} tokens")
        scope["user"] = principal
        if not self.writes or scope.get("method") in READ_METHODS:
            await next_app(scope, receive, send)
            return
        await _chain(self.writes, next_app)(scope, receive, send)


def _chain(steps: Sequence[WriteStep], app: ASGIApp) -> ASGIApp:
    for step in reversed(steps):
        app = _bind(step, app)
    return app


def _bind(step: WriteStep, next_app: ASGIApp) -> ASGIApp:
    async def bound(scope: Scope, receive: Receive, send: Send) -> None:
        await step(scope, receive, send, next_app)

    return bound
