"""ATC codes: the five levels, the anatomical main groups, and which levels a list entry may use."""

from __future__ import annotations

import pytest

from backend.medications.atc import InvalidAtcCode, atc_level, validate_entry_atc, within


@pytest.mark.parametrize(
    ("code", "level"), [("A", 1), ("A10", 2), ("A10B", 3), ("A10BA", 4), ("A10BA02", 5), ("J07BB02", 5)]
)
def test_the_level_follows_the_shape_of_the_code(code: str, level: int) -> None:
    assert atc_level(code) == level


@pytest.mark.parametrize("code", ["", "a10ba02", "A10BA0", "A10BA023", "AA0BA02", "A10B A02", "E10BA02", "10BA02"])
def test_malformed_codes_are_refused(code: str) -> None:
    with pytest.raises(InvalidAtcCode):
        atc_level(code)


def test_an_entry_names_at_least_the_pharmacological_subgroup() -> None:
    assert validate_entry_atc("N02B") == "N02B"
    with pytest.raises(InvalidAtcCode, match="level 2"):
        validate_entry_atc("N02")


def test_a_code_is_within_a_group_named_by_its_prefix() -> None:
    assert within("B03AA07", ("J07", "B03A"))
    assert not within("B03", ("B03A",))  # the broader group is not wholly in the list
    assert not within("H03AA01", ("J07", "B03A"))
