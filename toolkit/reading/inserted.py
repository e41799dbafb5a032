"""Rows or columns inserted inside a table of the template, the names moving with them
(Excel and WPS move names when a row is inserted): every figure is still read from its
own cell, but whatever was typed into the inserted cells belongs to no figure and would
be dropped without a word.  Said once per gap (S2), with what was typed there.

Rows inserted above or below a table, or between tables, change no table: not said."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise

from toolkit.common.a1 import parse_ref, ref_of
from toolkit.formats import spec
from toolkit.formats.findings import Finding
from toolkit.workbook.model import Book

SHOWN = 3  # typed values quoted in the message


def inserted(book: Book, fmt: spec.Format, places: dict[str, tuple[str, str]]) -> list[Finding]:
    """S2 findings for the rows and columns inserted inside ``fmt``'s tables, given where
    the names put each figure (``places``: key -> (sheet, A1))."""
    out = []
    for part in fmt.parts:
        for table in part.tables:
            keys = table.keys(part.key)
            for axis, lines in (("行", keys), ("列", [list(col) for col in zip(*keys)])):
                for gap in _gaps(fmt, lines, places, by_row=axis == "行"):
                    out.append(_finding(book, part, axis, *gap))
    return out


def _gaps(fmt: spec.Format, lines: list[list[str]], places, *, by_row: bool) -> Iterator[tuple]:
    """(label before, label after, sheet, first new line, count, cells across) for each
    pair of neighbouring rows (columns) further apart than in the template."""
    index = 0 if by_row else 1
    for before, after in pairwise(lines):
        pair = next(((a, b) for a, b in zip(before, after) if a in places and b in places
                     and places[a][0] == places[b][0]), None)
        if pair is None:
            continue
        a, b = pair
        try:
            got = [parse_ref(places[k][1]) for k in (a, b)]
        except ValueError:
            continue
        fa, fb = fmt.figures[a], fmt.figures[b]
        want = (fb.area.min_row - fa.area.min_row) if by_row else (fb.area.min_col - fa.area.min_col)
        extra = got[1][index] - got[0][index] - want
        if extra <= 0:
            continue
        label = (lambda f: f.row_label.text) if by_row else (lambda f: f.column_label.text)
        # The new lines sit just before the second label's line; across them, the cells
        # of the figures of the line before (where a figure would have been typed).
        first = got[1][index] - extra
        across = sorted({parse_ref(places[k][1])[1 - index] for k in before if k in places
                         and places[k][0] == places[a][0]})
        yield label(fa), label(fb), places[a][0], first, extra, across


def _finding(book: Book, part: spec.Part, axis: str, before: str, after: str, sheet: str,
             first: int, count: int, across: list[int]) -> Finding:
    refs = [ref_of(n, c) if axis == "行" else ref_of(c, n) for n in range(first, first + count) for c in across]
    try:
        cells = book.read_cells(sheet, refs)
    except KeyError:
        cells = {}
    typed = [str(cell.value).strip() for ref in refs if (cell := cells.get(ref)) is not None
             and cell.value is not None and str(cell.value).strip()]
    where = ref_of(first, across[0]) if axis == "行" else ref_of(across[0], first)
    quoted = "、".join(f"“{t}”" for t in typed[:SHOWN]) + (" 等" if len(typed) > SHOWN else "")
    said = f"，其中填写的{quoted}不计入任何数字" if typed else ""
    return Finding.of("S2", sheet=sheet, cell=where, detail=(
        f"第{part.number}部分“{before}”与“{after}”两{axis}之间插入了 {count} {axis}{said}；"
        f"请删除插入的{axis}，按模板原样填写"))
