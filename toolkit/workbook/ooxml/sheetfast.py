"""One-pass index of a small sheet: every cell taken out with regexes after the bare expat
check, raw until asked for.  Any assumption that fails raises _Fallback (streaming path)."""

from __future__ import annotations

import re

from toolkit.common.a1 import col_number, parse_ref
from toolkit.workbook.ooxml.onepass import (
    _A,
    _attr_map,
    _Fallback,
    _plain,
    _tag_starts,
    _xml_text,
)

_SD_START = re.compile(rb"<sheetData\s*(/?)>")
_SD_END = re.compile(rb"</sheetData\s*>")
_ROW_OR_CELL = re.compile(rb"<(?:[^\s/<>:]+:)?(?:row|c)[\s/>]")
_PREFIXED_ROW_OR_CELL = re.compile(rb"<[^\s/<>:]+:(?:row|c)[\s/>]")
_INNER = rb"(?:[^<]++|<(?!/?c[\s/>]))*+"
# One token per <row> start tag and per <c> element.  Groups: 1 row number (common form),
# 2-3 any other row; 4-7 a cell in the common form (letters, s, t, a non-empty <v>);
# 8-10 any other cell (attributes, content).
_SD_TOKEN = re.compile(
    rb"<(?:"
    rb'row r="([0-9]{1,7})"' + _A + rb"\s*+/?>"
    rb"|(row)(" + _A + rb")\s*+/?>"
    rb'|c r="([A-Z]{1,3})[0-9]{1,7}"(?: s="([0-9]{1,9})")?(?: t="([a-zA-Z]{1,9})")?'
    rb"(?:/>|>(?:<v>([^<]++)</v>)?</c>)"
    rb"|(c)(" + _A + rb")\s*+(?:/>|>(" + _INNER + rb")</c\s*+>))")
_INNER_TOKEN = re.compile(rb"<(/?)([^\s/<>]+)(" + _A + rb")\s*+(/?)>|([^<]+)")
_COLS_B: dict[bytes, int] = {}


def _index_sheet(data: bytes, where: str, max_rows: int, max_cells: int
                 ) -> tuple[dict[tuple[int, int], tuple | list], int, int, int]:
    """Every non-empty cell of a small sheet, in file order, raw: (t, s, v) bytes for the
    common form, else [col, t, s, v parts, f parts, f attrs, inline parts, shared-formula
    master] as the streaming handlers collect them; with the row and cell counts and where
    sheetData ends.  Raises _Fallback when the one-pass assumptions fail."""
    i = data.find(b"sheetData")
    m = _SD_START.match(data, i - 1) if i > 0 else None
    if m is None or _ROW_OR_CELL.search(data, 0, i):
        raise _Fallback
    if m.group(1):
        _plain(data, where, m.end())
        return {}, 0, 0, m.end()
    a = m.end()
    e = _SD_END.search(data, a)
    if e is None:
        raise _Fallback
    b = e.start()
    _plain(data, where, e.end())  # up to the end of sheetData, where the streaming scan stops
    if (data.find(b":c", a, b) >= 0 or data.find(b":row", a, b) >= 0) and _PREFIXED_ROW_OR_CELL.search(data, a, b):
        raise _Fallback
    tokens = _SD_TOKEN.findall(data, a, b)
    if len(tokens) > max_cells:
        raise _Fallback  # the limits: the streaming path's verdicts
    found: dict[tuple[int, int], tuple | list] = {}
    masters: dict[str, tuple[int, int, str]] = {}
    row = rows = 0
    col: int | None = 0
    cols_b = _COLS_B
    for rr, grow, row_attrs, letters, s, t, v, gc, attrs, inner in tokens:
        if letters:
            if v:
                col = cols_b.get(letters)
                if col is None:
                    col = col_number(letters.decode("ascii"))
                    if len(cols_b) < 100_000:
                        cols_b[letters] = col
                found[(row, col)] = (t, s, v)
            else:
                col = None  # column known only by letters (not needed unless a cell lacks r=)
            continue
        if rr:
            row, col = int(rr), 0
            rows += 1
            continue
        if grow:
            r = _attr_map(row_attrs).get("r")
            row, col = (int(r) if r else row + 1), 0
            rows += 1
            continue
        am = _attr_map(attrs)
        r = am.get("r")
        if r:
            col = col_number(r)
        elif col is None:
            raise _Fallback
        else:
            col += 1
        if inner:
            cell = [col, am.get("t"), am.get("s"), None, None, None, None, None]
            _inner_cell(inner, cell, masters)
            found[(row, col)] = cell
    n_cells = len(tokens) - rows
    if (rows > max_rows or n_cells > max_cells or rows != _tag_starts(data, a, b, b"<row", rows)
            or n_cells != _tag_starts(data, a, b, b"<c", n_cells)):
        raise _Fallback  # every <row> and <c> must be a token; limits: the streaming path's verdicts
    return found, rows, n_cells, e.end()


def _inner_cell(inner: bytes, cell: list, masters: dict) -> None:
    """The children of one <c> (f, v, is/t runs), as the streaming handlers collect them."""
    target: list | None = None
    in_is = False
    rph = 0
    for close, name, attrs, empty, text in _INNER_TOKEN.findall(inner):
        if text:
            if target is not None:
                target.append(_xml_text(text))
            continue
        loc = name.rpartition(b":")[2]
        if not close:
            if loc == b"v":
                target = cell[3] = []
            elif loc == b"f":
                target = cell[4] = []
                cell[5] = _attr_map(attrs)
            elif loc == b"is":
                in_is = True
                cell[6] = []
            elif loc == b"t":
                if in_is and not rph:
                    target = cell[6]
            elif loc == b"rPh":
                rph += 1
            if not empty:
                continue
        if loc == b"v" or loc == b"t" or loc == b"f":
            target = None
        elif loc == b"is":
            in_is = False
        elif loc == b"rPh":
            rph -= 1
    fattrs = cell[5]
    if fattrs is not None and fattrs.get("t") == "shared":
        # Masters in file order, as the streaming scan meets them.
        si = fattrs.get("si", "")
        if not "".join(cell[4]):
            cell[7] = masters.get(si)
        elif "ref" in fattrs:
            try:
                r, c = parse_ref(fattrs["ref"])
                masters[si] = (r, c, "".join(cell[4]))
            except ValueError:
                pass
