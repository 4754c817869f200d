"""Every token attack in API.md's Common table is refused with 401 (or 403 for the wrong kind)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from litestar import Litestar

from backend.dev.tokens import DEV_KID, citizen_claims, clinician_claims, dev_issuer_url, mint
from tests.factories import bearer, signing_key, synthetic_fnr

ME = "/citizen/v1/me"
LOOKUP = "/clinician/v1/patients/lookup"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _citizen(app: Litestar, **claims: Any) -> str:
    return mint(signing_key(app), "citizen", {**citizen_claims(synthetic_fnr()), **claims})


async def _status(client: httpx.AsyncClient, token: str, path: str = ME) -> httpx.Response:
    if path == LOOKUP:
        return await client.post(path, json={"fnr": synthetic_fnr()}, headers=bearer(token))
    return await client.get(path, headers=bearer(token))


async def test_a_valid_citizen_token_is_accepted(client: httpx.AsyncClient, app: Litestar) -> None:
    assert (await _status(client, _citizen(app))).status_code == 200


async def test_no_token_is_401_with_www_authenticate(client: httpx.AsyncClient) -> None:
    response = await client.get(ME)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer not.a.jwt", "bearer " + "x" * 20])
async def test_malformed_authorization_is_401(client: httpx.AsyncClient, header: str) -> None:
    response = await client.get(ME, headers={"Authorization": header})
    assert response.status_code == 401


async def test_alg_none_is_401(client: httpx.AsyncClient, app: Litestar) -> None:
    now = int(time.time())
    payload = {**citizen_claims(synthetic_fnr()), "iss": dev_issuer_url("citizen"), "aud": "helsekort",
               "iat": now, "exp": now + 600}  # fmt: skip
    token = _b64({"alg": "none", "typ": "at+jwt", "kid": DEV_KID}) + "." + _b64(payload) + "."
    assert (await _status(client, token)).status_code == 401


async def test_hs256_signed_with_the_public_key_is_401(client: httpx.AsyncClient, app: Litestar) -> None:
    now = int(time.time())
    payload = {**citizen_claims(synthetic_fnr()), "iss": dev_issuer_url("citizen"), "aud": "helsekort",
               "iat": now, "exp": now + 600}  # fmt: skip
    public_pem = (
        serialization.load_pem_private_key(signing_key(app).private_pem, password=None)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = _b64({"alg": "HS256", "typ": "at+jwt", "kid": DEV_KID})
    body = _b64(payload)
    import hashlib
    import hmac

    signature = hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    token = f"{header}.{body}." + base64.urlsafe_b64encode(signature).decode().rstrip("=")
    assert (await _status(client, token)).status_code == 401


async def test_wrong_issuer_is_401(client: httpx.AsyncClient, app: Litestar) -> None:
    token = mint(signing_key(app), "citizen", citizen_claims(synthetic_fnr()), issuer="https://evil.example/")
    assert (await _status(client, token)).status_code == 401


async def test_citizen_claims_from_the_clinician_issuer_are_401(client: httpx.AsyncClient, app: Litestar) -> None:
    token = mint(signing_key(app), "citizen", citizen_claims(synthetic_fnr()), issuer=dev_issuer_url("clinician"))
    assert (await _status(client, token)).status_code == 401


async def test_wrong_audience_is_401(client: httpx.AsyncClient, app: Litestar) -> None:
    token = mint(signing_key(app), "citizen", citizen_claims(synthetic_fnr()), audience="another-service")
    assert (await _status(client, token)).status_code == 401


async def test_expired_token_is_401_even_when_seen_before(client: httpx.AsyncClient, app: Litestar) -> None:
    expired = mint(signing_key(app), "citizen", citizen_claims(synthetic_fnr()), expires_in=-120)
    assert (await _status(client, expired)).status_code == 401
    almost = mint(signing_key(app), "citizen", citizen_claims(synthetic_fnr()), expires_in=-10)
    # Inside the 30 s leeway: accepted.
    assert (await _status(client, almost)).status_code == 200


async def test_token_not_yet_valid_is_401(client: httpx.AsyncClient, app: Litestar) -> None:
    future = int(time.time()) + 600
    token = _citizen(app, nbf=future, iat=future)
    assert (await _status(client, token)).status_code == 401


async def test_unknown_kid_is_401(client: httpx.AsyncClient, app: Litestar) -> None:
    token = mint(signing_key(app), "citizen", citizen_claims(synthetic_fnr()), headers={"kid": "someone-else"})
    assert (await _status(client, token)).status_code == 401


async def test_token_signed_by_another_key_is_401(client: httpx.AsyncClient) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    payload = {**citizen_claims(synthetic_fnr()), "iss": dev_issuer_url("citizen"), "aud": "helsekort",
               "iat": now, "exp": now + 600}  # fmt: skip
    token = jwt.encode(payload, other, algorithm="RS256", headers={"kid": DEV_KID, "typ": "at+jwt"})
    assert (await _status(client, token)).status_code == 401


async def test_jku_header_is_ignored(client: httpx.AsyncClient) -> None:
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    payload = {**citizen_claims(synthetic_fnr()), "iss": dev_issuer_url("citizen"), "aud": "helsekort",
               "iat": now, "exp": now + 600}  # fmt: skip
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(attacker.public_key()))
    token = jwt.encode(
        payload, attacker, algorithm="RS256",
        headers={"kid": "attacker", "typ": "at+jwt", "jku": "https://evil.example/jwks", "jwk": jwk},
    )  # fmt: skip
    assert (await _status(client, token)).status_code == 401


@pytest.mark.parametrize("typ", ["JWT", "id_token", None])
async def test_id_tokens_and_untyped_tokens_are_401(client: httpx.AsyncClient, app: Litestar, typ: str | None) -> None:
    token = mint(signing_key(app), "citizen", citizen_claims(synthetic_fnr()), headers={"typ": typ})
    assert (await _status(client, token)).status_code == 401


async def test_loa_substantial_is_401(client: httpx.AsyncClient, app: Litestar) -> None:
    assert (await _status(client, _citizen(app, acr="idporten-loa-substantial"))).status_code == 401


async def test_invalid_pid_is_401(client: httpx.AsyncClient, app: Litestar) -> None:
    assert (await _status(client, _citizen(app, pid="12345678901"))).status_code == 401


def _clinician_claims(**overrides: Any) -> dict[str, Any]:
    claims = clinician_claims(
        hpr="1234567", pid=synthetic_fnr(), authorization="LE", org="987654321", org_kind="fastlege"
    )
    claims.update(overrides)
    return claims


async def test_a_valid_clinician_token_is_accepted(client: httpx.AsyncClient, app: Litestar) -> None:
    token = mint(signing_key(app), "clinician", _clinician_claims())
    assert (await _status(client, token, LOOKUP)).status_code == 200


@pytest.mark.parametrize(
    "overrides",
    [
        {"helseid://claims/identity/security_level": "3"},
        {"helseid://claims/hpr/hpr_number": ""},
        {"helseid://claims/client/claims/orgnr_parent": "12"},
        {"helsekort://claims/org_kind": "tannlege"},
        {"helseid://claims/hpr/hpr_details": {"approvals": [{"profession": "XX"}]}},
        {"helseid://claims/identity/pid": "00000000000"},
    ],
    ids=["level-3", "no-hpr", "bad-org", "unknown-org-kind", "no-authorization", "bad-pid"],
)
async def test_clinician_token_without_required_claims_is_401(
    client: httpx.AsyncClient, app: Litestar, overrides: dict[str, Any]
) -> None:
    token = mint(signing_key(app), "clinician", _clinician_claims(**overrides))
    assert (await _status(client, token, LOOKUP)).status_code == 401


async def test_citizen_token_on_clinician_route_is_403(client: httpx.AsyncClient, app: Litestar) -> None:
    response = await _status(client, _citizen(app), LOOKUP)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_clinician_token_on_citizen_route_is_403(client: httpx.AsyncClient, app: Litestar) -> None:
    token = mint(signing_key(app), "clinician", _clinician_claims())
    assert (await _status(client, token, ME)).status_code == 403


async def test_dev_jwks_publishes_only_the_public_key(client: httpx.AsyncClient) -> None:
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    (key,) = response.json()["keys"]
    assert key["kid"] == DEV_KID
    assert "d" not in key
    assert "p" not in key


async def test_repeated_authentication_failures_are_rate_limited(app: Litestar) -> None:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        limit = app.state.settings.rate_limit_auth_failures_per_minute
        for _ in range(limit):
            assert (await client.get(ME, headers={"Authorization": "Bearer nope"})).status_code == 401
        response = await client.get(ME, headers={"Authorization": "Bearer nope"})
        assert response.status_code == 429
        assert int(response.headers["retry-after"]) > 0


def _forged(app: Litestar) -> str:
    """A token naming the dev citizen issuer and key, signed by someone else's key."""
    stranger = rsa.generate_private_key(65537, 2048)
    now = int(time.time())
    claims = {**citizen_claims(synthetic_fnr()), "iss": dev_issuer_url("citizen"), "aud": "helsekort",
              "iat": now, "exp": now + 600}  # fmt: skip
    return jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": DEV_KID, "typ": "at+jwt"})


async def test_failures_of_others_behind_one_address_never_block_a_valid_token(app: Litestar) -> None:
    # Issue 12: a valid token got 429 after 35 bad ones from the same address (a clinic's NAT, a mobile carrier).
    transport = httpx.ASGITransport(app=app, client=("203.0.113.77", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        limit = app.state.settings.rate_limit_auth_failures_per_minute
        forged = _forged(app)
        statuses = [(await _status(client, forged)).status_code for _ in range(limit + 5)]
        assert statuses[:limit] == [401] * limit
        assert set(statuses[limit:]) == {429}
        assert (await _status(client, _citizen(app))).status_code == 200
        # Still limited for the failing key, and a correctly signed but expired token is told 401, not 429.
        assert (await _status(client, forged)).status_code == 429
        expired = _citizen(app, iat=int(time.time()) - 3600, exp=int(time.time()) - 600)
        assert (await _status(client, expired)).status_code == 401


async def test_failures_are_counted_per_address_and_named_key(app: Litestar) -> None:
    limit = app.state.settings.rate_limit_auth_failures_per_minute
    first = httpx.ASGITransport(app=app, client=("203.0.113.78", 5000))
    other = httpx.ASGITransport(app=app, client=("203.0.113.79", 5000))
    async with (
        httpx.AsyncClient(transport=first, base_url="http://testserver") as client,
        httpx.AsyncClient(transport=other, base_url="http://testserver") as neighbour,
    ):
        for _ in range(limit):
            await client.get(ME, headers={"Authorization": "Bearer nope"})
        assert (await client.get(ME, headers={"Authorization": "Bearer nope"})).status_code == 429
        # The same garbage from another address, and a forged token naming a key from this one, still get 401.
        assert (await neighbour.get(ME, headers={"Authorization": "Bearer nope"})).status_code == 401
        assert (await _status(client, _forged(app))).status_code == 401
