""".xls / .et (BIFF, usually inside an OLE2 file) through xlrd, behind the Book interface.

What BIFF through xlrd cannot give, and what is returned instead:
- formulas: xlrd reads the cached results only, so a formula cell looks like a plain
  value (formula None, has_cache False);
- sheet protection and workbook protection: not read (False);
- custom document properties: not read ({}); the reader identifies such files by their
  labels;
- numbers: BIFF stores doubles; an integral one is returned as int (as a typed "5" in
  .xlsx would be).
Defined names are read when they point at one area of one sheet.  xlrd reads a whole
file at once and cannot be interrupted; its cost is bounded by Limits.max_file_mb.
"""

from __future__ import annotations

import io
from pathlib import Path

from toolkit.common.a1 import parse_ref, range_of, ref_of
from toolkit.workbook import sniff
from toolkit.workbook.gate import vet_sheet_count
from toolkit.workbook.limits import Deadline, Limits, Unreadable
from toolkit.workbook.model import Book, RawCell, SheetInfo, _raw_cell

_STATES = {0: "visible", 1: "hidden", 2: "veryHidden"}


class BiffBook(Book):
    def __init__(self, path: Path, limits: Limits, deadline: Deadline, family: str = "biff"):
        import xlrd

        self.path, self.limits, self.deadline = path, limits, deadline
        self.kind = "xls"
        self.last_scan = None
        self.custom_properties = {}
        self.workbook_protected = False
        log = io.StringIO()  # xlrd writes warnings to a log file; keep them off stdout
        try:
            with sniff.guard():
                self._bk = xlrd.open_workbook(file_contents=path.read_bytes(), on_demand=True,
                                              formatting_info=True, logfile=log)
        except Unreadable as exc:
            if "encrypted" in str(exc.__cause__ or "").lower():
                raise Unreadable("F4", "加密的 Excel 97-2003 工作簿") from exc
            raise
        deadline.check()
        bk = self._bk
        self.date1904 = bk.datemode == 1
        visibility = getattr(bk, "_sheet_visibility", None) or []
        names = bk.sheet_names()
        vet_sheet_count(len(names), limits)
        self._sheets = [SheetInfo(n, _STATES.get(visibility[i] if i < len(visibility) else 0, "visible"))
                        for i, n in enumerate(names)]
        self.defined_names, self.local_names, self.broken_names = {}, {}, []
        with sniff.guard("定义名称"):
            for nobj in bk.name_obj_list:
                self._name(nobj, names)

    def _name(self, nobj, sheet_names: list[str]) -> None:
        name = nobj.name
        if nobj.builtin or name.lower().startswith("_xlnm."):
            return
        target = None
        res = nobj.result
        # A constant absolute reference to one area of one sheet (xlrd's Name.area2d,
        # without loading the sheet).
        from xlrd.formula import oREF

        if res is not None and res.kind == oREF and len(res.value) == 1:
            r = res.value[0]
            if 0 <= r.shtxlo == r.shtxhi - 1 < len(sheet_names) and r.rowxhi > r.rowxlo and r.colxhi > r.colxlo:
                target = (sheet_names[r.shtxlo], range_of(r.rowxlo + 1, r.colxlo + 1, r.rowxhi, r.colxhi))
        if target is None:
            self.broken_names.append(name)
            return
        if nobj.scope == -1:
            self.defined_names.setdefault(name.lower(), target)
        elif 0 <= nobj.scope < len(sheet_names):
            self.local_names.setdefault(sheet_names[nobj.scope], {}).setdefault(name.lower(), target)

    @property
    def sheets(self) -> list[SheetInfo]:
        return list(self._sheets)

    def _sheet(self, name: str):
        if name not in self._bk.sheet_names():
            raise KeyError(f"工作簿中没有工作表“{name}”")
        self.deadline.check()
        with sniff.guard(f"工作表“{name}”"):
            return self._bk.sheet_by_name(name)

    def _cell(self, sh, r: int, c: int) -> RawCell | None:
        """xlrd cell (0-based) -> RawCell; None for an empty or blank cell."""
        import xlrd

        if r >= sh.nrows or c >= sh.row_len(r):
            return None
        ctype = sh.cell_type(r, c)
        value = sh.cell_value(r, c)
        if ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
            return None
        if ctype == xlrd.XL_CELL_TEXT:
            return _raw_cell(value, None, False, None, False, self.date1904)
        if ctype in (xlrd.XL_CELL_NUMBER, xlrd.XL_CELL_DATE):
            if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
                value = int(value)
            return _raw_cell(value, None, False, None, ctype == xlrd.XL_CELL_DATE, self.date1904)
        if ctype == xlrd.XL_CELL_BOOLEAN:
            return _raw_cell(bool(value), None, False, None, False, self.date1904)
        if ctype == xlrd.XL_CELL_ERROR:
            return _raw_cell(None, None, False, xlrd.error_text_from_code.get(value, "#N/A"), False, self.date1904)
        return None

    def read_cells(self, sheet: str, refs) -> dict[str, RawCell]:
        sh = self._sheet(sheet)
        out = {}
        for ref in refs:
            r, c = parse_ref(ref)
            cell = self._cell(sh, r - 1, c - 1)
            if cell is not None:
                out[ref] = cell
        return out

    def read_grid(self, sheet: str, max_rows: int = 300, max_cols: int = 40) -> dict[tuple[int, int], RawCell]:
        sh = self._sheet(sheet)
        out = {}
        for r in range(min(sh.nrows, max_rows)):
            for c in range(min(sh.row_len(r), max_cols)):
                cell = self._cell(sh, r, c)
                if cell is not None:
                    out[(r + 1, c + 1)] = cell
        return out

    def merged_ranges(self, sheet: str) -> list[str]:
        sh = self._sheet(sheet)
        out = []
        for rlo, rhi, clo, chi in sh.merged_cells:
            if rhi > rlo and chi > clo:
                out.append(f"{ref_of(rlo + 1, clo + 1)}:{ref_of(rhi, chi)}")  # a 1x1 merge stays a range
        return out

    def close(self) -> None:
        bk = getattr(self, "_bk", None)
        if bk is not None:
            bk.release_resources()
