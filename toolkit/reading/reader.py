"""A returned workbook, read: which format, whose, which year, and what was typed in
every figure cell, found by defined name first and by the format's labels otherwise.

Names are trusted only while they still sit beside their labels: a tool that inserts
or deletes rows without updating names (openpyxl, a sheet rebuilt by copy and paste)
leaves them pointing at the wrong cells, and such a part is read by its labels (S2).
A template whose names are gone, or whose figure sheet was hidden, is read but flagged
(S2); a figure cell merged away or not found is S1.

Nothing here judges the figures (validate.py does); the reader only reports what it
could not find or what does not fit (structure S1–S3, format F9), and turns a file
that cannot be read at all into one verdict (F1–F8).
"""

from __future__ import annotations

import pyexpat
import zipfile
import zlib
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

from toolkit.common.layout import FEEDBACK_SHEET  # an annotated copy's first sheet
from toolkit.common.oserrors import why
from toolkit.formats import spec, stamp
from toolkit.formats.findings import Finding
from toolkit.reading import agency_block, identity, locate
from toolkit.reading.beside import names_off_labels
from toolkit.reading.inserted import inserted
from toolkit.reading.localfile import not_a_file, sha256_of
from toolkit.reading.values import Value, classify
from toolkit.workbook.book import Book, Unreadable, open_book
from toolkit.workbook.limits import Limits

# Errors of the zip and XML layers: a broken file, whichever part they surface in.
_BROKEN_ZH = {zlib.error: "压缩数据已损坏", zipfile.BadZipFile: "压缩包已损坏或不完整",
              pyexpat.ExpatError: "XML 格式错误", UnicodeDecodeError: "文字编码错误", EOFError: "文件被截断"}
_BROKEN = tuple(_BROKEN_ZH)



@dataclass
class ReadResult:
    path: str
    sha256: str | None = None
    format_id: str | None = None  # an id, not the Format: results cross process pools
    read_by: str | None = None
    agency: str | None = None
    year: int | None = None
    meta: dict = field(default_factory=dict)
    places: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (sheet, A1)
    values: dict[str, Value] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    unreadable: Finding | None = None
    checkable: bool = True  # False when the figures must not be judged (wrong format)
    form: str | None = None  # a published report's form (pdf, docx, html, text …); None: a workbook
    locations: dict[str, dict] = field(default_factory=dict)  # key -> place in a published document
    claims: list[dict] = field(default_factory=list)  # figures a published report states in words

    # Most returns are our template with every name in place: their places are the
    # format's own cells, shared (template_places) and sent across the pool as a mark.
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        if self.format_id and self.places is template_places(self.format_id):
            state["places"] = _TEMPLATE_PLACES
        return state

    def __setstate__(self, state: dict) -> None:
        if state.get("places") == _TEMPLATE_PLACES:
            state["places"] = template_places(state["format_id"])
        self.__dict__.update(state)

    @property
    def fmt(self) -> spec.Format | None:
        return spec.get(self.format_id) if self.format_id else None


_TEMPLATE_PLACES = "template"


@cache
def template_places(format_id: str) -> dict[str, tuple[str, str]]:
    """figure key -> (sheet, A1) of the format's own template; shared, never changed."""
    return {f.key: (f.sheet, f.cell) for f in spec.get(format_id).figures.values()}


def read_return(path: str | Path, *, limits: Limits | None = None,
                expect: spec.Format | None = None) -> ReadResult:
    """Read one return.  Never raises for a bad file: the verdict is in the result."""
    path = Path(path)
    result = ReadResult(path=str(path))
    result.unreadable = not_a_file(path)
    if result.unreadable is not None:
        return result
    try:
        result.sha256 = sha256_of(path)
        book = open_book(path, limits)
    except Unreadable as exc:
        result.unreadable = Finding.of(exc.code, detail=exc.detail)
        return result
    except OSError as exc:  # our side (permissions, a disk error), not the agency's file
        result.unreadable = Finding.of("L1", detail=why(exc))
        return result
    try:
        _read(book, result, expect)
    except Unreadable as exc:
        result.unreadable = Finding.of(exc.code, detail=exc.detail)
        result.read_by = None  # nothing was read through to the end
    except _BROKEN as exc:
        # A broken part read lazily, past toolkit.workbook.book's own guard: still a broken file.
        result.unreadable = Finding.of("F3", detail=_BROKEN_ZH.get(type(exc), "文件内容已损坏"))
        result.read_by = None
    finally:
        book.close()
    return result


def _read(book: Book, result: ReadResult, expect: spec.Format | None) -> None:
    result.meta = identity.read_stamp(book)
    year = identity.year_hint(book, result.meta)
    order = identity.preference(result.meta, year, expect)
    fmt, by_names = identity.by_names(book, order)
    grids = None
    if fmt is None:
        grids = _grids(book)
        if year is None and (year := identity.year_by_labels(grids)) is not None:
            order = identity.preference(result.meta, year, expect)
        fmt = identity.by_labels(grids, order)
        if fmt is None:
            raise Unreadable("F8", "既没有模板的定义名称，也没有年度报告的表格标签")
    result.format_id = fmt.id
    stamped = spec.formats().get(result.meta.get("format"))
    if stamped is not None and stamped.id != fmt.id:
        result.findings.append(Finding.of("F9", detail=(
            f"模板标记为{_format_name(stamped)}，但表格内容是{_format_name(fmt)}，请使用下发的模板重新填写")))
    if expect is not None and expect.id != fmt.id:
        result.findings.append(Finding.of("F9", detail=(
            f"本次要求报送{_format_name(expect)}，此文件是{_format_name(fmt)}，请改用正确的模板填写")))
        result.checkable = False

    # Figures: by defined names, then by labels for whatever names did not lead to, and
    # for the parts whose named cells no longer sit beside their labels.
    doubtful, near = names_off_labels(book, fmt, by_names)
    trusted = {k: p for k, p in by_names.items() if fmt.figures[k].part not in doubtful}
    result.places = dict(trusted)
    if len(result.places) < len(fmt.figures):
        grids = grids if grids is not None else _grids(book)
        located = locate.locate(grids, fmt)
        _settle(fmt, doubtful, located.cells, by_names, result, trusted)
        for key, place in located.cells.items():
            result.places.setdefault(key, place)
        _missing_findings(fmt, result, located)
        if len(by_names) < len(fmt.figures) and (by_names or result.meta.get("format")):
            result.findings.append(Finding.of("S2", detail=(
                f"{len(fmt.figures) - len(by_names)} 个数字格的定义名称缺失或失效，已按表格标签读取")))
    result.read_by = "names" if len(trusted) == len(fmt.figures) else "labels"
    if result.places == template_places(fmt.id):
        result.places = template_places(fmt.id)  # shared: never changed in place from here
    if result.read_by != "names":
        near = None  # places found by labels were not among the cells read beside the names
    elif result.places is not template_places(fmt.id):  # names moved: rows inserted in a table?
        result.findings.extend(inserted(book, fmt, result.places))
    _hidden_sheets(book, result)
    _merged_figures(book, fmt, result)
    _read_values(book, fmt, result, near)
    fields = agency_block.typed(book, fmt, lambda: grids if grids is not None else _grids(book))
    result.agency, result.year, found = agency_block.agency_and_year(fields, result.meta, fmt)
    result.findings.extend(found)
    if result.year is not None and not fmt.covers(result.year):
        right = spec.for_year(result.year)
        result.findings.append(Finding.of("F9", detail=(
            f"年度为 {result.year} 年的报告应使用{_format_name(right)}，此文件是{_format_name(fmt)}")))


def _settle(fmt: spec.Format, doubtful: dict, located: dict, by_names: dict, result: ReadResult,
            trusted: dict) -> None:
    """Each part whose named cells are off their labels is read by its labels, unless the
    labels do not lead there either, or lead exactly to the named cells (a label typed
    over or deleted: the names are right), and said (S2)."""
    for part_key, (sheet, ref, detail) in doubtful.items():
        keys = [f.key for f in fmt.part_figures(part_key)]
        found = [k for k in keys if k in located]
        if len(found) * 2 < len(keys):
            how = "按表格标签也找不到此表，已按定义名称读取，请核对"
        elif all(k in by_names for k in keys) and all(located[k] == by_names[k] for k in found):
            how = "其余标签都与定义名称一致，可能是这个标签被改写或删除，已按定义名称读取，请恢复模板原有的标签"
        else:
            how = "可能插入或删除了行列而定义名称未随之更新，已按表格标签读取"
            keys = []
        result.places.update((k, by_names[k]) for k in keys if k in by_names)
        trusted.update((k, by_names[k]) for k in keys if k in by_names)
        result.findings.append(Finding.of("S2", sheet=sheet, cell=ref, detail=f"{detail}，{how}"))


def _format_name(fmt: spec.Format) -> str:
    return f"{fmt.document}格式"


def _hidden_sheets(book: Book, result: ReadResult) -> None:
    """A sheet of figures the agency hid: read as usual, but a reviewer would not see it."""
    used = _sheets_of(result.places, result.format_id)
    for s in book.sheets:
        if s.name in used and s.state != "visible":
            result.findings.append(Finding.of("S2", sheet=s.name, detail=(
                f"工作表“{s.name}”被隐藏，已照常读取其中的数字，请核对")))


def _grids(book: Book) -> dict[str, "locate.Grid"]:
    return locate.grids_from_book(book, skip=(stamp.SHEET, FEEDBACK_SHEET))


def _missing_findings(fmt: spec.Format, result: ReadResult, located) -> None:
    missing = [k for k in fmt.figures if k not in result.places]
    if not missing:
        return
    by_part: dict[str, list[str]] = {}
    for key in missing:
        by_part.setdefault(fmt.figures[key].part, []).append(key)
    for part_key, keys in by_part.items():
        part = fmt.part(part_key)
        if len(keys) == len(fmt.part_figures(part_key)):
            # A whole table gone is one finding, not one per cell.
            result.findings.append(Finding.of(
                "S1", sheet=part.sheet, label=part.title,
                detail="整张表格都找不到（工作表被删除或表格标签被改写）"))
            continue
        for key in keys:
            found = Finding.of("S1", figure=fmt.figures[key],
                               detail=located.missing.get(key, "定义名称和表格标签都找不到此格"))
            found.cell = None  # the template's cell means nothing in this file
            result.findings.append(found)


def _merged_figures(book: Book, fmt: spec.Format, result: ReadResult) -> None:
    """A figure cell swallowed by a merge (not the template's own) holds no value."""
    places = result.places
    shared = places is template_places(fmt.id)
    sheets = _template_sheets(fmt.id) if shared else sorted({place[0] for place in places.values()})
    merges = tuple((sheet, tuple(book.merged_ranges(sheet))) for sheet in sheets)
    hits = _template_hits(fmt.id, merges) if shared else _hits(places, merges)
    if not hits:
        return
    result.places = {k: v for k, v in places.items() if k not in hits}
    for key, rng in hits.items():
        sheet, ref = places[key]
        result.findings.append(Finding.of(
            "S1", figure=fmt.figures[key], sheet=sheet, cell=ref,
            detail=f"数字格 {ref} 被合并进了 {rng}，请取消合并后分别填写"))


def _hits(places: dict[str, tuple[str, str]], merges: tuple) -> dict[str, str]:
    """figure key -> the merge that swallows its cell."""
    swallowed = {sheet: _swallowed(ranges) for sheet, ranges in merges}
    return {key: rng for key, (sheet, ref) in places.items()
            if (rng := swallowed.get(sheet, {}).get(ref)) is not None}


@lru_cache(maxsize=64)
def _template_hits(format_id: str, merges: tuple) -> dict[str, str]:
    """_hits over the template's own places: the same for every return with the same merges."""
    return _hits(template_places(format_id), merges)


@cache
def _template_sheets(format_id: str) -> list[str]:
    return sorted({place[0] for place in template_places(format_id).values()})


@lru_cache(maxsize=64)
def _swallowed(ranges: tuple[str, ...]) -> dict[str, str]:
    """Cells hidden under a merge (all but its top-left) -> the merge.  Every return made
    from one template has the same merges: worked out once."""
    out = {}
    for rng in ranges:
        area = spec.Area.parse(rng)
        for col in range(area.min_col, area.max_col + 1):
            for row in range(area.min_row, area.max_row + 1):
                if (col, row) != (area.min_col, area.min_row):
                    out[spec.Area(col, row, col, row).ref] = rng
    return out


def _read_values(book: Book, fmt: spec.Format, result: ReadResult, near: dict[str, dict] | None) -> None:
    """Classify what each figure cell holds; ``near``: the named cells read already."""
    places = result.places
    if places is template_places(fmt.id):
        by_sheet = _template_by_sheet(fmt.id)
    else:
        by_sheet = {}
        for sheet, ref in places.values():
            by_sheet.setdefault(sheet, []).append(ref)
    raw = {sheet: near[sheet] if near and sheet in near else book.read_cells(sheet, refs)
           for sheet, refs in by_sheet.items()}
    kinds, values = _figure_kinds(fmt.id), result.values
    for key, (sheet, ref) in places.items():
        values[key] = classify(raw[sheet].get(ref), kinds[key])


def _sheets_of(places: dict[str, tuple[str, str]], format_id: str | None) -> set[str] | list[str]:
    if format_id and places is template_places(format_id):
        return _template_sheets(format_id)
    return {sheet for sheet, _ref in places.values()}


@cache
def _template_by_sheet(format_id: str) -> dict[str, list[str]]:
    by_sheet: dict[str, list[str]] = {}
    for sheet, ref in template_places(format_id).values():
        by_sheet.setdefault(sheet, []).append(ref)
    return by_sheet


@cache
def _figure_kinds(format_id: str) -> dict[str, str]:
    return {key: f.kind for key, f in spec.get(format_id).figures.items()}
