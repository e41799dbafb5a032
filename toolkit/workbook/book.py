"""Opening a returned file: ``open_book(path)`` decides what the file is by its content
(toolkit.workbook.sniff), never by its extension, vets the whole file against the limits
(toolkit.workbook.gate) and returns an :class:`OoxmlBook` (.xlsx/.xlsm,
toolkit.workbook.ooxml) or a :class:`BiffBook` (.xls/.et, toolkit.workbook.biff) behind
one interface (toolkit.workbook.model).  Every file that cannot be read as a workbook
raises :class:`Unreadable` with a verdict code (F1–F8) and a 中文 detail; no other
exception escapes for a bad file.  ``vet(path)`` is the same gate for the other readers
of a returned file (openpyxl).
"""

from __future__ import annotations

from pathlib import Path

from toolkit.workbook import sniff
from toolkit.workbook.biff import BiffBook
from toolkit.workbook.limits import Limits, Unreadable
from toolkit.workbook.model import Book, RawCell, ScanStats, SheetInfo
from toolkit.workbook.ooxml.workbook import OoxmlBook

__all__ = ["RawCell", "SheetInfo", "ScanStats", "Book", "open_book", "vet", "Unreadable", "Limits"]


# ------------------------------------------------------------------ opening


def open_book(path: str | Path, limits: Limits | None = None) -> Book:
    """Open a returned workbook, deciding by content what it is.

    Raises Unreadable (F1 empty, F2 not a workbook, F3 corrupt, F4 encrypted, F5 other
    OLE2 file, F6 over a limit, F7 unsafe XML) for every file that cannot be read; an
    OSError (file missing, no permission) propagates."""
    limits = limits or Limits()
    path = Path(path)
    deadline = limits.deadline()
    family = sniff.family(path, limits)
    with sniff.guard(path.name):
        if family == "zip":
            return OoxmlBook(path, limits, deadline)
        return BiffBook(path, limits, deadline, family)


def vet(path: str | Path, limits: Limits | None = None) -> str:
    """The gate for every other reader of a returned file (openpyxl in annotate, the
    roster, the template stamp): the file is opened as check opens it, so its content, size,
    every zip member's declared size and ratio, their total and the sheet entries are
    within ``limits`` (toolkit.workbook.gate), and closed again.  Returns its kind
    ('xlsx', 'xlsm', 'xls'); raises Unreadable as open_book does."""
    with open_book(path, limits) as book:
        return book.kind
