"""Norwegian identity numbers (fødselsnummer, D-nummer): validation, and sealing so they are never stored in clear."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from backend.core.keyfiles import ensure_secret_file

_K1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_K2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


class InvalidIdentityNumber(ValueError):
    """The number is not a valid fødselsnummer or D-nummer; the message never contains the number."""


def _control_digit(digits: str, weights: tuple[int, ...]) -> int | None:
    remainder = sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11
    check = 11 - remainder
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def _century(year2: int, individual: int) -> int | None:
    if individual <= 499:
        return 1900
    if individual <= 749 and year2 >= 54:
        return 1800
    if individual >= 500 and year2 <= 39:
        return 2000
    if individual >= 900 and year2 >= 40:
        return 1900
    return None


@dataclass(frozen=True, slots=True)
class IdentityNumber:
    value: str
    birth_date: date
    is_d_number: bool
    is_synthetic: bool

    @property
    def sex(self) -> str:
        """The legal sex the number encodes: its ninth digit is odd for male, even for female."""
        return "male" if int(self.value[8]) % 2 else "female"


def parse_identity_number(raw: str, *, allow_synthetic: bool) -> IdentityNumber:
    """Validate both mod-11 control digits and the embedded birth date.

    Synthetic test numbers (month + 80, as issued for test environments) are accepted only when
    `allow_synthetic` is true, which it is everywhere but production.
    """
    value = raw.strip()
    if len(value) != 11 or not value.isascii() or not value.isdigit():
        raise InvalidIdentityNumber("an identity number has exactly 11 digits")
    k1 = _control_digit(value[:9], _K1)
    k2 = _control_digit(value[:10], _K2)
    if k1 is None or k2 is None or k1 != int(value[9]) or k2 != int(value[10]):
        raise InvalidIdentityNumber("the control digits do not match")
    day, month, year2 = int(value[0:2]), int(value[2:4]), int(value[4:6])
    individual = int(value[6:9])
    is_d_number = day > 40
    if is_d_number:
        day -= 40
    is_synthetic = month > 80
    if is_synthetic:
        if not allow_synthetic:
            raise InvalidIdentityNumber("synthetic test numbers are not accepted here")
        month -= 80
    century = _century(year2, individual)
    if century is None:
        raise InvalidIdentityNumber("the individual number does not fit the birth year")
    try:
        birth = date(century + year2, month, day)
    except ValueError as exc:
        raise InvalidIdentityNumber("the birth date part is not a real date") from exc
    return IdentityNumber(value=value, birth_date=birth, is_d_number=is_d_number, is_synthetic=is_synthetic)


def with_control_digits(first_nine: str) -> str | None:
    """Complete nine digits to a valid eleven-digit number, or None when no control digit exists."""
    k1 = _control_digit(first_nine, _K1)
    if k1 is None:
        return None
    ten = first_nine + str(k1)
    k2 = _control_digit(ten, _K2)
    return None if k2 is None else ten + str(k2)


class IdentitySealer:
    """HMAC digest for lookup and AES-GCM sealing for storage, both from one secret."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise ValueError("the patient key must be at least 32 bytes")
        self._mac_key = hashlib.sha256(b"helsekort/fnr-digest\x00" + secret).digest()
        self._aead = AESGCM(hashlib.sha256(b"helsekort/fnr-seal\x00" + secret).digest())
        self._validator_key = hashlib.sha256(b"helsekort/etag\x00" + secret).digest()

    def digest(self, number: str) -> bytes:
        return hmac.new(self._mac_key, number.encode(), hashlib.sha256).digest()

    def validator(self, data: bytes) -> bytes:
        """A keyed MAC for response validators (core/conditional.py): opaque, the same in every process."""
        return hmac.new(self._validator_key, data, hashlib.sha256).digest()

    def seal(self, number: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, number.encode(), b"fnr")

    def unseal(self, sealed: bytes) -> str:
        return self._aead.decrypt(sealed[:12], sealed[12:], b"fnr").decode()


def load_patient_secret(configured: str | None, dev_keys_dir: Path) -> bytes:
    """The configured secret, or (outside production, where settings refuse it missing) a per-machine dev key."""
    if configured:
        return configured.encode()
    return ensure_secret_file(dev_keys_dir / "patient.key", lambda: secrets.token_hex(32).encode()).strip()


_configured: dict[str, IdentitySealer] = {}


def configure_sealer(secret: bytes) -> IdentitySealer:
    """Set the process-wide sealer (at app start-up, like the database engine)."""
    _configured["sealer"] = IdentitySealer(secret)
    return _configured["sealer"]


def sealer() -> IdentitySealer:
    found = _configured.get("sealer")
    if found is None:
        raise RuntimeError("the identity sealer is not configured; create_app() configures it")
    return found
