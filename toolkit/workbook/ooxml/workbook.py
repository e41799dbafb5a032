"""OoxmlBook: the Book of an .xlsx/.xlsm; opens the zip, reads workbook.xml and its rels
once, and reads sheets one pass (small) or streaming (large)."""

from __future__ import annotations

import posixpath
from pathlib import Path

from toolkit.common.a1 import parse_ref
from toolkit.workbook import sniff
from toolkit.workbook.gate import vet_sheets
from toolkit.workbook.limits import Deadline, Limits, Unreadable
from toolkit.workbook.model import Book, RawCell, ScanStats, SheetInfo, _raw_cell
from toolkit.workbook.ooxml.onepass import _xml_text
from toolkit.workbook.ooxml.parts import _memo, _Parts
from toolkit.workbook.ooxml.sheetfast import _index_sheet
from toolkit.workbook.ooxml.sheetscan import _SheetPart, _SheetScan
from toolkit.workbook.ooxml.sheettail import _sheetdata_end, _Tail
from toolkit.workbook.ooxml.zipguard import _Zip

_WHOLE: dict[tuple[bytes, bool, bool], RawCell] = {}  # plain whole numbers, shared (RawCell is immutable)


_REL_OFFICE_DOC = "/officedocument"
_SHEET_KINDS = {"worksheet": "worksheet", "chartsheet": "chartsheet", "dialogsheet": "dialogsheet",
                "xlmacrosheet": "macrosheet", "xlintlmacrosheet": "macrosheet"}
_STATES = {"visible": "visible", "hidden": "hidden", "veryhidden": "veryHidden"}


class OoxmlBook(_Parts, _SheetScan, Book):
    def __init__(self, path: Path, limits: Limits, deadline: Deadline):
        self.path, self.limits, self.deadline = path, limits, deadline
        self.last_scan = None
        self._date_by_style: dict[bytes, bool | None] = {}  # style index -> shows dates
        self._fast_left = limits.one_pass_budget
        with sniff.guard():
            self._zip = _Zip(path, limits, deadline)
        try:
            with sniff.guard():
                self._open()
        except BaseException:
            self._zip.close()
            raise

    # -- open: package rels, workbook.xml and its rels, once

    def _open(self) -> None:
        z = self._zip
        names = list(z.infos)
        self._package_rels = self._rels("_rels/.rels", "") if z.has("_rels/.rels") else []
        main = next((t for _, typ, t in self._package_rels if typ.lower().endswith(_REL_OFFICE_DOC)), None)
        self._workbook_part = sniff.classify_zip(names, main, lambda n: z.read(n)[:200])
        self.kind = "xlsm" if any(n.endswith("vbaproject.bin") for n in names) else "xlsx"
        wb_dir = posixpath.dirname(self._workbook_part)
        rels_name = posixpath.join(wb_dir, "_rels", posixpath.basename(self._workbook_part) + ".rels")
        rels = self._rels(rels_name, wb_dir) if z.has(rels_name) else []
        by_id = {}
        self._styles_part = self._strings_part = None
        for rid, typ, target in rels:
            kind = typ.rsplit("/", 1)[-1].lower()
            by_id[rid] = (kind, target)
            if kind == "styles":
                self._styles_part = target
            elif kind == "sharedstrings":
                self._strings_part = target
        wb_data = z.read(self._workbook_part)
        raw_sheets, raw_names, self.date1904, self.workbook_protected = _memo(
            ("workbook", wb_data), lambda: self._parse_workbook(wb_data))
        # The sheet entries are vetted before any sheet is read, by us or by openpyxl later.
        vet_sheets([z.infos[t].file_size if t is not None and z.has(t) else 0
                    for _, t in (by_id.get(rid, ("", None)) for _, _, rid in raw_sheets)], self.limits)
        self._sheets: dict[str, _SheetPart] = {}
        order: list[str] = []
        for name, state, rid in raw_sheets:
            kind, target = by_id.get(rid, ("worksheet", None))
            kind = _SHEET_KINDS.get(kind, "worksheet")
            if kind == "worksheet" and (target is None or not z.has(target)):
                raise Unreadable("F3", f"缺少工作表“{name}”的数据")
            if name in self._sheets:
                raise Unreadable("F3", f"工作表名称“{name}”重复")
            part = target if kind == "worksheet" else None
            sp = _SheetPart(None, part)
            # Protection sits in the sheet's tail: looked at only when asked for.
            protected = (lambda sp=sp: self._tail(sp).protected) if part is not None else False
            sp.info = SheetInfo(name, _STATES.get((state or "visible").lower(), "visible"), protected, kind)
            self._sheets[name] = sp
            order.append(name)
        self._order = order
        defined, local, broken = _memo(("names", wb_data), lambda: self._names(raw_names))
        self.defined_names = dict(defined)
        self.local_names = {k: dict(v) for k, v in local.items()}
        self.broken_names = list(broken)

    def _tail(self, sp: _SheetPart) -> _Tail:
        if sp.tail is None and not self._one_pass(sp):
            tail = _Tail()
            if sp.part is not None:
                with sniff.guard(self._zip.shown(sp.part)):
                    self._scan_tail(sp.part, tail)
            sp.tail = tail
        return sp.tail

    def _scan_tail(self, part: str, tail: _Tail) -> None:
        buf = b""
        in_tail = first = False
        limit = self.limits.max_cells
        for chunk in self._zip.chunks(part):
            if not first:
                first = True
                if b"<!DOCTYPE" in chunk[:4096] or b"<!ENTITY" in chunk[:4096]:
                    raise Unreadable("F7", f"{self._zip.shown(part)} 含有 DOCTYPE 或实体声明（XML 实体扩展攻击）")
            buf += chunk
            if not in_tail:
                i = _sheetdata_end(buf)
                if i < 0:
                    buf = buf[-128:]
                    continue
                in_tail, buf = True, buf[i:]
            cut = buf.rfind(b"<")
            if cut > 0:
                tail.scan(buf[:cut], limit)
                buf = buf[cut:]
        if in_tail:
            tail.scan(buf, limit)

    # -- the interface

    @property
    def sheets(self) -> list[SheetInfo]:
        return [self._sheets[name].info for name in self._order]

    @property
    def sheet_names(self) -> list[str]:
        return list(self._order)

    def _sheet(self, name: str) -> _SheetPart:
        sp = self._sheets.get(name)
        if sp is None:
            raise KeyError(f"工作簿中没有工作表“{name}”")
        return sp

    def merged_ranges(self, sheet: str) -> list[str]:
        sp = self._sheet(sheet)
        return list(self._tail(sp).merges)

    def read_cells(self, sheet: str, refs) -> dict[str, object]:
        sp = self._sheet(sheet)
        if sp.index is not None or self._one_pass(sp):
            index = sp.index
            out = {}
            for ref in refs:
                pos = parse_ref(ref)
                cell = index.get(pos)
                if cell is None:
                    continue
                if cell.__class__ is tuple or cell.__class__ is list:
                    cell = index[pos] = self._convert(sp, pos, cell)
                    if cell is None:
                        continue
                out[ref] = cell
            return out
        asked = [(ref, parse_ref(ref)) for ref in refs]
        wr, wc = sp.window
        missing: dict[int, set[int]] = {}
        for _, (r, c) in asked:
            if (r, c) not in sp.memo and not (r <= wr and c <= wc):
                missing.setdefault(r, set()).add(c)
        if missing and sp.part is not None:
            found = self._scan(sp, missing.get, max(missing))
            for r, cols in missing.items():
                for c in cols:
                    sp.memo[(r, c)] = found.get((r, c))
        out = {}
        for ref, pos in asked:
            cell = sp.memo.get(pos)
            if cell is not None:
                out[ref] = cell
        return out

    def read_grid(self, sheet: str, max_rows: int = 300, max_cols: int = 40) -> dict[tuple[int, int], RawCell]:
        sp = self._sheet(sheet)
        if sp.index is not None or self._one_pass(sp):
            index = sp.index
            out = {}
            for pos, cell in list(index.items()):
                if pos[0] <= max_rows and pos[1] <= max_cols:
                    if cell.__class__ is list or cell.__class__ is tuple:
                        cell = index[pos] = self._convert(sp, pos, cell)
                    if cell is not None:
                        out[pos] = cell
            return out
        wr, wc = sp.window
        if not (max_rows <= wr and max_cols <= wc) and sp.part is not None:
            cols = range(1, max_cols + 1)
            found = self._scan(sp, lambda r: cols, max_rows)
            if max_rows >= wr and max_cols >= wc:
                sp.memo = {k: v for k, v in sp.memo.items() if not (k[0] <= max_rows and k[1] <= max_cols)}
                sp.window = (max_rows, max_cols)
            sp.memo.update(found)
            return found
        return {k: v for k, v in sp.memo.items() if v is not None and k[0] <= max_rows and k[1] <= max_cols}

    def close(self) -> None:
        if "_strings" in self.__dict__:
            self._strings.close()
        self._zip.close()

    # -- one pass (small sheets)

    def _one_pass(self, sp: _SheetPart) -> bool:
        """Index every cell and the tail of a small sheet at once (Limits.one_pass_max); False
        when the sheet must be streamed (large, or the one-pass assumptions fail)."""
        if sp.index is not None:
            return True
        if sp.streamed:
            return False
        sp.streamed = True  # until proven otherwise
        part, lim = sp.part, self.limits
        size = self._zip.infos[part].file_size
        if size > lim.one_pass_max or size > self._fast_left:
            return False
        self._fast_left -= size
        shown = self._zip.shown(part)
        with sniff.guard(shown):
            data = self._zip.read(part)
            try:
                found, rows, cells, tail_at = _index_sheet(
                    data, f"工作表“{sp.info.name}”（{shown}）", lim.max_rows, lim.max_cells)
            except Unreadable:
                raise
            except Exception:  # noqa: BLE001 - _Fallback, or XML expat refuses: the streaming
                return False  # path reads the part, with its own verdicts
        sp.index, sp.streamed = found, False
        if sp.tail is None:
            tail = _Tail()
            tail.scan(data[tail_at:], lim.max_cells)
            sp.tail = tail
        self.last_scan = ScanStats(sp.info.name, rows, cells, len(data), False)
        return True

    def _convert(self, sp: _SheetPart, pos: tuple[int, int], raw: tuple | list) -> RawCell | None:
        """A raw indexed cell -> RawCell (None: empty), as the streaming scan builds it."""
        if raw.__class__ is tuple:
            t, s, v = raw
            if not t and v.isdigit() and len(v) < 16:  # the common case, a plain whole number
                if s:
                    is_date = self._date_by_style.get(s)
                    if is_date is None:
                        is_date = self._date_style_b(s)
                else:
                    is_date = False
                if is_date is not None:
                    key = (v, is_date, self.date1904)
                    cell = _WHOLE.get(key)
                    if cell is None:
                        cell = _raw_cell(int(v), None, False, None, is_date, self.date1904)
                        if len(_WHOLE) < 50_000:
                            _WHOLE[key] = cell
                    return cell
            text = v.decode("ascii") if v.isascii() and b"&" not in v and b"\r" not in v else _xml_text(v)
            raw = [pos[1], t.decode("ascii") if t else None, s.decode("ascii") if s else None,
                   [text], None, None, None, None]
        return self._cell(sp.info.name, pos[0], raw, {})

    def _date_style_b(self, s: bytes) -> bool | None:
        memo = self._date_by_style
        d = memo.get(s, memo)
        if d is memo:
            d = memo[s] = self._date_style(s.decode("ascii"))
        return d
