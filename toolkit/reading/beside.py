"""Whether a return's named cells still sit beside their labels: names follow rows and
columns that Excel or WPS insert or delete, but not every tool updates them (openpyxl
does not; a sheet rebuilt by copy and paste neither), and then they point at the wrong
cells, silently.  A cheap test, run on every file (reader.py decides what follows)."""

from __future__ import annotations

from difflib import SequenceMatcher
from functools import cache

from toolkit.common.a1 import parse_ref, ref_of
from toolkit.formats import spec
from toolkit.reading import locate
from toolkit.workbook.model import Book

LABEL_REACH = 40  # cells searched left of (rows) and above (columns) a named cell


@cache
def _tables(format_id: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(part key, figure keys in row-major order) of every table of a format."""
    fmt = spec.get(format_id)
    return tuple((part.key, tuple(k for row in table.keys(part.key) for k in row))
                 for part in fmt.parts for table in part.tables)


@cache
def _probe(format_id: str, key: str, sheet: str, ref: str) -> tuple[tuple[str, str, tuple[str, ...], str], ...]:
    """Where the labels of the figure ``key`` named at sheet!ref should be: (sheet, label,
    cells to search, 中文 where).  Cached: a batch's returns share their names."""
    f = spec.get(format_id).figures[key]
    try:
        row, col = parse_ref(ref)
    except ValueError:
        return ()
    out = []
    if f.row_label.text:
        out.append((sheet, f.row_label.text,
                    tuple(ref_of(row, c) for c in range(max(1, col - LABEL_REACH), col)), "所在行"))
    out.append((sheet, f.column_label.text,
                tuple(ref_of(r, col) for r in range(max(1, row - LABEL_REACH), row)), "上方"))
    return tuple(out)


def names_off_labels(book: Book, fmt: spec.Format, places: dict[str, tuple[str, str]]
                      ) -> tuple[dict[str, tuple[str, str, str]], dict[str, dict] | None]:
    """Parts whose named cells do not sit beside their labels: part key -> (sheet, cell,
    中文 detail) of the first misfit; with the cells read (sheet -> A1 -> cell), the named
    ones among them, for _read_values.

    Names follow rows and columns that Excel or WPS insert or delete, but not every tool
    updates them (openpyxl does not; a sheet rebuilt by copy and paste neither), and then
    they point at the wrong cells, silently.  Cheap test, run on every file: in each
    table, the first and the last named figure must have their row label somewhere left
    of them in their row and their column label somewhere above them in their column.
    The cells read here are those the figures are read from anyway (one scan per sheet)."""
    probes = []  # (part key, named ref, sheet, label, refs, where)
    for part_key, keys in _tables(fmt.id):
        first = next((k for k in keys if k in places), None)
        if first is None:
            continue
        last = next(k for k in reversed(keys) if k in places)
        for key in (first, last) if last != first else (first,):
            sheet, ref = places[key]
            probes.extend((part_key, ref, *p) for p in _probe(fmt.id, key, sheet, ref))
    if not probes:
        return {}, None
    wanted: dict[str, list[str]] = {}
    for sheet, ref in places.values():
        wanted.setdefault(sheet, []).append(ref)  # read with the labels: one scan, memoised
    for _part, _ref, sheet, _label, refs, _where in probes:
        wanted.setdefault(sheet, []).extend(refs)
    sheets = {s.name for s in book.sheets}
    cells = {sheet: book.read_cells(sheet, refs) for sheet, refs in wanted.items() if sheet in sheets}
    doubtful: dict[str, tuple[str, str, str]] = {}
    for part_key, ref, sheet, label, refs, where in probes:
        if part_key in doubtful:
            continue
        near = cells.get(sheet, {})
        texts = [c.value for c in map(near.get, refs) if c is not None and isinstance(c.value, str)]
        if label not in texts and not _has_label(texts, label):
            doubtful[part_key] = (sheet, ref, (
                f"第{fmt.part(part_key).number}部分的定义名称指向 {ref}，但它{where}没有表格标签“{label}”"))
    return doubtful, cells


def _has_label(texts: list[str], label: str) -> bool:
    """The label among these texts, as locate.py compares labels (normalised, or similar)."""
    want = locate.normalize_label(label)
    norms = [locate.normalize_label(t) for t in texts]
    if want in norms:
        return True
    if len(want) < locate.FUZZY_MIN_LEN:
        return False
    matcher = SequenceMatcher(autojunk=False)
    matcher.set_seq2(want)
    for norm in norms:
        matcher.set_seq1(norm)
        if matcher.real_quick_ratio() >= locate.FUZZY_MIN and matcher.ratio() >= locate.FUZZY_MIN:
            return True
    return False
