"""core/rows.py: the one row → typed value mapping the domains' queries use."""

from __future__ import annotations

import dataclasses

import msgspec
import pytest

from backend.core.rows import typed_row, typed_row_or_none, typed_rows


class _Struct(msgspec.Struct):
    id: int
    name: str


@dataclasses.dataclass
class _Data:
    id: int
    name: str


@pytest.mark.parametrize("shape", [_Struct, _Data])
def test_a_row_maps_by_field_name_and_ignores_other_columns(shape: type[_Struct] | type[_Data]) -> None:
    row = {"name": "x", "id": 1, "patient_id": "not a field"}
    assert typed_row(shape, row) == shape(id=1, name="x")
    assert typed_rows(shape, [row, {**row, "id": 2}]) == [shape(id=1, name="x"), shape(id=2, name="x")]
    assert typed_row_or_none(shape, None) is None


class _WithDefault(msgspec.Struct):
    id: int
    shown: bool = True


def test_given_values_replace_columns_and_an_absent_column_keeps_the_default() -> None:
    assert typed_row(_Struct, {"id": 1, "name": "raw"}, name="given") == _Struct(id=1, name="given")
    assert typed_rows(_WithDefault, [{"id": 1}]) == [_WithDefault(id=1, shown=True)]
    with pytest.raises(TypeError):  # a field with no default and no column is the statement's mistake
        typed_row(_Struct, {"id": 1})


def test_only_structs_and_dataclasses_are_shapes() -> None:
    with pytest.raises(TypeError):
        typed_row(dict, {"id": 1})
