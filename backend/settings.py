"""One frozen settings object, read from the environment once, that refuses unsafe production config."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Literal

Environment = Literal["dev", "test", "production"]
IssuerKind = Literal["citizen", "clinician", "editor", "system"]

DEV_ISSUER_PREFIX = "https://dev.helsekort.invalid/"
METRICS_ALLOW_DEFAULT = ("127.0.0.1/32", "::1/128")


class SettingsError(ValueError):
    """The environment asks for a configuration the service must not run with."""


@dataclass(frozen=True, slots=True)
class IssuerSettings:
    """One trusted token issuer (ID-porten, HelseID, the editor IdP, the machine clients' IdP, or a dev issuer)."""

    kind: IssuerKind
    issuer: str
    audience: str
    jwks_url: str | None = None
    jwks_file: str | None = None

    @property
    def is_dev(self) -> bool:
        return self.issuer.startswith(DEV_ISSUER_PREFIX)


@dataclass(frozen=True, slots=True)
class ApnsSettings:
    endpoint: str | None = None
    ca_file: str | None = None
    key_file: str | None = None
    key_id: str | None = None
    team_id: str | None = None
    topic: str | None = None

    @property
    def configured(self) -> bool:
        return bool(self.key_file and self.key_id and self.team_id and self.topic)


@dataclass(frozen=True, slots=True)
class FcmSettings:
    """Firebase Cloud Messaging HTTP v1: a Google service-account JSON (its `token_uri` issues access tokens)."""

    credentials_file: str | None = None
    endpoint: str | None = None  # base URL; None: Google's
    ca_file: str | None = None

    @property
    def configured(self) -> bool:
        return bool(self.credentials_file)


@dataclass(frozen=True, slots=True)
class Settings:
    env: Environment = "dev"
    database_url: str | None = None
    data_dir: Path = Path(".data")
    db_pool_min: int = 2
    db_pool_max: int = 10
    # A stalled database must answer 503 within about a second: connect, acquire and every command are bounded.
    db_connect_timeout: float = 1.0
    db_acquire_timeout: float = 1.0
    db_command_timeout: float = 1.0
    # Below the command timeout, so a slow (not stalled) server cancels the statement itself first.
    db_statement_timeout_ms: int = 900
    issuers: tuple[IssuerSettings, ...] = ()
    cors_origins: tuple[str, ...] = ()
    body_limit: int = 1024 * 1024
    patient_key: str | None = None
    apns: ApnsSettings = field(default_factory=ApnsSettings)
    fcm: FcmSettings = field(default_factory=FcmSettings)
    quiet_hours: str = "22:00-07:00"
    worker_metrics_port: int | None = None
    log_level: str = "INFO"
    # Client networks that may read /metrics on the public listener (others get 404).
    metrics_allow: tuple[str, ...] = METRICS_ALLOW_DEFAULT
    rate_limit_writes_per_minute: int = 120
    rate_limit_auth_failures_per_minute: int = 30
    # ATC codes or groups (level 3 or finer) a midwife (JO) may prescribe; None: the domain's default list.
    jo_atc_prefixes: tuple[str, ...] | None = None
    # Days from arrival (or a later issuedAt) until a lab result is released to the citizen; None: by the requester.
    lab_release_delays: tuple[tuple[str, float | None], ...] = field(
        default_factory=lambda: tuple(LAB_RELEASE_DELAYS_DEFAULT.items())
    )
    # The municipalities (kommunenummer) each legevakt organisation (orgnr) serves, and those that share their
    # municipal services nationally: whose services a reader sees besides her own municipality's.
    legevakt_districts: tuple[tuple[str, tuple[str, ...]], ...] = ()
    sharing_municipalities: frozenset[str] = frozenset()
    # Journal documents: the largest file, how far back other organisations' documents reach (days by type;
    # a type not named: unlimited), and where the bytes live (None: PostgreSQL; `s3://bucket/prefix`).
    document_max_bytes: int = 20 * 1024 * 1024
    document_lookback_days: tuple[tuple[str, int], ...] = field(
        default_factory=lambda: tuple(DOCUMENT_LOOKBACK_DEFAULT.items())
    )
    document_store: str | None = None

    @property
    def metrics_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        return tuple(ip_network(network, strict=False) for network in self.metrics_allow)

    @property
    def document_body_limit(self) -> int:
        """The request body limit of the document upload: the largest file as base64 (the FHIR form) and 64 KiB
        for the metadata and multipart framing; the file itself is held to `document_max_bytes` as it streams."""
        return (self.document_max_bytes + 2) // 3 * 4 + 64 * 1024

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def dev_issuers_enabled(self) -> bool:
        return self.env != "production"

    @property
    def dev_keys_dir(self) -> Path:
        return self.data_dir / "dev-keys"

    def validate(self) -> Settings:
        """Raise SettingsError naming what to set when production would run unsafely."""
        if not self.is_production:
            return self
        problems: list[str] = []
        if not self.database_url:
            problems.append("set DATABASE_URL: production does not run on the embedded PostgreSQL")
        if not self.issuers:
            problems.append("set HELSEKORT_ISSUERS to the trusted ID-porten, HelseID and editor issuers")
        if any(issuer.is_dev for issuer in self.issuers):
            problems.append("remove the dev issuers from HELSEKORT_ISSUERS")
        kinds = {issuer.kind for issuer in self.issuers}
        for kind in ("citizen", "clinician", "editor"):
            if self.issuers and kind not in kinds:
                problems.append(f"add a {kind} issuer to HELSEKORT_ISSUERS")
        if "*" in self.cors_origins:
            problems.append("replace the wildcard in HELSEKORT_CORS_ORIGINS with the app's origins")
        if not self.patient_key or len(self.patient_key) < 32:
            problems.append("set HELSEKORT_PATIENT_KEY to a secret of at least 32 characters")
        if not self.apns.configured:
            problems.append(
                "set HELSEKORT_APNS_KEY_FILE, HELSEKORT_APNS_KEY_ID, HELSEKORT_APNS_TEAM_ID and HELSEKORT_APNS_TOPIC"
            )
        if not self.fcm.configured:
            problems.append("set HELSEKORT_FCM_CREDENTIALS_FILE to the service-account JSON for Android push")
        if self.fcm.endpoint and not self.fcm.endpoint.startswith("https://"):
            problems.append("HELSEKORT_FCM_ENDPOINT must be an https:// URL")
        if problems:
            raise SettingsError("unsafe production configuration: " + "; ".join(problems))
        return self


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from exc


def _float(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number, not {raw!r}") from exc


_ATC_PREFIX = re.compile(r"[ABCDGHJLMNPRSV]([0-9]{2}([A-Z]([A-Z]([0-9]{2})?)?)?)?")
# Level 1 (J) and 2 (J07) groups always hold medicines outside a midwife's right (all of J07: yellow fever, rabies).
_ATC_TOO_BROAD = re.compile(r"[A-Z]([0-9]{2})?")


def _atc_prefixes(raw: str | None) -> tuple[str, ...] | None:
    if raw is None or not raw.strip():
        return None
    prefixes = tuple(part.strip() for part in raw.split(",") if part.strip())
    for prefix in prefixes:
        if not _ATC_PREFIX.fullmatch(prefix):
            raise SettingsError(f"HELSEKORT_JO_ATC_PREFIXES: {prefix!r} is not an ATC code such as G03A or J07AJ52")
        if _ATC_TOO_BROAD.fullmatch(prefix):
            raise SettingsError(
                f"HELSEKORT_JO_ATC_PREFIXES: {prefix!r} is a whole ATC main or therapeutic group and holds medicines"
                " outside a midwife's right to prescribe; name groups of level 3 or finer (G03A) or substances (J07AJ52)"
            )
    return prefixes


LAB_RELEASE_DELAYS_DEFAULT: dict[str, float | None] = {
    "clinical-chemistry": 7,
    "haematology": 7,
    "microbiology": 7,
    "immunology": 7,
    "pathology": None,
    "genetics": None,
}


def _lab_release_delays(raw: str | None) -> tuple[tuple[str, float | None], ...]:
    """HELSEKORT_LAB_RELEASE_DELAYS: a JSON object {category: days or null} over the contract's defaults."""
    delays = dict(LAB_RELEASE_DELAYS_DEFAULT)
    if raw is not None and raw.strip():
        try:
            given = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise SettingsError(f"HELSEKORT_LAB_RELEASE_DELAYS is not valid JSON: {exc.msg}") from exc
        if not isinstance(given, dict):
            raise SettingsError("HELSEKORT_LAB_RELEASE_DELAYS must be a JSON object {category: days or null}")
        for category, days in given.items():
            if category not in delays:
                raise SettingsError(
                    f"HELSEKORT_LAB_RELEASE_DELAYS: unknown category {category!r}; known: {', '.join(delays)}"
                )
            number = isinstance(days, int | float) and not isinstance(days, bool)
            if days is not None and (not number or not 0 <= days <= 365):
                raise SettingsError(
                    f"HELSEKORT_LAB_RELEASE_DELAYS.{category} must be a number of days from 0 to 365, or null"
                )
            delays[category] = None if days is None else float(days)
    return tuple(delays.items())


_MUNICIPALITY = re.compile(r"[0-9]{4}")
_ORG_NUMBER = re.compile(r"[0-9]{9}")


def _legevakt_districts(raw: str | None) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """HELSEKORT_LEGEVAKT_DISTRICTS: a JSON object {orgnr: ["kommunenummer", …]}, the municipalities each legevakt serves."""
    if raw is None or not raw.strip():
        return ()
    try:
        given = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SettingsError(f"HELSEKORT_LEGEVAKT_DISTRICTS is not valid JSON: {exc.msg}") from exc
    if not isinstance(given, dict):
        raise SettingsError('HELSEKORT_LEGEVAKT_DISTRICTS must be a JSON object {"orgnr": ["kommunenummer", …]}')
    districts: list[tuple[str, tuple[str, ...]]] = []
    for org, municipalities in given.items():
        if not _ORG_NUMBER.fullmatch(org):
            raise SettingsError(f"HELSEKORT_LEGEVAKT_DISTRICTS: {org!r} is not a 9-digit organisation number")
        if not isinstance(municipalities, list) or not all(
            isinstance(number, str) and _MUNICIPALITY.fullmatch(number) for number in municipalities
        ):
            raise SettingsError(f"HELSEKORT_LEGEVAKT_DISTRICTS.{org} must be a list of 4-digit kommunenummer strings")
        districts.append((org, tuple(municipalities)))
    return tuple(districts)


def _sharing_municipalities(raw: str | None) -> frozenset[str]:
    """HELSEKORT_SHARING_MUNICIPALITIES: comma-separated kommunenummer (or a JSON list of them)."""
    if raw is None or not raw.strip():
        return frozenset()
    text = raw.strip()
    if text.startswith("["):
        try:
            given = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SettingsError(f"HELSEKORT_SHARING_MUNICIPALITIES is not valid JSON: {exc.msg}") from exc
        if not isinstance(given, list) or not all(isinstance(number, str) for number in given):
            raise SettingsError("HELSEKORT_SHARING_MUNICIPALITIES must be a JSON list of kommunenummer strings")
        numbers = [number.strip() for number in given]
    else:
        numbers = [part.strip() for part in text.split(",") if part.strip()]
    for number in numbers:
        if not _MUNICIPALITY.fullmatch(number):
            raise SettingsError(f"HELSEKORT_SHARING_MUNICIPALITIES: {number!r} is not a 4-digit kommunenummer")
    return frozenset(numbers)


DOCUMENT_LOOKBACK_DEFAULT: dict[str, int] = {"referral": 365, "lab-report": 365, "radiology-report": 5 * 365}
DOCUMENT_TYPES = ("epicrisis", "outpatient-note", "referral", "radiology-report", "lab-report", "summary", "other")


def _document_lookback(raw: str | None) -> tuple[tuple[str, int], ...]:
    """HELSEKORT_DOCUMENT_LOOKBACK: a JSON object {type: days or null (unlimited)} over the contract's defaults."""
    days: dict[str, int | None] = dict(DOCUMENT_LOOKBACK_DEFAULT)
    if raw is not None and raw.strip():
        try:
            given = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise SettingsError(f"HELSEKORT_DOCUMENT_LOOKBACK is not valid JSON: {exc.msg}") from exc
        if not isinstance(given, dict):
            raise SettingsError("HELSEKORT_DOCUMENT_LOOKBACK must be a JSON object {type: days or null}")
        for kind, value in given.items():
            if kind not in DOCUMENT_TYPES:
                raise SettingsError(
                    f"HELSEKORT_DOCUMENT_LOOKBACK: unknown type {kind!r}; known: {', '.join(DOCUMENT_TYPES)}"
                )
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 36500):
                raise SettingsError(f"HELSEKORT_DOCUMENT_LOOKBACK.{kind} must be a whole number of days, or null")
            days[kind] = value
    return tuple((kind, value) for kind, value in days.items() if value is not None)


def _document_store(raw: str | None) -> str | None:
    """HELSEKORT_DOCUMENT_STORE: empty for PostgreSQL, or `s3://bucket/prefix` for an S3-compatible store."""
    if raw is None or not raw.strip():
        return None
    if not re.fullmatch(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9._/-]*)?", raw.strip()):
        raise SettingsError("HELSEKORT_DOCUMENT_STORE must be empty (PostgreSQL) or s3://bucket/prefix")
    return raw.strip().rstrip("/")


def _networks(raw: str | None) -> tuple[str, ...]:
    if raw is None or not raw.strip():
        return METRICS_ALLOW_DEFAULT
    networks = tuple(part.strip() for part in raw.split(",") if part.strip())
    for network in networks:
        try:
            ip_network(network, strict=False)
        except ValueError as exc:
            raise SettingsError(f"HELSEKORT_METRICS_ALLOW: {network!r} is not an address or network (CIDR)") from exc
    return networks


def _issuers(raw: str | None) -> tuple[IssuerSettings, ...]:
    if not raw:
        return ()
    try:
        items = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SettingsError(f"HELSEKORT_ISSUERS is not valid JSON: {exc.msg}") from exc
    if not isinstance(items, list):
        raise SettingsError("HELSEKORT_ISSUERS must be a JSON list of issuer objects")
    issuers: list[IssuerSettings] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise SettingsError(f"HELSEKORT_ISSUERS[{index}] must be an object")
        kind = item.get("kind")
        if kind not in ("citizen", "clinician", "editor", "system"):
            raise SettingsError(f"HELSEKORT_ISSUERS[{index}].kind must be citizen, clinician, editor or system")
        if not item.get("issuer") or not item.get("audience"):
            raise SettingsError(f"HELSEKORT_ISSUERS[{index}] needs issuer and audience")
        if not (item.get("jwksUrl") or item.get("jwksFile")):
            raise SettingsError(f"HELSEKORT_ISSUERS[{index}] needs jwksUrl or jwksFile")
        issuers.append(
            IssuerSettings(
                kind=kind,
                issuer=str(item["issuer"]),
                audience=str(item["audience"]),
                jwks_url=item.get("jwksUrl"),
                jwks_file=item.get("jwksFile"),
            )
        )
    return tuple(issuers)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from the environment (os.environ unless given) and validate them."""
    env = os.environ if environ is None else environ
    name = env.get("HELSEKORT_ENV", "dev")
    if name not in ("dev", "test", "production"):
        raise SettingsError(f"HELSEKORT_ENV must be dev, test or production, not {name!r}")
    cors = tuple(origin.strip() for origin in env.get("HELSEKORT_CORS_ORIGINS", "").split(",") if origin.strip())
    settings = Settings(
        env=name,  # type: ignore[arg-type]
        database_url=env.get("DATABASE_URL") or None,
        data_dir=Path(env.get("HELSEKORT_DATA_DIR", ".data")),
        db_pool_min=_int(env, "HELSEKORT_DB_POOL_MIN", 2),
        db_pool_max=_int(env, "HELSEKORT_DB_POOL_MAX", 10),
        db_connect_timeout=_float(env, "HELSEKORT_DB_CONNECT_TIMEOUT", 1.0),
        db_acquire_timeout=_float(env, "HELSEKORT_DB_ACQUIRE_TIMEOUT", 1.0),
        db_command_timeout=_float(env, "HELSEKORT_DB_COMMAND_TIMEOUT", 1.0),
        db_statement_timeout_ms=_int(env, "HELSEKORT_DB_STATEMENT_TIMEOUT_MS", 900),
        issuers=_issuers(env.get("HELSEKORT_ISSUERS")),
        cors_origins=cors,
        body_limit=_int(env, "HELSEKORT_BODY_LIMIT", 1024 * 1024),
        patient_key=env.get("HELSEKORT_PATIENT_KEY") or None,
        apns=ApnsSettings(
            endpoint=env.get("HELSEKORT_APNS_ENDPOINT") or None,
            ca_file=env.get("HELSEKORT_APNS_CA_FILE") or None,
            key_file=env.get("HELSEKORT_APNS_KEY_FILE") or None,
            key_id=env.get("HELSEKORT_APNS_KEY_ID") or None,
            team_id=env.get("HELSEKORT_APNS_TEAM_ID") or None,
            topic=env.get("HELSEKORT_APNS_TOPIC") or None,
        ),
        fcm=FcmSettings(
            credentials_file=env.get("HELSEKORT_FCM_CREDENTIALS_FILE") or None,
            endpoint=env.get("HELSEKORT_FCM_ENDPOINT") or None,
            ca_file=env.get("HELSEKORT_FCM_CA_FILE") or None,
        ),
        quiet_hours=env.get("HELSEKORT_QUIET_HOURS", "22:00-07:00"),
        worker_metrics_port=_int(env, "HELSEKORT_WORKER_METRICS_PORT", 0) or None,
        log_level=env.get("HELSEKORT_LOG_LEVEL", "INFO").upper(),
        metrics_allow=_networks(env.get("HELSEKORT_METRICS_ALLOW")),
        rate_limit_writes_per_minute=_int(env, "HELSEKORT_RATE_LIMIT_WRITES", 120),
        rate_limit_auth_failures_per_minute=_int(env, "HELSEKORT_RATE_LIMIT_AUTH_FAILURES", 30),
        jo_atc_prefixes=_atc_prefixes(env.get("HELSEKORT_JO_ATC_PREFIXES")),
        lab_release_delays=_lab_release_delays(env.get("HELSEKORT_LAB_RELEASE_DELAYS")),
        legevakt_districts=_legevakt_districts(env.get("HELSEKORT_LEGEVAKT_DISTRICTS")),
        sharing_municipalities=_sharing_municipalities(env.get("HELSEKORT_SHARING_MUNICIPALITIES")),
        document_max_bytes=_int(env, "HELSEKORT_DOCUMENT_MAX_BYTES", 20 * 1024 * 1024),
        document_lookback_days=_document_lookback(env.get("HELSEKORT_DOCUMENT_LOOKBACK")),
        document_store=_document_store(env.get("HELSEKORT_DOCUMENT_STORE")),
    )
    if settings.document_max_bytes < 1:
        raise SettingsError("HELSEKORT_DOCUMENT_MAX_BYTES must be at least 1")
    if settings.db_pool_min < 1 or settings.db_pool_max < settings.db_pool_min:
        raise SettingsError("HELSEKORT_DB_POOL_MIN must be ≥ 1 and ≤ HELSEKORT_DB_POOL_MAX")
    return settings.validate()
