"""Settings come from the environment once and refuse unsafe production configuration."""

from __future__ import annotations

import json

import pytest

from backend.settings import SettingsError, load_settings

SAFE_ISSUERS = json.dumps(
    [
        {"kind": "citizen", "issuer": "https://idporten.example", "audience": "helsekort", "jwksUrl": "https://idporten.example/jwks"},
        {"kind": "clinician", "issuer": "https://helseid.example", "audience": "helsekort", "jwksUrl": "https://helseid.example/jwks"},
        {"kind": "editor", "issuer": "https://editors.example", "audience": "helsekort", "jwksFile": "/etc/helsekort/editors.json"},
    ]
)  # fmt: skip

PRODUCTION = {
    "HELSEKORT_ENV": "production",
    "DATABASE_URL": "postgresql://helsekort@db/helsekort",
    "HELSEKORT_ISSUERS": SAFE_ISSUERS,
    "HELSEKORT_CORS_ORIGINS": "https://app.helsekort.example",
    "HELSEKORT_PATIENT_KEY": "k" * 48,
    "HELSEKORT_APNS_KEY_FILE": "/run/secrets/apns.p8",
    "HELSEKORT_APNS_KEY_ID": "ABC123DEFG",
    "HELSEKORT_APNS_TEAM_ID": "TEAM123456",
    "HELSEKORT_APNS_TOPIC": "no.helsekort.app",
    "HELSEKORT_FCM_CREDENTIALS_FILE": "/run/secrets/fcm-service-account.json",
}


def test_defaults_are_dev_on_the_embedded_database() -> None:
    settings = load_settings({})
    assert settings.env == "dev"
    assert settings.database_url is None
    assert settings.body_limit == 1024 * 1024
    assert settings.dev_issuers_enabled


def test_safe_production_configuration_loads() -> None:
    settings = load_settings(PRODUCTION)
    assert settings.is_production
    assert not settings.dev_issuers_enabled
    assert [issuer.kind for issuer in settings.issuers] == ["citizen", "clinician", "editor"]


def test_the_machine_clients_issuer_is_configured_like_the_others() -> None:
    """Issue 18: the population-register feed's tokens come from an issuer of kind `system`, with its own JWKS."""
    system = {"kind": "system", "issuer": "https://machines.example", "audience": "helsekort",
              "jwksUrl": "https://machines.example/jwks"}  # fmt: skip
    issuers = json.dumps([*json.loads(SAFE_ISSUERS), system])
    settings = load_settings({**PRODUCTION, "HELSEKORT_ISSUERS": issuers})
    [configured] = [issuer for issuer in settings.issuers if issuer.kind == "system"]
    assert (configured.issuer, configured.jwks_url) == ("https://machines.example", "https://machines.example/jwks")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"HELSEKORT_CORS_ORIGINS": "*"}, "HELSEKORT_CORS_ORIGINS"),
        ({"DATABASE_URL": ""}, "DATABASE_URL"),
        ({"HELSEKORT_PATIENT_KEY": ""}, "HELSEKORT_PATIENT_KEY"),
        ({"HELSEKORT_PATIENT_KEY": "short"}, "HELSEKORT_PATIENT_KEY"),
        ({"HELSEKORT_APNS_KEY_FILE": ""}, "HELSEKORT_APNS_KEY_FILE"),
        ({"HELSEKORT_FCM_CREDENTIALS_FILE": ""}, "HELSEKORT_FCM_CREDENTIALS_FILE"),
        ({"HELSEKORT_FCM_ENDPOINT": "http://fcm.example"}, "HELSEKORT_FCM_ENDPOINT"),
        ({"HELSEKORT_ISSUERS": ""}, "HELSEKORT_ISSUERS"),
        (
            {"HELSEKORT_ISSUERS": json.dumps([{"kind": "citizen", "issuer": "https://dev.helsekort.invalid/citizen", "audience": "a", "jwksFile": "x"}])},
            "dev issuers",
        ),
    ],
)  # fmt: skip
def test_production_refuses_unsafe_configuration(change: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings({**PRODUCTION, **change})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HELSEKORT_ENV": "staging"}, "HELSEKORT_ENV"),
        ({"HELSEKORT_BODY_LIMIT": "lots"}, "HELSEKORT_BODY_LIMIT"),
        ({"HELSEKORT_ISSUERS": "{not json"}, "HELSEKORT_ISSUERS"),
        ({"HELSEKORT_ISSUERS": json.dumps([{"kind": "robot"}])}, "kind"),
        ({"HELSEKORT_DB_POOL_MIN": "5", "HELSEKORT_DB_POOL_MAX": "2"}, "POOL"),
    ],
)
def test_malformed_settings_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(env)
