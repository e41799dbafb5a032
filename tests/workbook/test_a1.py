"""toolkit.common.a1: our one A1-reference helper, checked against openpyxl's own."""

from __future__ import annotations

import pytest
from openpyxl.utils.cell import (
    column_index_from_string,
    get_column_letter,
    range_boundaries,
)

from toolkit.common.a1 import (
    col_letter,
    col_number,
    parse_range,
    parse_ref,
    range_of,
    ref_of,
)


def test_columns_round_trip_over_the_whole_grid():
    for col in range(1, 16_385):
        letters = col_letter(col)
        assert letters == get_column_letter(col)
        assert col_number(letters) == col == column_index_from_string(letters)
        assert col_number(letters.lower() + "7") == col
        assert col_number(f"${letters}$7") == col


@pytest.mark.parametrize("ref, pos", [
    ("B4", (4, 2)), ("$b$4", (4, 2)), (" B4 ", (4, 2)), ("B4:D4", (4, 2)), ("XFD1048576", (1_048_576, 16_384)),
])
def test_parse_ref(ref, pos):
    assert parse_ref(ref) == pos


@pytest.mark.parametrize("ref", ["", "B", "4", "B0", "XFE1", "A1048577", "ABCD1", "B４", "B-4", "1B"])
def test_parse_ref_refuses_what_is_no_cell(ref):
    with pytest.raises(ValueError):
        parse_ref(ref)


@pytest.mark.parametrize("ref", ["B4", "B4:D6", "A1:XFD1048576", "C3:C3"])
def test_ranges_as_openpyxl_sees_them(ref):
    min_col, min_row, max_col, max_row = range_boundaries(ref)
    assert parse_range(ref) == (min_row, min_col, max_row, max_col)


def test_range_corners_in_any_order_and_back():
    assert parse_range("D6:B4") == (4, 2, 6, 4)
    assert range_of(4, 2, 6, 4) == "B4:D6"
    assert range_of(4, 2, 4, 2) == "B4"
    assert range_of(4, 2, 6, 4, absolute=True) == "$B$4:$D$6"
    assert ref_of(7, 28) == "AB7" and ref_of(7, 28, absolute=True) == "$AB$7"
