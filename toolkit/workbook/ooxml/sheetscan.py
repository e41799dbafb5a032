"""The streaming sheet scan (expat with handlers in Python, no tree): only the cells asked
for are kept, and the scan stops once the last row asked for has passed."""

from __future__ import annotations

from datetime import datetime
from typing import Callable, Container

from toolkit.common.a1 import col_number, parse_ref, ref_of
from toolkit.workbook import sniff
from toolkit.workbook.limits import Unreadable
from toolkit.workbook.model import RawCell, ScanStats, SheetInfo, _raw_cell
from toolkit.workbook.ooxml.numfmt import _number
from toolkit.workbook.ooxml.sheettail import _Tail
from toolkit.workbook.ooxml.xmlsafe import _LOCAL, _expat, _unescape

_PLACEHOLDER_FORMULA = "（共享公式）"  # a shared-formula dependent whose master is missing


class _Stop(Exception):
    """Raised by a sheet handler to stop the parse (early: the rows asked for are read)."""

    def __init__(self, early: bool):
        self.early = early


class _SheetPart:
    __slots__ = ("info", "part", "memo", "window", "tail", "index", "streamed")

    def __init__(self, info: SheetInfo, part: str | None):
        self.info, self.part = info, part
        self.memo: dict[tuple[int, int], RawCell | None] = {}  # cells read; None = empty
        self.window = (0, 0)  # rows x cols fully known from read_grid
        self.tail: _Tail | None = None
        # One-pass read (small sheets): every non-empty cell, raw until asked for, then
        # its RawCell (None: empty).  ``streamed``: the sheet must go the streaming way.
        self.index: dict[tuple[int, int], list | RawCell | None] | None = None
        self.streamed = part is None


class _SheetScan:
    """OoxmlBook's streaming sheet scan and cell building (a mixin: self is the OoxmlBook)."""

    def _scan(self, sp: _SheetPart, wanted: Callable[[int], Container[int] | None],
              last_row: int) -> dict[tuple[int, int], RawCell]:
        """Cells of the rows ``wanted(row)`` names (columns in the container it returns),
        stopping at the first row after ``last_row``."""
        name, part = sp.info.name, sp.part
        stats = self.last_scan = ScanStats(name)
        found: dict[tuple[int, int], RawCell] = {}
        max_rows = self.limits.max_rows
        masters: dict[str, tuple[int, int, str]] = {}
        row = col = rows = cells = 0
        want: Container[int] | None = None
        cell: list | None = None  # [col, t, s, v parts, f parts, f attrs, inline parts]
        target: list | None = None  # text being collected
        in_is = False
        rph = 0
        master: tuple[str, str, list] | None = None  # shared-formula master in a skipped cell

        def start(tag, attrs):
            nonlocal row, col, rows, cells, want, cell, target, in_is, rph, master
            loc = _LOCAL[tag]
            if loc == "c":
                cells += 1
                if want is not None:
                    r = attrs.get("r")
                    col = col_number(r) if r else col + 1
                    cell = [col, attrs.get("t"), attrs.get("s"), None, None, None, None] if col in want else None
            elif loc == "row":
                rows += 1
                r = attrs.get("r")
                row = int(r) if r else row + 1
                if row > last_row:
                    raise _Stop(True)
                if rows > max_rows:
                    raise Unreadable("F6", f"工作表“{name}”读取超过 {max_rows:,} 行（上限）")
                want = wanted(row)
                col = 0
                cell = None
            elif cell is not None:
                if loc == "v":
                    target = cell[3] = []
                elif loc == "f":
                    target = cell[4] = []
                    cell[5] = attrs
                elif loc == "is":
                    in_is = True
                    cell[6] = []
                elif loc == "t":
                    if in_is and not rph:
                        target = cell[6]
                elif loc == "rPh":
                    rph += 1
            elif loc == "f" and "ref" in attrs and attrs.get("t") == "shared":
                target = []
                master = (attrs.get("si", ""), attrs["ref"], target)

        date_by_style: dict[str, bool] = {}
        date1904 = self.date1904

        def end(tag):
            nonlocal cell, target, in_is, rph, master
            loc = _LOCAL[tag]
            if loc == "c":
                if cell is not None:
                    c, cell = cell, None
                    vparts = c[3]
                    # Fast path for the common case, a plain whole number.
                    if vparts and c[1] is None and c[4] is None and len(vparts) == 1:
                        v = vparts[0]
                        if v.isdigit() and v.isascii() and len(v) < 16:
                            s = c[2]
                            is_date = date_by_style.get(s) if s else False
                            if is_date is None:
                                is_date = date_by_style[s] = self._date_style(s)
                            if is_date is not None:
                                found[(row, c[0])] = _raw_cell(int(v), None, False, None, is_date, date1904)
                                return
                    made = self._cell(name, row, c, masters)
                    if made is not None:
                        found[(row, c[0])] = made
            elif loc == "v" or loc == "t":
                target = None
            elif loc == "f":
                target = None
                if master is not None:
                    try:
                        r, c = parse_ref(master[1])
                        masters[master[0]] = (r, c, "".join(master[2]))
                    except ValueError:
                        pass
                    master = None
            elif loc == "is":
                in_is = False
            elif loc == "rPh":
                rph -= 1
            elif loc == "sheetData":
                raise _Stop(False)

        def chars(data):
            if target is not None:
                target.append(data)

        shown = self._zip.shown(part)
        p = _expat(f"工作表“{name}”（{shown}）")
        p.StartElementHandler, p.EndElementHandler, p.CharacterDataHandler = start, end, chars
        chunks = self._zip.chunks(part)
        max_cells = self.limits.max_cells
        try:
            with sniff.guard(shown):
                try:
                    for chunk in chunks:
                        stats.bytes_inflated += len(chunk)
                        p.Parse(chunk, False)
                        if cells > max_cells:
                            raise Unreadable("F6", f"工作表“{name}”读取超过 {max_cells:,} 个单元格（上限）")
                    p.Parse(b"", True)
                except _Stop as stop:
                    stats.stopped_early = stop.early
        finally:
            chunks.close()
            stats.rows_seen, stats.cells_seen = rows, cells
        return found

    def _date_style(self, s: str) -> bool | None:
        """Whether cell style ``s`` shows dates; None when ``s`` is not a style index."""
        try:
            i = int(s)
        except ValueError:
            return None
        styles = self._date_styles
        return 0 <= i < len(styles) and styles[i]

    def _cell(self, sheet: str, row: int, cell: list, masters) -> RawCell | None:
        col, t, s, vparts, fparts, fattrs, iparts = cell[:7]
        v = "".join(vparts) if vparts is not None else None
        formula = error = None
        is_date = False
        if fparts is not None:
            formula = "".join(fparts)
            ft = fattrs.get("t")
            if ft == "shared" and not formula:
                master = cell[7] if len(cell) > 7 else masters.get(fattrs.get("si", ""))
                formula = self._shared(master, row, col)
            elif ft == "shared" and "ref" in fattrs:
                try:
                    r, c = parse_ref(fattrs["ref"])
                    masters[fattrs.get("si", "")] = (r, c, formula)
                except ValueError:
                    pass
            elif ft == "dataTable":
                formula = f"TABLE({fattrs.get('r1', '')},{fattrs.get('r2', '')})"
        has_cache = v is not None and (v != "" or t == "str")
        value: object = None
        try:
            if t is None or t == "n":
                if v:
                    value = _number(v)
                    if s:
                        is_date = self._date_style(s)
                        if is_date is None:
                            raise ValueError(s)
            elif t == "s":
                if v:
                    value = self._strings.get(int(v), f"工作表“{sheet}”单元格 {ref_of(row, col)}")
            elif t == "str":
                value = _unescape(v) if v is not None else None
            elif t == "inlineStr":
                value = _unescape("".join(iparts)) if iparts is not None else v
            elif t == "b":
                if v:
                    value = v.strip() in ("1", "true")
            elif t == "e":
                error = v.strip() if v else None
                if error is None and formula is None:
                    return None
            elif t == "d":
                if v:
                    value = datetime.fromisoformat(v.strip().replace("Z", "+00:00"))
                    is_date = True
            else:
                raise ValueError(t)
        except ValueError:
            raise Unreadable("F3", f"工作表“{sheet}”单元格 {ref_of(row, col)} 的内容无法识别") from None
        if value is None and formula is None and error is None:
            return None
        return _raw_cell(value, formula, has_cache if formula is not None else False, error, is_date, self.date1904)

    @staticmethod
    def _shared(master: tuple[int, int, str] | None, row: int, col: int) -> str:
        """A shared formula's text, moved from its master cell to (row, col)."""
        if master is None or not master[2]:
            return _PLACEHOLDER_FORMULA
        mr, mc, text = master
        try:
            from openpyxl.formula.translate import Translator

            return Translator("=" + text, origin=ref_of(mr, mc)).translate_formula(ref_of(row, col))[1:]
        except Exception:  # noqa: BLE001 - an odd formula keeps the master's text
            return text
