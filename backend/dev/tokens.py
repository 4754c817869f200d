"""Dev-mode issuers: one local signing key, its JWKS, and `helsekort token …` to mint access tokens for it."""

from __future__ import annotations

import argparse
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from backend.core.auth import (
    CITIZEN_ACR,
    HELSEID_HPR,
    HELSEID_HPR_DETAILS,
    HELSEID_MUNICIPALITY,
    HELSEID_ORG_NUMBER,
    HELSEID_PID,
    HELSEID_SECURITY_LEVEL,
    HELSEKORT_ORG_KIND,
)
from backend.core.identity import InvalidIdentityNumber, parse_identity_number
from backend.core.keyfiles import ensure_secret_file
from backend.settings import DEV_ISSUER_PREFIX, IssuerKind, IssuerSettings, Settings

DEV_AUDIENCE = "helsekort"
DEV_KID = "helsekort-dev-1"


def dev_issuer_url(kind: IssuerKind) -> str:
    return f"{DEV_ISSUER_PREFIX}{kind}"


def dev_issuers() -> tuple[IssuerSettings, ...]:
    return tuple(
        IssuerSettings(kind=kind, issuer=dev_issuer_url(kind), audience=DEV_AUDIENCE)
        for kind in ("citizen", "clinician", "editor", "system")
    )


def _new_private_key() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@dataclass(frozen=True, slots=True)
class DevSigningKey:
    private_pem: bytes
    public_jwk: dict[str, Any]

    @property
    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.public_jwk]}


def load_dev_signing_key(settings: Settings) -> DevSigningKey:
    """The machine's dev key (made once in the data directory) so the CLI and the server agree."""
    pem = ensure_secret_file(settings.dev_keys_dir / "dev-signing-key.pem", _new_private_key)
    private = serialization.load_pem_private_key(pem, password=None)
    public_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))  # type: ignore[arg-type]
    public_jwk.update({"kid": DEV_KID, "use": "sig", "alg": "RS256"})
    return DevSigningKey(private_pem=pem, public_jwk=public_jwk)


def mint(
    key: DevSigningKey,
    kind: IssuerKind,
    claims: dict[str, Any],
    *,
    expires_in: int = 3600,
    audience: str | None = None,
    headers: dict[str, Any] | None = None,
    issuer: str | None = None,
) -> str:
    now = int(time.time())
    payload = {
        "iss": issuer or dev_issuer_url(kind),
        "aud": audience or DEV_AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + expires_in,
        "jti": uuid.uuid4().hex,
        **claims,
    }
    return jwt.encode(
        payload, key.private_pem, algorithm="RS256", headers={"kid": DEV_KID, "typ": "at+jwt", **(headers or {})}
    )


def citizen_claims(pid: str) -> dict[str, Any]:
    return {"sub": uuid.uuid5(uuid.NAMESPACE_OID, "citizen" + pid).hex, "pid": pid, "acr": CITIZEN_ACR}


DEV_MUNICIPALITY = "0301"  # Oslo: API.md's default for `--municipality`


def clinician_claims(
    *,
    hpr: str,
    pid: str,
    authorization: str,
    org: str,
    org_kind: str,
    name: str | None = None,
    municipality: str | None = DEV_MUNICIPALITY,
) -> dict[str, Any]:
    return {
        "sub": f"hpr-{hpr}",
        HELSEID_PID: pid,
        HELSEID_HPR: hpr,
        HELSEID_SECURITY_LEVEL: "4",
        HELSEID_ORG_NUMBER: org,
        HELSEID_HPR_DETAILS: {"approvals": [{"profession": authorization}]},
        HELSEKORT_ORG_KIND: org_kind,
        "name": name or f"Helsepersonell {hpr}",
        **({HELSEID_MUNICIPALITY: municipality} if municipality is not None else {}),
    }


def editor_claims(sub: str, name: str | None = None) -> dict[str, Any]:
    return {"sub": sub, "name": name or sub}


def system_claims(scope: str, sub: str = "folkeregister-feed") -> dict[str, Any]:
    """A machine client's access token (client credentials): its client id and the scopes it was given."""
    return {"sub": sub, "client_id": sub, "scope": scope}


def mint_from_args(settings: Settings, args: argparse.Namespace) -> str:
    key = load_dev_signing_key(settings)
    kind: IssuerKind = args.kind
    if kind in ("citizen", "clinician"):
        try:
            parse_identity_number(args.pid, allow_synthetic=True)
        except InvalidIdentityNumber as exc:
            raise ValueError(f"--pid is not a valid fødselsnummer: {exc}") from exc
    if kind == "clinician" and not (len(args.municipality) == 4 and args.municipality.isdigit()):
        raise ValueError("--municipality must be a 4-digit kommunenummer such as 0301")
    if kind == "citizen":
        claims = citizen_claims(args.pid)
    elif kind == "clinician":
        claims = clinician_claims(
            hpr=args.hpr,
            pid=args.pid,
            authorization=args.authorization,
            org=args.org,
            org_kind=args.org_kind,
            name=args.name,
            municipality=args.municipality,
        )
    elif kind == "system":
        claims = system_claims(args.scope, args.sub)
    else:
        claims = editor_claims(args.sub)
    return mint(key, kind, claims, expires_in=args.expires_in, audience=args.audience)
