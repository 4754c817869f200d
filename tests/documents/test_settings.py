"""The documents' settings: the limit, the look-back by type and the store, read from the environment and checked."""

from __future__ import annotations

import pytest

from backend.settings import SettingsError, load_settings


def test_the_defaults_are_the_contracts() -> None:
    settings = load_settings({})
    assert settings.document_max_bytes == 20 * 1024 * 1024
    assert dict(settings.document_lookback_days) == {"referral": 365, "lab-report": 365, "radiology-report": 1825}
    assert settings.document_store is None
    assert settings.document_body_limit > settings.document_max_bytes * 4 // 3


def test_the_lookback_overrides_some_types_and_null_makes_one_unlimited() -> None:
    settings = load_settings({"HELSEKORT_DOCUMENT_LOOKBACK": '{"referral": null, "epicrisis": 3650}'})
    assert dict(settings.document_lookback_days) == {"lab-report": 365, "radiology-report": 1825, "epicrisis": 3650}


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("HELSEKORT_DOCUMENT_LOOKBACK", "[1]", "JSON object"),
        ("HELSEKORT_DOCUMENT_LOOKBACK", "{", "not valid JSON"),
        ("HELSEKORT_DOCUMENT_LOOKBACK", '{"x-ray": 5}', "unknown type"),
        ("HELSEKORT_DOCUMENT_LOOKBACK", '{"referral": -1}', "whole number of days"),
        ("HELSEKORT_DOCUMENT_LOOKBACK", '{"referral": true}', "whole number of days"),
        ("HELSEKORT_DOCUMENT_STORE", "ftp://somewhere", "s3://bucket/prefix"),
        ("HELSEKORT_DOCUMENT_MAX_BYTES", "0", "at least 1"),
    ],
)
def test_a_bad_setting_refuses_start_up_naming_it(name: str, value: str, words: str) -> None:
    with pytest.raises(SettingsError, match=words):
        load_settings({name: value})


def test_an_s3_store_is_a_bucket_and_a_prefix() -> None:
    assert load_settings({"HELSEKORT_DOCUMENT_STORE": "s3://helsekort-docs/journal/"}).document_store == (
        "s3://helsekort-docs/journal"
    )
