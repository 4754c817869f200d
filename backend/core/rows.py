"""Row → typed value: the one mapping every domain's `queries.py` uses for its results.

A statement names its columns as the fields of the struct (msgspec) or dataclass it returns, so mapping a
row is taking those fields by name; values a row does not hold as such (an author built from prefixed
columns, a decoded JSON column) are `given`. No bare asyncpg record leaves a domain's queries.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import msgspec

T = TypeVar("T")


_FIELDS: dict[type[Any], tuple[str, ...]] = {}
_PLANS: dict[tuple[type[Any], tuple[str, ...], frozenset[str]], tuple[str, ...]] = {}


def fields_of(shape: type[Any]) -> tuple[str, ...]:
    found = _FIELDS.get(shape)
    if found is None:
        if issubclass(shape, msgspec.Struct):
            found = shape.__struct_fields__
        elif dataclasses.is_dataclass(shape):
            found = tuple(field.name for field in dataclasses.fields(shape))
        else:
            raise TypeError(f"{shape.__name__} is neither a msgspec Struct nor a dataclass")
        _FIELDS[shape] = found
    return found


def _taken(shape: type[Any], row: Mapping[str, Any], given: Mapping[str, Any]) -> tuple[str, ...]:
    """The fields read from the row: those with a column (the others keep their defaults), not given. One
    statement always yields the same columns, so this is worked out once per statement, shape and given."""
    key = (shape, tuple(row.keys()), frozenset(given))
    plan = _PLANS.get(key)
    if plan is None:
        present = set(key[1])
        plan = _PLANS[key] = tuple(name for name in fields_of(shape) if name in present and name not in given)
    return plan


def typed_row(shape: type[T], row: Mapping[str, Any], **given: Any) -> T:
    """`row` as `shape`: each field from the column of its name (absent: its default), except the `given` ones."""
    return shape(**{name: row[name] for name in _taken(shape, row, given)}, **given)


def typed_row_or_none(shape: type[T], row: Mapping[str, Any] | None, **given: Any) -> T | None:
    return None if row is None else typed_row(shape, row, **given)


def typed_rows(shape: type[T], rows: Iterable[Mapping[str, Any]]) -> list[T]:
    """Every row as `shape`; the rows of one statement share their columns, so the fields are found once."""
    found: list[T] = []
    taken: tuple[str, ...] | None = None
    for row in rows:
        taken = taken if taken is not None else _taken(shape, row, {})
        found.append(shape(**{name: row[name] for name in taken}))
    return found
