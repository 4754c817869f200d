"""Fødselsnummer and D-nummer validation: both control digits, the birth date, synthetic numbers."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.core.identity import IdentitySealer, InvalidIdentityNumber, parse_identity_number, with_control_digits


def _number(day: int, month: int, year2: int, individual: int) -> str | None:
    return with_control_digits(f"{day:02d}{month:02d}{year2:02d}{individual:03d}")


@given(
    birth=st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31)),
    individual=st.integers(min_value=0, max_value=499),
)
def test_every_completed_number_parses_back_to_its_birth_date(birth: date, individual: int) -> None:
    number = _number(birth.day, birth.month, birth.year % 100, individual)
    if number is None:  # some nine-digit prefixes have no valid control digit
        return
    parsed = parse_identity_number(number, allow_synthetic=False)
    assert parsed.birth_date == birth
    assert not parsed.is_d_number
    assert not parsed.is_synthetic


@given(
    birth=st.dates(min_value=date(2000, 1, 1), max_value=date(2039, 12, 31)),
    individual=st.integers(min_value=500, max_value=999),
)
def test_2000s_births_use_individual_numbers_500_to_999(birth: date, individual: int) -> None:
    number = _number(birth.day, birth.month, birth.year % 100, individual)
    if number is None:
        return
    assert parse_identity_number(number, allow_synthetic=False).birth_date == birth


@given(
    birth=st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31)),
    individual=st.integers(min_value=0, max_value=499),
    position=st.integers(min_value=0, max_value=10),
    delta=st.integers(min_value=1, max_value=9),
)
def test_any_single_digit_change_is_rejected(birth: date, individual: int, position: int, delta: int) -> None:
    number = _number(birth.day, birth.month, birth.year % 100, individual)
    if number is None:
        return
    digits = list(number)
    digits[position] = str((int(digits[position]) + delta) % 10)
    mutated = "".join(digits)
    # Mod-11 with two control digits detects every single-digit error.
    with pytest.raises(InvalidIdentityNumber):
        parse_identity_number(mutated, allow_synthetic=True)


@given(
    birth=st.dates(min_value=date(1950, 1, 1), max_value=date(1999, 12, 31)),
    individual=st.integers(min_value=0, max_value=499),
)
def test_d_numbers_add_40_to_the_day(birth: date, individual: int) -> None:
    number = _number(birth.day + 40, birth.month, birth.year % 100, individual)
    if number is None:
        return
    parsed = parse_identity_number(number, allow_synthetic=False)
    assert parsed.is_d_number
    assert parsed.birth_date == birth


def test_synthetic_numbers_only_outside_production() -> None:
    number = None
    individual = 100
    while number is None:
        number = _number(15, 85, 90, individual)
        individual += 1
    assert parse_identity_number(number, allow_synthetic=True).is_synthetic
    with pytest.raises(InvalidIdentityNumber, match="synthetic"):
        parse_identity_number(number, allow_synthetic=False)


@pytest.mark.parametrize(
    "raw",
    ["", "123", "1234567890a", "\uff10\uff11\uff10\uff11\uff17\uff10\uff11\uff12\uff13\uff14\uff15", "010170123456"],
)
def test_malformed_numbers_are_rejected_without_echo(raw: str) -> None:
    with pytest.raises(InvalidIdentityNumber) as caught:
        parse_identity_number(raw, allow_synthetic=True)
    assert raw == "" or raw not in str(caught.value)


def test_impossible_dates_are_rejected() -> None:
    for day, month, year2 in [(30, 2, 85), (29, 2, 85), (31, 4, 85), (0, 1, 85), (1, 13, 85)]:
        for individual in range(100, 140):
            number = _number(day, month, year2, individual)
            if number:
                with pytest.raises(InvalidIdentityNumber):
                    parse_identity_number(number, allow_synthetic=False)
                break


def test_sealing_round_trips_and_digest_is_stable_but_secret() -> None:
    sealer = IdentitySealer(b"k" * 32)
    sealed = sealer.seal("01017012345")
    assert b"01017012345" not in sealed
    assert sealer.unseal(sealed) == "01017012345"
    assert sealer.seal("01017012345") != sealed  # random nonce
    assert sealer.digest("01017012345") == sealer.digest("01017012345")
    assert IdentitySealer(b"x" * 32).digest("01017012345") != sealer.digest("01017012345")
