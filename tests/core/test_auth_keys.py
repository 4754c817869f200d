"""JWKS handling: keys from a file or URL, unknown kid refetched at most once a minute."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from backend.core import auth
from backend.core.auth import CitizenPrincipal, TokenVerifier
from backend.core.errors import Unauthorized
from backend.core.identity import IdentitySealer
from backend.settings import IssuerSettings
from tests.factories import synthetic_fnr

ISSUER = "https://idporten.example/"


def _jwk(private: Any, kid: str, alg: str) -> dict[str, Any]:
    algorithm = jwt.algorithms.RSAAlgorithm if alg.startswith(("RS", "PS")) else jwt.algorithms.ECAlgorithm
    jwk = json.loads(algorithm.to_jwk(private.public_key()))
    jwk.update({"kid": kid, "use": "sig", "alg": alg})
    return jwk


def _token(private: Any, kid: str, alg: str = "RS256") -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": "helsekort", "iat": now, "exp": now + 300, "pid": synthetic_fnr(),
              "acr": "idporten-loa-high"}  # fmt: skip
    return jwt.encode(claims, private, algorithm=alg, headers={"kid": kid, "typ": "at+jwt"})


@pytest.fixture
def verifier_and_file(tmp_path: Path) -> tuple[TokenVerifier, Path]:
    path = tmp_path / "jwks.json"
    issuer = IssuerSettings(kind="citizen", issuer=ISSUER, audience="helsekort", jwks_file=str(path))
    verifier = TokenVerifier([issuer], sealer=IdentitySealer(b"s" * 32), allow_synthetic_numbers=True)
    return verifier, path


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256"])
async def test_each_allowed_algorithm_verifies(verifier_and_file: tuple[TokenVerifier, Path], alg: str) -> None:
    verifier, path = verifier_and_file
    key = ec.generate_private_key(ec.SECP256R1()) if alg == "ES256" else rsa.generate_private_key(65537, 2048)
    path.write_text(json.dumps({"keys": [_jwk(key, "k1", alg)]}))
    principal = await verifier.verify(_token(key, "k1", alg))
    assert isinstance(principal, CitizenPrincipal)
    assert principal.pid not in repr(principal)


async def test_key_declared_for_one_algorithm_is_not_used_with_another(
    verifier_and_file: tuple[TokenVerifier, Path],
) -> None:
    verifier, path = verifier_and_file
    key = rsa.generate_private_key(65537, 2048)
    path.write_text(json.dumps({"keys": [_jwk(key, "k1", "RS256")]}))
    with pytest.raises(Unauthorized):
        await verifier.verify(_token(key, "k1", "PS256"))


async def test_unknown_kid_refetches_at_most_once_a_minute(
    verifier_and_file: tuple[TokenVerifier, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    verifier, path = verifier_and_file
    first, second = rsa.generate_private_key(65537, 2048), rsa.generate_private_key(65537, 2048)
    path.write_text(json.dumps({"keys": [_jwk(first, "k1", "RS256")]}))
    await verifier.verify(_token(first, "k1"))
    # The issuer rotates: the new key is published, but within a minute we do not refetch.
    path.write_text(json.dumps({"keys": [_jwk(first, "k1", "RS256"), _jwk(second, "k2", "RS256")]}))
    with pytest.raises(Unauthorized, match="unknown"):
        await verifier.verify(_token(second, "k2"))
    clock = time.monotonic()
    monkeypatch.setattr(auth.time, "monotonic", lambda: clock + 61)
    assert isinstance(await verifier.verify(_token(second, "k2")), CitizenPrincipal)


@pytest.mark.parametrize(
    ("cache_control", "seconds"),
    [("public, max-age=600", 600), ("max-age=10", 300), ("max-age=9999999", 86_400), (None, 3600),
     ("no-store", 300), ("max-age=abc", 3600)],
)  # fmt: skip
def test_jwks_lifetime_follows_cache_control_within_5_minutes_and_24_hours(
    cache_control: str | None, seconds: float
) -> None:
    assert auth.jwks_lifetime(cache_control) == seconds


class _Issuer:
    """A local HTTP issuer publishing a JWKS with a Cache-Control header; counts the fetches."""

    def __init__(self) -> None:
        self.document: dict[str, Any] = {"keys": []}
        self.cache_control = "max-age=600"
        self.status = 200
        self.fetches = 0
        issuer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                issuer.fetches += 1
                body = json.dumps(issuer.document).encode()
                self.send_response(issuer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Cache-Control", issuer.cache_control)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
async def http_issuer() -> AsyncIterator[tuple[_Issuer, TokenVerifier]]:
    published = _Issuer()
    settings = IssuerSettings(kind="citizen", issuer=ISSUER, audience="helsekort", jwks_url=published.url)
    verifier = TokenVerifier([settings], sealer=IdentitySealer(b"s" * 32), allow_synthetic_numbers=True)
    try:
        yield published, verifier
    finally:
        await verifier.close()
        published.close()


async def test_a_key_removed_at_the_issuer_stops_being_trusted_when_its_max_age_ends(
    http_issuer: tuple[_Issuer, TokenVerifier], monkeypatch: pytest.MonkeyPatch
) -> None:
    published, verifier = http_issuer
    old, new = rsa.generate_private_key(65537, 2048), rsa.generate_private_key(65537, 2048)
    published.document = {"keys": [_jwk(old, "old", "RS256")]}
    signed_by_old = _token(old, "old")
    assert isinstance(await verifier.verify(signed_by_old), CitizenPrincipal)
    # The issuer rotates and withdraws the old key; within max-age=600 the published set is not refetched.
    published.document = {"keys": [_jwk(new, "new", "RS256")]}
    clock = time.monotonic()
    monkeypatch.setattr(auth.time, "monotonic", lambda: clock + 590)
    assert isinstance(await verifier.verify(signed_by_old), CitizenPrincipal)
    assert published.fetches == 1
    monkeypatch.setattr(auth.time, "monotonic", lambda: clock + 610)
    # Neither the token seen before (cached) nor a fresh one signed by the withdrawn key is trusted now.
    with pytest.raises(Unauthorized):
        await verifier.verify(signed_by_old)
    with pytest.raises(Unauthorized):
        await verifier.verify(_token(old, "old"))
    assert isinstance(await verifier.verify(_token(new, "new")), CitizenPrincipal)
    assert published.fetches == 2


async def test_keys_of_an_unreachable_issuer_are_kept_at_most_24_hours(
    http_issuer: tuple[_Issuer, TokenVerifier], monkeypatch: pytest.MonkeyPatch
) -> None:
    published, verifier = http_issuer
    key = rsa.generate_private_key(65537, 2048)
    published.document = {"keys": [_jwk(key, "k1", "RS256")]}
    assert isinstance(await verifier.verify(_token(key, "k1")), CitizenPrincipal)
    published.status = 503
    clock = time.monotonic()
    # An outage at the issuer does not lock every citizen out at the next refresh ...
    monkeypatch.setattr(auth.time, "monotonic", lambda: clock + 4000)
    assert isinstance(await verifier.verify(_token(key, "k1")), CitizenPrincipal)
    assert published.fetches == 2
    # ... but keys that could not be confirmed for a day are no longer trusted.
    monkeypatch.setattr(auth.time, "monotonic", lambda: clock + 86_401)
    with pytest.raises(Unauthorized):
        await verifier.verify(_token(key, "k1"))
