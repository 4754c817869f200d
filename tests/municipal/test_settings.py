"""HELSEKORT_LEGEVAKT_DISTRICTS and HELSEKORT_SHARING_MUNICIPALITIES are checked at start: a clear error, no guess."""

from __future__ import annotations

import pytest

from backend.settings import SettingsError, load_settings


def test_districts_and_sharing_municipalities_are_read_from_the_environment() -> None:
    settings = load_settings(
        {
            "HELSEKORT_LEGEVAKT_DISTRICTS": '{"974600005": ["0301", "3201"]}',
            "HELSEKORT_SHARING_MUNICIPALITIES": "4601, 1804",
        }
    )
    assert settings.legevakt_districts == (("974600005", ("0301", "3201")),)
    assert settings.sharing_municipalities == frozenset({"4601", "1804"})
    assert load_settings({"HELSEKORT_SHARING_MUNICIPALITIES": '["4601"]'}).sharing_municipalities == {"4601"}
    assert load_settings({}).legevakt_districts == ()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("HELSEKORT_LEGEVAKT_DISTRICTS", '{"974600005": ["0301"', "not valid JSON"),
        ("HELSEKORT_LEGEVAKT_DISTRICTS", '["0301"]', "must be a JSON object"),
        ("HELSEKORT_LEGEVAKT_DISTRICTS", '{"9746": ["0301"]}', "9-digit organisation number"),
        ("HELSEKORT_LEGEVAKT_DISTRICTS", '{"974600005": "0301"}', "4-digit kommunenummer"),
        ("HELSEKORT_LEGEVAKT_DISTRICTS", '{"974600005": [301]}', "4-digit kommunenummer"),
        ("HELSEKORT_SHARING_MUNICIPALITIES", "Oslo", "not a 4-digit kommunenummer"),
        ("HELSEKORT_SHARING_MUNICIPALITIES", '["0301"', "not valid JSON"),
    ],
)
def test_a_bad_value_stops_the_start_with_a_clear_error(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings({name: value})
