"""Annotated copies: the agency's own workbook handed back with every mistake shown
where it is (``OUTDIR/annotated/<name>_校验意见.xlsx``).

What a copy holds, besides everything the original had (protection with its password
hash, data validation, conditional formats, defined names, the very hidden ``_meta``
sheet, custom document properties, macros of an .xlsm):

- every flagged cell filled (errors red, warnings yellow; only the fill changes, number
  format, borders and protection stay) with a comment by ``校验工具`` giving the rule ID,
  its title and the 中文 message;
- a new first sheet ``校验结果`` (FEEDBACK_SHEET): one sentence on what to do, the file,
  agency, year and counts, then one row per finding with a link to its cell.

The agency fixes the figures in this very file and sends it back; the reader ignores
FEEDBACK_SHEET (it finds figures by defined names, or by labels on the format's sheets).

Re-annotating a returned copy replaces, never stacks: the ``校验结果`` sheet records, in
a hidden column (RECORD_HEADER), each flagged cell's original fill and comment as JSON;
they are put back and the old sheet dropped before the new findings are marked.  Should
that sheet be gone, comments authored by AUTHOR are removed and our two fills cleared.

Known limit (openpyxl): formulas are kept but their cached results are not, so the copy
asks Excel/WPS to recalculate on opening (fullCalcOnLoad).
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.fills import Fill
from openpyxl.utils.cell import coordinate_from_string, get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.xml.functions import fromstring, tostring

from toolkit.common import filenames
from toolkit.common.atomic import atomic_path
from toolkit.common.display import shown_name
from toolkit.common.layout import ANNOTATED_DIR, ANNOTATED_MARK, FEEDBACK_SHEET
from toolkit.common.oserrors import why
from toolkit.formats.catalogue import ERROR, SEVERITY_ZH, rules
from toolkit.formats.findings import UNREADABLE, FileReport, Finding
from toolkit.workbook.book import vet
from toolkit.workbook.limits import Limits, Unreadable

AUTHOR = "校验工具"  # author of our comments
RECORD_HEADER = "disclosure:原格式"  # hidden column of FEEDBACK_SHEET: what we changed

# Excel's own "bad" and "neutral" cell-style colours: the figure stays readable.
ERROR_COLOR, WARNING_COLOR = "FFFFC7CE", "FFFFEB9C"
_FILLS = {ERROR: PatternFill("solid", fgColor=ERROR_COLOR, bgColor=ERROR_COLOR)}
_WARNING_FILL = PatternFill("solid", fgColor=WARNING_COLOR, bgColor=WARNING_COLOR)

TODO_FAIL = "请直接在本文件中按下列意见修改数字，保存后重新报送；本页可保留，不影响校验。"
TODO_WARN = "下列提醒请核对：数字无误可不修改；如有修改，请直接在本文件中修改，保存后重新报送。本页可保留，不影响校验。"

COLUMNS = (  # header, width, wrap
    ("序号", 6, False),
    ("规则", 14, True),
    ("严重程度", 9, False),
    ("工作表", 16, True),
    ("单元格", 9, False),
    ("项目", 36, True),
    ("填报值", 12, True),
    ("应为", 10, True),
    ("说明", 60, True),
)
HEADER_ROW = 8  # the findings table starts here (1-based)
_MARK_RE = re.compile(re.escape(ANNOTATED_MARK) + r"(_\d+)?$")
_OOXML_SUFFIXES = (".xlsx", ".xlsm")
POOL_THRESHOLD = 8  # fewer copies than this are made in-process: a pool costs more


class AnnotateError(Exception):
    """An annotated copy could not be made; the message is 中文 and names the file."""


# --------------------------------------------------------------------------- names


def annotated_name(original: str | os.PathLike, *, macros: bool | None = None) -> str | None:
    """``<original stem>_校验意见.xlsx`` (``.xlsm`` for a workbook with macros); None for an
    .xls/.et original, which cannot be annotated.  A stem that already ends in 校验意见
    (a returned copy) is not marked twice."""
    path = Path(original)
    suffix = path.suffix.lower()
    if suffix in (".xls", ".et", ".ett", ".xlt"):
        return None
    if macros is None:
        macros = suffix in (".xlsm", ".xltm")
    stem = _MARK_RE.sub("", path.stem)
    return filenames.safe_filename(stem, ANNOTATED_MARK + (".xlsm" if macros else ".xlsx"))


def why_not(report: FileReport) -> str | None:
    """Why no annotated copy is made for ``report`` (中文), or None when one is."""
    if not report.findings:
        return "无需修改"
    if report.status == UNREADABLE:
        return "文件无法读取，未生成批注文件"
    try:
        with open(report.path, "rb") as fh:
            head = fh.read(4)
    except OSError:
        return "原文件已不存在，未生成批注文件"
    if head != b"PK\x03\x04":
        return "旧版 .xls/.et 文件无法批注，请另存为 .xlsx 后重新报送"
    return None


# --------------------------------------------------------------------------- batch


@dataclass
class Annotated:
    """What annotate_all made: report path -> copy, and report path -> 中文 reason for
    every report with findings that got no copy."""

    paths: dict[str, Path] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def for_summary(self) -> dict[str, Path | str]:
        return {**self.skipped, **self.paths}


def annotate_all(reports: list[FileReport], outdir: str | os.PathLike, *,
                 clean: bool = True, workers: int = 1, limits: Limits | None = None) -> Annotated:
    """An annotated copy in OUTDIR/annotated/ for every report with findings.

    Names are made unique within the batch (``_2``…) and never equal an input file.  With
    ``clean``, copies left in that folder by an earlier run and not made now are removed
    (never an input of this batch), so a re-run replaces the previous results.  openpyxl
    takes about 0.1 s a copy, so ``workers`` > 1 spreads many copies over processes."""
    dest = Path(outdir) / ANNOTATED_DIR
    inputs = {_resolved(r.path) for r in reports}
    taken = {p.name.casefold() for p in inputs if p.parent == _resolved(dest)}
    result = Annotated()
    jobs = []
    for report in reports:
        reason = why_not(report)
        if reason is not None:
            if report.findings:
                result.skipped[report.path] = reason
            continue
        name = annotated_name(report.path, macros=_has_macros(Path(report.path)))
        if name is None:  # an .xls name holding an .xlsx: annotate it as .xlsx
            name = filenames.safe_filename(Path(report.path).stem, ANNOTATED_MARK + ".xlsx")
        jobs.append((report, dest, filenames.unique_name(name, taken), limits))
    if workers > 1 and len(jobs) >= POOL_THRESHOLD:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers) as pool:
            done = list(pool.map(_annotate_job, jobs, chunksize=4))
    else:
        done = [_annotate_job(job) for job in jobs]
    for (report, *_), (path, error) in zip(jobs, done):
        if path is not None:
            result.paths[report.path] = path
        else:
            result.skipped[report.path] = error or "未生成批注文件"
    if clean and dest.is_dir():
        made = {p.name for p in result.paths.values()}
        for old in dest.iterdir():
            if (old.is_file() and old.suffix.lower() in _OOXML_SUFFIXES
                    and ANNOTATED_MARK in old.stem and old.name not in made
                    and _resolved(old) not in inputs):
                old.unlink()
    return result


def _annotate_job(job) -> tuple[Path | None, str | None]:
    report, dest, name, limits = job
    try:
        return annotate(report, dest, name=name, limits=limits), None
    except AnnotateError as exc:
        return None, str(exc)
    except Exception as exc:  # one bad file must not stop the batch; say which
        return None, f"{Path(report.path).name}：生成批注文件时出错（{why(exc)}）"


def _resolved(path) -> Path:
    try:
        return Path(path).resolve()
    except OSError:
        return Path(os.path.abspath(path))


def _has_macros(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            return any(n.lower() == "xl/vbaproject.bin" for n in zf.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


# --------------------------------------------------------------------------- one file


def annotate(report: FileReport, dest: str | os.PathLike, *, name: str | None = None,
             limits: Limits | None = None) -> Path | None:
    """Writes the annotated copy of ``report.path`` into the folder ``dest`` (created if
    needed; file name ``name`` or annotated_name()) atomically and returns its path.
    ``dest`` may also be the copy's full path (ending .xlsx/.xlsm).
    None when the original is not an .xlsx/.xlsm workbook (.xls/.et).  The original is
    only read.  Raises AnnotateError (中文) when the workbook cannot be opened or is over
    ``limits`` (the whole file is vetted before openpyxl inflates any of it)."""
    src = Path(report.path)
    _vet(src, limits)
    try:
        data = src.read_bytes()
    except OSError as exc:
        raise AnnotateError(f"{src.name}：无法读取原文件，未生成批注文件（{why(exc)}）") from None
    if not data.startswith(b"PK\x03\x04"):
        return None
    macros = _zip_has_macros(data)
    dest = Path(dest)
    if name is None and dest.suffix.lower() in _OOXML_SUFFIXES and not dest.is_dir():
        dest, name = dest.parent, dest.name  # a file path was given
    name = name or annotated_name(src, macros=macros) or filenames.safe_filename(
        src.stem, ANNOTATED_MARK + ".xlsx")
    target = dest / name
    if _resolved(target) == _resolved(src):
        raise AnnotateError(f"{src.name}：批注文件会覆盖原文件，已跳过；请换一个输出目录")
    try:
        wb = load_workbook(io.BytesIO(data), keep_vba=macros, keep_links=True, rich_text=True)
    except Exception as exc:  # any reason openpyxl refuses is the same to the user
        raise AnnotateError(f"{src.name}：无法打开工作簿生成批注文件（{why(exc)}）") from None
    _clear_previous(wb)
    records = _mark_cells(wb, report.findings)
    _feedback_sheet(wb, report, records)
    wb.template = False
    wb.calculation.fullCalcOnLoad = True  # formulas lost their cached results (see above)
    with atomic_path(target) as tmp:
        wb.save(tmp)
    return target


def _vet(src: Path, limits: Limits | None) -> None:
    """The file's limits (toolkit.workbook.gate), before openpyxl inflates anything.  A
    file that is no workbook is left to annotate (None for .xls, 无法打开 for the rest)."""
    try:
        vet(src, limits)
    except Unreadable as exc:
        if exc.code in ("F6", "F7"):
            message = Finding.of(exc.code, detail=exc.detail).message
            raise AnnotateError(f"{src.name}：未生成批注文件（{message}）") from None
    except OSError:
        pass  # said when the file is read


def _zip_has_macros(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return any(n.lower() == "xl/vbaproject.bin" for n in zf.namelist())
    except zipfile.BadZipFile:
        return False


# --------------------------------------------------------------------------- marking


def _locate(wb, finding: Finding):
    """The worksheet cell a finding points at, or None (file-level, or not in this file)."""
    if not finding.sheet or not finding.cell or finding.sheet == FEEDBACK_SHEET:
        return None
    if finding.sheet not in wb.sheetnames:
        return None
    ws = wb[finding.sheet]
    if not hasattr(ws, "merged_cells"):  # a chartsheet
        return None
    ref = str(finding.cell).split(":")[0].replace("$", "").upper()
    try:
        coordinate_from_string(ref)
        cell = ws[ref]
    except (ValueError, KeyError, IndexError):
        return None
    if isinstance(cell, MergedCell):  # comments and fills live on the top-left cell
        for rng in ws.merged_cells.ranges:
            if cell.coordinate in rng:
                cell = ws.cell(rng.min_row, rng.min_col)
                break
    return cell


def _mark_cells(wb, findings: list[Finding]) -> dict[int, dict]:
    """Fills and comments the flagged cells; returns, per finding index, the record of what
    the cell looked like before (for re-annotation) and where it is."""
    groups: dict[tuple[str, str], list[Finding]] = {}
    cells = {}
    where: dict[int, tuple[str, str]] = {}
    for i, f in enumerate(findings):
        cell = _locate(wb, f)
        if cell is None:
            continue
        key = (cell.parent.title, cell.coordinate)
        groups.setdefault(key, []).append(f)
        cells[key] = cell
        where[i] = key
    saved = {}
    for key, group in groups.items():
        cell = cells[key]
        old = cell.comment
        saved[key] = {
            "sheet": key[0],
            "cell": key[1],
            "fill": tostring(cell.fill.to_tree()).decode("utf-8"),
            "comment": [old.text, old.author] if old is not None else None,
        }
        worst = ERROR if any(f.severity == ERROR for f in group) else group[0].severity
        cell.fill = _FILLS.get(worst, _WARNING_FILL)
        text = "\n".join(_comment_line(f) for f in group)
        lines = sum(math.ceil(max(len(line), 1) / 22) for line in text.split("\n"))
        cell.comment = Comment(_clean(text), AUTHOR, height=min(40 + 16 * lines, 400), width=320)
    return {i: saved[key] for i, key in where.items()}


def _comment_line(f: Finding) -> str:
    return f"{f.rule} {_title(f.rule)}（{SEVERITY_ZH.get(f.severity, f.severity)}）：{f.message}"


def _title(rule_id: str) -> str:
    r = rules().get(rule_id)
    return r.title if r else ""


def _clear_previous(wb) -> None:
    """Undoes an earlier annotation: the recorded fills and comments are put back and the
    old FEEDBACK_SHEET is removed; stray comments of ours go too."""
    if FEEDBACK_SHEET in wb.sheetnames and _is_ours(wb[FEEDBACK_SHEET]):
        ws = wb[FEEDBACK_SHEET]
        record_col = len(COLUMNS) + 1
        restored = set()
        for (raw,) in ws.iter_rows(min_row=HEADER_ROW + 1, min_col=record_col,
                                   max_col=record_col, values_only=True):
            try:
                rec = json.loads(raw) if raw else None
                if not rec or (rec["sheet"], rec["cell"]) in restored or rec["sheet"] not in wb.sheetnames:
                    continue
                cell = wb[rec["sheet"]][rec["cell"]]
                cell.fill = Fill.from_tree(fromstring(rec["fill"]))
                cell.comment = Comment(*rec["comment"]) if rec["comment"] else None
                restored.add((rec["sheet"], rec["cell"]))
            except Exception:  # a damaged record: the sweep below still clears our marks
                continue
        del wb[FEEDBACK_SHEET]
    ours = {ERROR_COLOR, WARNING_COLOR}
    for ws in wb.worksheets:
        for cell in list(ws._cells.values()):
            if cell.comment is not None and cell.comment.author == AUTHOR:
                cell.comment = None
                if cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb in ours:
                    cell.fill = PatternFill()


def _is_ours(ws) -> bool:
    return ws.cell(HEADER_ROW, len(COLUMNS) + 1).value == RECORD_HEADER


# --------------------------------------------------------------------------- 校验结果


def _clean(text: object) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", str(text))[:32000]


def _put(ws, row: int, col: int, value, **style):
    """Writes a value; text is always text (a value "=…" never becomes a formula)."""
    cell = ws.cell(row, col)
    if isinstance(value, bool) or value is None:
        value = "" if value is None else str(value).upper()
    if isinstance(value, (int, float)):
        cell.value = value
    else:
        cell.value = _clean(value)
        cell.data_type = "s"
    for k, v in style.items():
        setattr(cell, k, v)
    return cell


def _sheet_ref(sheet: str, cell: str) -> str:
    return "'" + sheet.replace("'", "''") + "'!" + cell


def _feedback_sheet(wb, report: FileReport, records: dict[int, dict]) -> None:
    ws = wb.create_sheet(FEEDBACK_SHEET, 0)
    for other in wb.worksheets[1:]:
        other.sheet_view.tabSelected = False
    for other in wb.chartsheets:
        for view in getattr(other.sheetViews, "sheetView", []):
            view.tabSelected = False
    wb.active = 0
    ws.sheet_view.tabSelected = True

    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    thin = Side(style="thin", color="FF999999")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    last = get_column_letter(len(COLUMNS))

    _put(ws, 1, 1, FEEDBACK_SHEET, font=Font(bold=True, size=16))
    todo = TODO_FAIL if report.errors else TODO_WARN
    _put(ws, 2, 1, todo, font=Font(bold=True, color="FFC00000"), alignment=wrap)
    ws.merge_cells(f"A2:{last}2")
    ws.row_dimensions[2].height = 36
    info = [
        ("文件", shown_name(report.path)),
        ("单位", report.agency or "（未能读取）"),
        ("年度", report.year if report.year is not None else "（未能读取）"),
        ("结果", f"{'需修改' if report.errors else '通过'}：错误 {report.errors} 个，提醒 {report.warnings} 个"
                 f"（标红的格为错误，标黄的格为提醒；鼠标移到格上可看批注）"),
        ("校验时间", datetime.now().strftime("%Y-%m-%d %H:%M")),
    ]
    for r, (label, value) in enumerate(info, start=3):
        _put(ws, r, 1, label, font=bold)
        _put(ws, r, 2, value, alignment=Alignment(horizontal="left"))
        ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=len(COLUMNS))

    header_fill = PatternFill("solid", fgColor="FFDDEBF7")
    for c, (title, width, _) in enumerate(COLUMNS, start=1):
        _put(ws, HEADER_ROW, c, title, font=bold, fill=header_fill, border=box,
             alignment=Alignment(horizontal="center", vertical="center", wrap_text=True))
        ws.column_dimensions[get_column_letter(c)].width = width
    record_col = len(COLUMNS) + 1
    _put(ws, HEADER_ROW, record_col, RECORD_HEADER)
    ws.column_dimensions[get_column_letter(record_col)].hidden = True

    link_font = Font(color="FF0563C1", underline="single")
    for i, f in enumerate(report.findings):
        r = HEADER_ROW + 1 + i
        rec = records.get(i)
        item = " / ".join(x for x in (f.row, f.column) if x) or (f"第{f.part}部分" if f.part else "")
        values = [i + 1, f"{f.rule} {_title(f.rule)}".strip(), SEVERITY_ZH.get(f.severity, f.severity),
                  f.sheet or "", f.cell or "", item, f.value, f.expected, f.message]
        for c, value in enumerate(values, start=1):
            _put(ws, r, c, value, border=box, alignment=wrap)
        if rec:
            link = ws.cell(r, 5)
            link.value = rec["cell"]  # where it really is in this file (merged: top-left)
            link.hyperlink = Hyperlink(ref=link.coordinate, location=_sheet_ref(rec["sheet"], rec["cell"]),
                                       tooltip="转到此格")
            link.font = link_font
            _put(ws, r, record_col, json.dumps(rec, ensure_ascii=False))
        sev = ws.cell(r, 3)
        sev.fill = _FILLS.get(f.severity, _WARNING_FILL)
        lines = max(math.ceil(len(str(v or "")) / max(w / 1.9, 1))
                    for v, (_, w, wrapped) in zip(values, COLUMNS) if wrapped)
        ws.row_dimensions[r].height = max(1, lines) * 15 + 3
    if not report.findings:
        _put(ws, HEADER_ROW + 1, 1, "没有发现问题。")
    else:
        ws.auto_filter.ref = f"A{HEADER_ROW}:{last}{HEADER_ROW + len(report.findings)}"
    ws.freeze_panes = f"A{HEADER_ROW + 1}"
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    # Ours, not the agency's: locked against slips, no password, filtering allowed.
    ws.protection.sheet = True
    ws.protection.autoFilter = False
    ws.protection.selectLockedCells = False
