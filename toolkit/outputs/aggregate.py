"""The regional roll-up: the figures of every return that passed, added up into one
workbook in the national layout (the template, unlocked, titled with the region and
year), with a sheet 汇总说明 naming the agencies included and those left out and why.

Sources are check OUTDIRs (findings.json lists the files checked; it has no figures, so
the files are read again, by path), folders of returns, or return files.  Every return is
read and validated afresh (checking.batch.read_reports): a file changed since the check is judged
as it is now.

Choices where returns disagree, in this order:
  year        the given --year, else the most common year of the readable returns
              (newest on a tie); a return without a year is kept (when it passes, a
              missing year is only a warning);
  duplicates  one return per agency (same stamp or typed name, or the same bytes): the
              one `disclosure check` uses (coverage.duplicates, toolkit.outputs.choice),
              among that year's returns whatever their status: figures an agency
              replaced are never added in, even while its newer return fails;
  status      only 通过 returns are added; 需修改 and 无法读取 are left out;
  format      the format of that year (else the most common, newest on a tie); returns
              in another format are left out.
"""

from __future__ import annotations

import io
import math
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Alignment, Border, Font, Side

from toolkit.checking import batch
from toolkit.checking.batch import SUFFIXES
from toolkit.common import atomic
from toolkit.common.display import shown, shown_name
from toolkit.common.layout import FINDINGS_JSON
from toolkit.formats import kinds, spec
from toolkit.formats.findings import PASS, STATUS_ZH, UNREADABLE, FileReport
from toolkit.outputs import findings_json
from toolkit.outputs.campaign import agency_from_filename
from toolkit.outputs.coverage import duplicates
from toolkit.outputs.sheets import text_lines
from toolkit.template import writer as template

NOTE_SHEET = "汇总说明"
ROLLUP_PROPERTY = "disclosure.rollup"  # read back as meta['rollup']: a roll-up is no return


class AggregateError(Exception):
    """Nothing to roll up, or sources that do not exist; the message is 中文."""


@dataclass
class LeftOut:
    report: FileReport
    reason: str


@dataclass
class RollUp:
    output: Path
    format: str
    region: str | None
    year: int | None
    title_agency: str
    sums: dict[str, float]
    included: list[FileReport] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)

    def lines_zh(self) -> list[str]:
        fmt = spec.get(self.format)
        lines = [f"已汇总 {len(self.included)} 个单位的报表，未纳入 {len(self.left_out)} 份"
                 f"（{fmt.document}格式，{_year_zh(self.year)}）：{self.output}"]
        for item in self.left_out:
            lines.append(f"  未纳入：{_who(item.report)}（{Path(item.report.path).name}）：{item.reason}")
        return lines


# ---------------------------------------------------------------------------- sources


def collect(sources: list[Path], *, skip: Path | None = None) -> tuple[list[Path], list[FileReport]]:
    """The return files named by ``sources``: a check OUTDIR (by its findings.json), a
    folder (its workbooks, ours excluded), or a file.  Order kept, duplicates dropped.
    Also the files a findings.json lists that are no longer found (as unreadable reports)."""
    out: list[Path] = []
    missing: list[FileReport] = []
    seen: set[Path] = set()

    def add(path: Path) -> None:
        key = path.resolve()
        if skip is not None and key == skip.resolve():
            if not is_rollup(path):  # an earlier roll-up may be replaced; a return never
                raise AggregateError(f"输出文件 {skip} 是一份报送的报表，不能覆盖，请换一个文件名")
            return
        if key not in seen:
            seen.add(key)
            out.append(path)

    for source in map(Path, sources):
        if source.is_dir() and (source / FINDINGS_JSON).is_file():
            for path, entry in _listed(source):
                if path is not None:
                    add(path)
                else:
                    missing.append(FileReport(path=entry["path"], agency=entry.get("agency"),
                                              year=entry.get("year"), unreadable=True))
        elif source.is_dir():
            for path in sorted(source.rglob("*")):
                if _is_return(path, source):
                    add(path)
        elif source.is_file():
            add(source)
        else:
            raise AggregateError(f"找不到 {source}（既不是文件也不是文件夹）")
    return out, missing


def is_rollup(path: Path) -> bool:
    """Whether ``path`` is a roll-up this module wrote (its custom property says so)."""
    try:
        with zipfile.ZipFile(path) as z:
            return f'name="{ROLLUP_PROPERTY}"'.encode() in z.read("docProps/custom.xml")
    except (OSError, KeyError, zipfile.BadZipFile):
        return False


def _listed(outdir: Path) -> list[tuple[Path | None, dict]]:
    try:
        return findings_json.listed(outdir)
    except findings_json.FindingsError as exc:
        raise AggregateError(str(exc)) from None


def _is_return(path: Path, root: Path) -> bool:
    """A workbook an agency sent: not hidden, not a partial write, not our own output
    (annotated copies, summaries live in a check OUTDIR, which has findings.json)."""
    rel = path.relative_to(root).parts
    if any(p.startswith((".", "~$")) for p in rel) or not path.is_file():
        return False
    if any((root.joinpath(*rel[:i]) / FINDINGS_JSON).is_file() for i in range(1, len(rel))):
        return False

    return path.suffix.lower() in SUFFIXES


# ---------------------------------------------------------------------------- choosing


def _who(report: FileReport) -> str:
    return report.agency or report.meta.get("agency") or agency_from_filename(report.path)


def _year_zh(year: int | None) -> str:
    return f"{year}年度" if year else "年度不明"


def _most_common(values: list, order: list) -> object:
    """The most common value; on a tie, the one first in ``order`` (newest first)."""
    counts = Counter(values)
    top = max(counts.values())
    return next(v for v in order if counts.get(v) == top)


def _format_zh(fmt: spec.Format) -> str:
    return f"{fmt.years[0]}年格式（{fmt.document}）"


def _status_reason(report: FileReport) -> str:
    if report.status == UNREADABLE:
        first = next((f.message for f in report.findings), "")
        return f"{STATUS_ZH[UNREADABLE]}：{first}" if first else STATUS_ZH[UNREADABLE]
    return f"{STATUS_ZH[report.status]}：校验有 {report.errors} 处错误，改正并通过校验后才能汇总"


def _replaced(reports: list[FileReport], received: dict[str, str] | None) -> dict[int, str]:
    """id of each return its agency replaced -> why it is left out.  The return used is
    the one `disclosure check` uses (coverage.duplicates: same name or same bytes, then
    choice.rank), whatever its status: figures an agency replaced are never added in,
    even when its newer return has yet to pass."""
    out = {}
    for dup in duplicates([r for r in reports if not r.meta.get("rollup")], received):
        used = dup.used
        name, taken = Path(used.path).name, used.status == PASS
        for r in dup.reports[1:]:
            if r.sha256 and r.sha256 == used.sha256:
                why = f"与已采用的 {name} 内容完全相同" if taken else f"与 {name} 内容完全相同，以该文件为准"
            elif taken:
                why = f"同一单位已采用 {name}，理由：{dup.why}"
            else:
                why = f"同一单位以 {name} 为准（理由：{dup.why}），该文件尚未通过校验"
            out[id(r)] = "重复报送：" + why
    return out


def choose(reports: list[FileReport], *, year: int | None = None, received: dict[str, str] | None = None
           ) -> tuple[spec.Format | None, int | None, list[FileReport], list[LeftOut]]:
    """(format, year, included, left out) — see the module docstring for the order."""
    left = [LeftOut(r, "这是汇总表，不是单位报表") for r in reports if r.meta.get("rollup")]
    keep = [r for r in reports if not r.meta.get("rollup")]
    years = [r.year for r in keep if r.year is not None and r.status != UNREADABLE]
    if year is None and years:
        year = _most_common(years, sorted(set(years), reverse=True))
    if year is not None:
        for r in [r for r in keep if r.year is not None and r.year != year]:
            keep.remove(r)
            left.append(LeftOut(r, f"报表年度为 {r.year} 年，汇总的是 {year} 年"))
    replaced = _replaced(keep, received)
    for r in list(keep):
        if id(r) in replaced or r.status != PASS:
            keep.remove(r)
            left.append(LeftOut(r, replaced.get(id(r)) or _status_reason(r)))

    fmt = None
    if keep:
        if year is not None:  # the year decides the format (a return of another is F9)
            fmt = spec.for_year(year)
        else:
            fmt = spec.get(_most_common([r.format for r in keep], list(spec.formats())))
        for r in [r for r in keep if r.format != fmt.id]:
            keep.remove(r)
            left.append(LeftOut(r, f"报表格式为{_format_zh(spec.get(r.format))}，"
                                   f"与汇总采用的{_format_zh(fmt)}不同"))
        for r in [r for r in keep if any(k not in r.figures for k in fmt.figures)]:
            keep.remove(r)  # cannot happen for a passing return; never add a partial one
            left.append(LeftOut(r, "部分数字无法读取"))

    included = keep
    position = {id(r): i for i, r in enumerate(reports)}
    included.sort(key=lambda r: position[id(r)])
    return fmt, year, included, left


def _rounding_note(fmt: spec.Format) -> str:
    """How the sums of a format's decimal kinds are kept, for the roll-up's note."""
    used = {f.kind for f in fmt.figures.values()}
    said = [f"{k.noun}以{k.unit}计，保留 {k.places} 位小数" for k in kinds.kinds().values()
            if k.id in used and not k.whole]
    return f"（{'；'.join(said)}）" if said else ""


def add_up(fmt: spec.Format, reports: list[FileReport]) -> dict[str, float]:
    """Every figure of ``fmt`` summed over ``reports``, kept as its kind keeps it
    (kinds.yaml: counts whole, amounts in 万元 to 4 places)."""
    sums: dict[str, float] = {}
    for key, fig in fmt.figures.items():
        kind = kinds.kind(fig.kind)
        if kind.whole:  # whole numbers (R6.fraction passed), summed exactly whatever their size
            sums[key] = sum(int(r.figures[key]) for r in reports)
        else:
            sums[key] = kind.round(math.fsum(float(r.figures[key]) for r in reports))
    return sums


# ---------------------------------------------------------------------------- the workbook


def aggregate(sources: list[Path], output: Path, *, region: str | None = None,
              year: int | None = None, workers: int | None = None, limits=None, ledger=None) -> RollUp:
    """Roll up the passing returns named by ``sources`` into ``output`` (atomically);
    ``ledger`` (when kept) says when each return was received, for the choice."""
    output = Path(output)
    paths, missing = collect(list(map(Path, sources)), skip=output)
    if not paths and not missing:
        raise AggregateError("没有找到报表文件（.xlsx/.xlsm/.xls/.et）")
    reports = batch.read_reports(paths, workers=workers, limits=limits) if paths else []
    received = ledger.received(r.sha256 for r in reports if r.sha256) if ledger is not None else None
    fmt, year, included, left = choose(reports, year=year, received=received)
    left += [LeftOut(r, f"找不到文件 {r.path}（校验结果 {FINDINGS_JSON} 中记录的路径），"
                        "请在运行 disclosure check 的文件夹中汇总，或直接指定报表文件夹") for r in missing]
    if fmt is None or not included:
        lines = [f"  {_who(x.report)}（{Path(x.report.path).name}）：{x.reason}" for x in left]
        raise AggregateError("没有可汇总的报表：没有通过校验的报表。\n" + "\n".join(lines))
    region = region.strip() if region and region.strip() else None
    title_agency = f"{region}（汇总）" if region else "汇总"
    sums = add_up(fmt, included)
    rollup = RollUp(output, fmt.id, region, year, title_agency, sums, included, left)
    try:
        data = template.render(fmt, agency=title_agency, year=year, locked=False, values=sums,
                               instructions=False)
    except template.TemplateError as exc:
        raise AggregateError(f"无法生成汇总表：{exc}") from None
    atomic.write_bytes(output, _with_note(data, fmt, rollup))
    return rollup


_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
NOTE_HEADERS = ("序号", "单位名称", "文件", "说明")
NOTE_WIDTHS = (6, 26, 34, 40)  # landscape A4 at 100 %: 9 pt or more on paper


def _print_setup(ws, rollup: RollUp) -> None:
    """Landscape A4, one page wide at full size, the region and year on every page."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    who = (rollup.region or "").replace("&", "&&")
    ws.oddHeader.left.text = f"{who}{_year_zh(rollup.year)}汇总"
    ws.oddHeader.right.text = "&A"
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"


def _with_note(xlsx: bytes, fmt: spec.Format, rollup: RollUp) -> bytes:
    """The template bytes with the roll-up's own first sheet 汇总说明 (region, year, counts,
    who is in and who is out) and the roll-up mark; openpyxl keeps the defined names,
    validations and the stamp."""
    wb = openpyxl.load_workbook(io.BytesIO(xlsx))
    ws = wb.create_sheet(NOTE_SHEET, index=0)
    wb.active = 0
    for other in wb.worksheets[1:]:
        other.sheet_view.tabSelected = False
    for i, width in enumerate(NOTE_WIDTHS):
        ws.column_dimensions[chr(ord("A") + i)].width = width
    region = rollup.region or ""
    ws.append([f"{region}{_year_zh(rollup.year)}{fmt.title}汇总说明"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(NOTE_HEADERS))
    ws.append([f"汇总格式：{fmt.document}；纳入汇总 {len(rollup.included)} 个单位；"
               f"未纳入 {len(rollup.left_out)} 份。汇总表中的数字为纳入汇总的各单位报表之和"
               f"{_rounding_note(fmt)}。"])
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(NOTE_HEADERS))
    ws["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[2].height = 32
    _print_setup(ws, rollup)

    def section(heading: str, rows: list[tuple[FileReport, str]]) -> None:
        ws.append([])
        ws.append([f"{heading}（{len(rows)}）"])
        ws.cell(ws.max_row, 1).font = Font(bold=True)
        ws.append(list(NOTE_HEADERS))
        for c in range(1, len(NOTE_HEADERS) + 1):
            cell = ws.cell(ws.max_row, c)
            cell.font, cell.border = Font(bold=True), _BOX
        for n, (report, note) in enumerate(rows, 1):
            values = [n, shown(_who(report)), shown_name(report.path), shown(note)]
            ws.append(values)
            for c in range(1, len(NOTE_HEADERS) + 1):
                cell = ws.cell(ws.max_row, c)
                cell.border = _BOX
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            # openpyxl cannot size a row to its wrapped text: tall enough for the longest.
            lines = max(text_lines(str(v), w) for v, w in zip(values, NOTE_WIDTHS))
            ws.row_dimensions[ws.max_row].height = 15 * lines + 3

    section("纳入汇总的单位", [(r, STATUS_ZH[PASS] + ("；未填写年度" if r.year is None else ""))
                          for r in rollup.included])
    section("未纳入汇总的报表", [(x.report, x.reason) for x in rollup.left_out])
    ws.freeze_panes = None
    for row in ws.iter_rows():  # agency text stays text: "=…" must never become a formula
        for cell in row:
            if isinstance(cell.value, str) and cell.data_type == "f":
                cell.data_type = "s"
    wb.custom_doc_props.append(StringProperty(name=ROLLUP_PROPERTY, value=str(len(rollup.included))))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
