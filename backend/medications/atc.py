"""ATC codes (WHO Anatomical Therapeutic Chemical classification): format and level of a code on the list."""

from __future__ import annotations

import re

# The 14 anatomical main groups (level 1).
MAIN_GROUPS = frozenset("ABCDGHJLMNPRSV")

# Level 1 A, 2 A10, 3 A10B, 4 A10BA, 5 A10BA02.
_LEVELS = (
    (5, re.compile(r"[A-Z][0-9]{2}[A-Z]{2}[0-9]{2}")),
    (4, re.compile(r"[A-Z][0-9]{2}[A-Z]{2}")),
    (3, re.compile(r"[A-Z][0-9]{2}[A-Z]")),
    (2, re.compile(r"[A-Z][0-9]{2}")),
    (1, re.compile(r"[A-Z]")),
)

# A list entry names at least the pharmacological subgroup (A10B); a substance (A10BA02) is normal.
LOWEST_ACCEPTED_LEVEL = 3


class InvalidAtcCode(ValueError):
    """The code is not an ATC code of an accepted level; the message says what is wrong."""


def atc_level(code: str) -> int:
    """The level (1 to 5) of a well-formed ATC code; InvalidAtcCode otherwise."""
    for level, pattern in _LEVELS:
        if pattern.fullmatch(code):
            if code[0] not in MAIN_GROUPS:
                raise InvalidAtcCode(f"{code[0]} is not an ATC main group (one of {''.join(sorted(MAIN_GROUPS))})")
            return level
    raise InvalidAtcCode("an ATC code is a letter, two digits, a letter, a letter and two digits, e.g. A10BA02")


def validate_entry_atc(code: str) -> str:
    """The code when it is an ATC code of level 3, 4 or 5 (upper case); InvalidAtcCode otherwise."""
    level = atc_level(code)
    if level < LOWEST_ACCEPTED_LEVEL:
        raise InvalidAtcCode(
            f"{code} is an ATC level {level} group; give at least the pharmacological subgroup (level 3, e.g. A10B)"
        )
    return code


def within(code: str, prefixes: tuple[str, ...]) -> bool:
    """True when the code lies inside one of the groups named by `prefixes` (B03AA07 is inside B03A)."""
    return any(code.startswith(prefix) for prefix in prefixes)
