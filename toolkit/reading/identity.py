"""Which national format a return is in.

The evidence, strongest first: the template stamp (format id, with the fingerprint of the
layout it was made from), the formats in force in the year typed in the agency block (or
stamped), the figure names the workbook holds, the format's labels.  Names and labels
still decide when they fit one format better than another — a return whose tables are the
2019 format is read as that, whatever its stamp says (F9 then tells the agency).  The
stamp and the year put the formats in order of preference, and a tie of names or labels
goes to the preferred format: a later format that keeps an earlier one's keys and labels
takes only the returns that say they are its own, never an older return because it is
the newest.
"""

from __future__ import annotations

from functools import cache

from toolkit.formats import spec, stamp
from toolkit.reading import agency_block, locate
from toolkit.reading.agency_block import parse_year
from toolkit.workbook.model import Book

NAMES_THRESHOLD = 0.5  # fit of a format's figure names that makes it "our template"


def read_stamp(book: Book) -> dict:
    """The template stamp: custom properties, else the very hidden ``_meta`` sheet."""

    def rows():
        if not any(s.name == stamp.SHEET for s in book.sheets):
            return ()
        cells = book.read_cells(stamp.SHEET, list(stamp.SHEET_REFS))
        value = lambda ref: cells[ref].value if ref in cells else None  # noqa: E731
        return [(value(f"A{r}"), value(f"B{r}")) for r in range(1, len(stamp.SHEET_KEYS) + 1)]

    return stamp.read(book.custom_properties, rows)


def preference(meta: dict, year: int | None, expect: spec.Format | None = None) -> list[spec.Format]:
    """Every format, in the order a tie between them is broken: the stamped format (its
    fingerprint matching first), the format ``check --format`` asks for, the formats
    covering ``year`` (the one in force that year first), then the rest as listed."""
    stamped = spec.formats().get(meta.get("format"))

    def rank(fmt: spec.Format) -> tuple:
        if fmt is stamped:
            return (0 if meta.get("fingerprint") == fmt.fingerprint else 1,)
        if fmt is expect:
            return (2,)
        if year is not None and fmt.covers(year):
            return (3, -fmt.years[0])
        return (4,)

    return sorted(spec.formats().values(), key=rank)


def year_hint(book: Book, meta: dict) -> int | None:
    """The year typed into the agency block's named year cell, else the stamped year.
    Every named agency-block cell is read at once: the reader reads them again later, and
    the sheet is then scanned once."""
    sheets = {s.name for s in book.sheets}
    wanted: dict[str, list[str]] = {}
    years = []
    for name, is_year in _info_names():
        target = book.defined_names.get(name)
        if target and target[0] in sheets:
            ref = target[1].split(":")[0]
            wanted.setdefault(target[0], []).append(ref)
            if is_year:
                years.append((target[0], ref))
    cells = {sheet: book.read_cells(sheet, refs) for sheet, refs in wanted.items()}
    for sheet, ref in years:
        cell = cells[sheet].get(ref)
        year = parse_year(cell.value if cell is not None else None)
        if year is not None:
            return year
    return parse_year(meta.get("year"))


def year_by_labels(grids) -> int | None:
    """The year typed beside the agency block's 年度 label (a workbook without names)."""
    for fmt in spec.formats().values():
        year = parse_year(agency_block.by_labels(grids, fmt).get("year"))
        if year is not None:
            return year
    return None


def _info_names() -> tuple[tuple[str, bool], ...]:
    return _info_names_of(tuple(spec.formats()))


@cache
def _info_names_of(format_ids: tuple[str, ...]) -> tuple[tuple[str, bool], ...]:
    """(defined name, is the year) of every agency-block field of these formats, once."""
    names: dict[str, bool] = {}
    for fmt in map(spec.get, format_ids):
        for f in fmt.info.fields:
            names.setdefault(f.name.lower(), f.kind == "year")
    return tuple(names.items())


def by_names(book: Book, order: list[spec.Format]) -> tuple[spec.Format | None, dict[str, tuple[str, str]]]:
    """The format whose figure names the workbook holds best, with the places they name.

    Fit = names of the format held / (its names + figure names of other formats held), so
    names only another format has count against it; a tie goes to the first in ``order``."""
    held = book.defined_names.keys()
    known = _all_figure_names(tuple(spec.formats()))
    foreign_held = held & known
    best, best_fit = None, 0.0
    for fmt in order:
        mine = held & fmt.figures_by_name.keys()
        fit = len(mine) / (len(fmt.figures) + len(foreign_held - mine))
        if fit > best_fit:
            best, best_fit = fmt, fit
    if best is None or best_fit < NAMES_THRESHOLD:
        return None, {}
    sheets = {s.name for s in book.sheets}
    places = {}
    names = book.defined_names
    for key, name in _lowered(best.id):
        target = names.get(name)
        if target and target[0] in sheets:
            places[key] = (target[0], target[1].split(":")[0])
    return best, places


@cache
def _lowered(format_id: str) -> tuple[tuple[str, str], ...]:
    """(figure key, defined name as the workbook's names are keyed: lower case)."""
    return tuple((f.key, f.name.lower()) for f in spec.get(format_id).figures.values())


@cache
def _all_figure_names(format_ids: tuple[str, ...]) -> frozenset[str]:
    return frozenset(name for fid in format_ids for name in spec.get(fid).figures_by_name)


def by_labels(grids, order: list[spec.Format]) -> spec.Format | None:
    """The format whose labels fit these sheets best; a tie goes to the first in ``order``."""
    return locate.detect_format(grids, order)[0]
