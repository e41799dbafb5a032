"""The Book interface every reader gives (OoxmlBook, BiffBook) and what it returns: raw
cells (:class:`RawCell`), sheets (:class:`SheetInfo`), the last scan's figures
(:class:`ScanStats`).  Classifying values is toolkit.reading.values' job."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Iterable

_EPOCH_1900 = datetime(1899, 12, 30)
_EPOCH_1904 = datetime(1904, 1, 1)
_MAX_SERIAL = 2_958_465  # 9999-12-31


@dataclass(frozen=True)
class RawCell:
    """One cell, as stored.

    value       str | int | float | bool | datetime | None.  Shared and inline strings
                resolved (rich text runs concatenated, phonetic runs left out).  A number
                is an int when its stored text is an integer ("5"), else a float
                ("5.0", "1E3").  Formula cells: the cached value, None when none was stored.
                Error cells: None (see ``error``).  ``t="d"`` (ISO date) cells: a datetime.
    formula     formula text without the leading '=', else None.  Dependents of a
                shared formula get the master's formula moved to their own cell.
    has_cache   formula cells: a cached value (or cached error) was stored.
    error       '#REF!', '#DIV/0!' … when the cell or its cached formula value is an error.
    is_date     a number under a date/time number format (value stays the raw serial, see
                :meth:`as_datetime`), or an ISO date cell.
    date1904    the workbook counts dates from 1904 (for :meth:`as_datetime`).
    """

    value: object
    formula: str | None = None
    has_cache: bool = False
    error: str | None = None
    is_date: bool = False
    date1904: bool = False

    def as_datetime(self) -> datetime | None:
        """The date a date cell shows; None when the cell holds no date serial."""
        v = self.value
        if isinstance(v, datetime):
            return v
        if not self.is_date or isinstance(v, bool) or not isinstance(v, (int, float)):
            return None
        if not 0 <= v <= _MAX_SERIAL:
            return None
        if self.date1904:
            return _EPOCH_1904 + timedelta(days=v)
        if v < 60:  # Excel's phantom 1900-02-29 sits at serial 60
            return _EPOCH_1900 + timedelta(days=v + 1)
        if v < 61:
            return datetime(1900, 2, 28) + timedelta(days=v - int(v))
        return _EPOCH_1900 + timedelta(days=v)


_new = object.__new__


def _raw_cell(value, formula, has_cache, error, is_date, date1904) -> RawCell:
    """RawCell(...) at a third of the cost (a frozen dataclass's __init__ goes through
    object.__setattr__ per field; readers build hundreds of cells per file)."""
    cell = _new(RawCell)
    d = cell.__dict__
    d["value"] = value
    d["formula"] = formula
    d["has_cache"] = has_cache
    d["error"] = error
    d["is_date"] = is_date
    d["date1904"] = date1904
    return cell


class SheetInfo:
    """One sheet: name, state ('visible' | 'hidden' | 'veryHidden'), protected
    (<sheetProtection sheet="1">; BIFF: not read, always False), kind ('worksheet' |
    'chartsheet' | 'dialogsheet' | 'macrosheet').  Immutable, compared by value.

    ``protected`` may be given as a function, called once when first asked: in an .xlsx
    it sits after the sheet's cells, and most readers never ask."""

    __slots__ = ("name", "state", "kind", "_protected")

    def __init__(self, name: str, state: str = "visible", protected: "bool | Callable[[], bool]" = False,
                 kind: str = "worksheet"):
        set_ = object.__setattr__
        set_(self, "name", name)
        set_(self, "state", state)
        set_(self, "kind", kind)
        set_(self, "_protected", protected)

    @property
    def protected(self) -> bool:
        p = self._protected
        if not isinstance(p, bool):
            p = bool(p())
            object.__setattr__(self, "_protected", p)
        return p

    def __setattr__(self, name, value):
        raise AttributeError(f"SheetInfo is immutable: cannot set {name!r}")

    def _key(self) -> tuple:
        return self.name, self.state, self.protected, self.kind

    def __reduce__(self):
        return SheetInfo, self._key()

    def __eq__(self, other) -> bool:
        if other.__class__ is not SheetInfo:
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (f"SheetInfo(name={self.name!r}, state={self.state!r}, protected={self.protected!r}, "
                f"kind={self.kind!r})")


@dataclass
class ScanStats:
    """What the last sheet scan did (for tests and benchmarks)."""

    sheet: str
    rows_seen: int = 0  # <row> elements started (including the one that stopped the scan)
    cells_seen: int = 0  # <c> elements passed
    bytes_inflated: int = 0  # XML bytes inflated for this scan
    stopped_early: bool = False  # the scan stopped before the end of the sheet data


class Book:
    """Base class of OoxmlBook and BiffBook.

    path, kind ('xlsx' | 'xlsm' | 'xls'), sheets (in workbook order), defined_names
    (lower-cased workbook-scoped name -> (sheet name, 'B4' or 'B4:D4', no $); names whose
    target is #REF!, another workbook, a formula, several areas or a missing sheet are
    left out and listed in broken_names), local_names (sheet name -> lower-cased name ->
    the same), custom_properties (docProps/custom.xml, values as text),
    workbook_protected (<workbookProtection lockStructure="1">), date1904.
    """

    path: Path
    kind: str
    defined_names: dict[str, tuple[str, str]]
    local_names: dict[str, dict[str, tuple[str, str]]]
    broken_names: list[str]
    custom_properties: dict[str, str]
    workbook_protected: bool
    date1904: bool = False
    last_scan: ScanStats | None = None

    @property
    def sheets(self) -> list[SheetInfo]:
        raise NotImplementedError

    @property
    def sheet_names(self) -> list[str]:
        return [s.name for s in self.sheets]

    def read_cells(self, sheet: str, refs: Iterable[str]) -> dict[str, RawCell]:
        """The cells at ``refs`` ('B4', '$B$4'; a range 'B4:D4' reads its top-left cell),
        keyed by the ref as given.  Empty or absent cells are left out.  Parsing stops
        as soon as the last row asked for has passed."""
        raise NotImplementedError

    def read_grid(self, sheet: str, max_rows: int = 300, max_cols: int = 40
                  ) -> dict[tuple[int, int], RawCell]:
        """Every non-empty cell in rows 1..max_rows, columns 1..max_cols, keyed by 1-based
        (row, col).  Parsing stops after row ``max_rows``."""
        raise NotImplementedError

    def merged_ranges(self, sheet: str) -> list[str]:
        """Merged areas of ``sheet`` as 'A1:D1' refs, in file order."""
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
