"""JWKS handling: keys from a file or URL, unknown kid refetched at most once a minute."""

from __future__ import annotations

import json
import time
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
