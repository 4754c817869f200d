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


def fields_of(shape: type[Any]) -> tuple[str, ...]:
    if issubclass(shape, msgspec.Struct):
        return shape.__struct_fields__
    if dataclasses.is_dataclass(shape):
        return tuple(field.name for field in dataclasses.fields(shape))
    raise TypeError(f"{shape.__name__} is neither a msgspec Struct nor a dataclass")


def _taken(shape: type[Any], row: Mapping[str, Any], given: Mapping[str, Any]) -> list[str]:
    """The fields read from the row: those it has a column for (the others keep their defaults), not given."""
    columns = set(row.keys())
    return [name for name in fields_of(shape) if name in columns and name not in given]


def typed_row(shape: type[T], row: Mapping[str, Any], **given: Any) -> T:
    """`row` as `shape`: each field from the column of its name (absent: its default), except the `given` ones."""
    return shape(**{name: row[name] for name in _taken(shape, row, given)}, **given)


def typed_row_or_none(shape: type[T], row: Mapping[str, Any] | None, **given: Any) -> T | None:
    return None if row is None else typed_row(shape, row, **given)


def typed_rows(shape: type[T], rows: Iterable[Mapping[str, Any]]) -> list[T]:
    """Every row as `shape`; the rows of one statement share their columns, so the fields are found once."""
    found: list[T] = []
    taken: list[str] | None = None
    for row in rows:
        taken = taken if taken is not None else _taken(shape, row, {})
        found.append(shape(**{name: row[name] for name in taken}))
    return found
