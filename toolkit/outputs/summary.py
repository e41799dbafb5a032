"""The office's view of a batch: ``OUTDIR/汇总.xlsx``.

Sheets: 汇总 (one row per file: verdict, counts, the first problems in words, a link to
the annotated copy), 主要数字 (every agency's key figures, columns named by the spec's
figure titles), 图表 (verdicts by status, most frequent problems by rule), and 报送情况
when a roster coverage is given.  Everything an agency typed is written as text: a value
beginning with = + - @ never becomes a formula.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import xlsxwriter

from toolkit.common.atomic import atomic_path
from toolkit.common.display import shown
from toolkit.common.layout import SUMMARY_NAME
from toolkit.formats import kinds, spec
from toolkit.formats.catalogue import rules
from toolkit.formats.findings import FAIL, PASS, STATUS_ZH, UNREADABLE, FileReport
from toolkit.outputs.coverage import USED_RULE, unused_files

FIRST_PROBLEMS = 3  # messages shown per file in 主要问题
TOP_RULES = 10  # rules in the problems chart

SUMMARY_COLUMNS = (  # header, width
    ("序号", 6), ("单位名称", 30), ("年度", 7), ("文件", 30), ("状态", 9),
    ("错误数", 7), ("提醒数", 7), ("主要问题", 70), ("批注文件", 30),
)
STATUS_COLORS = {PASS: "#C6EFCE", FAIL: "#FFC7CE", UNREADABLE: "#D9D9D9"}
STATUS_CHART_COLORS = {PASS: "#63BE7B", FAIL: "#F8696B", UNREADABLE: "#A6A6A6"}
NO_AGENCY = "（未能读取）"


def write_summary(reports: list[FileReport], outdir: str | os.PathLike, *, coverage=None,
                  annotated: dict[str, Path | str] | None = None, progress=None) -> Path:
    """Writes OUTDIR/汇总.xlsx atomically and returns its path.

    ``annotated`` maps a report's path to its annotated copy (a Path, linked relative to
    OUTDIR) or to the 中文 reason there is none (toolkit.outputs.annotate.Annotated.for_summary()).
    ``coverage`` is a toolkit.outputs.coverage.Coverage; ``progress`` (a
    toolkit.outputs.status.Progress, when a ledger is kept) becomes the first sheet."""
    outdir = Path(outdir)
    target = outdir / SUMMARY_NAME
    annotated = annotated or {}
    with atomic_path(target) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_numbers": False,
                                            "strings_to_urls": False, "constant_memory": False})
        wb.set_properties({"title": "政府信息公开工作年度报告校验汇总", "author": "校验工具"})
        st = _Styles(wb)
        names = _display_names(reports)
        if progress is not None:
            from toolkit.outputs import progress_sheet

            progress_sheet.write(wb, progress)
        _summary_sheet(wb, st, reports, names, annotated, outdir)
        _figures_sheet(wb, st, reports, coverage)
        _charts_sheet(wb, st, reports)
        if coverage is not None:
            _coverage_sheet(wb, st, coverage, names)
        wb.close()
    return target


class _Styles:
    def __init__(self, wb):
        border = {"border": 1, "border_color": "#999999"}
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.note = wb.add_format({"italic": True, "font_color": "#595959"})
        self.header = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "text_wrap": True,
                                     "align": "center", "valign": "vcenter", **border})
        self.text = wb.add_format({"valign": "top", **border})
        self.wrap = wb.add_format({"valign": "top", "text_wrap": True, **border})
        self.int = wb.add_format({"valign": "top", "num_format": "0", **border})
        self.figure = {k.id: wb.add_format({"valign": "top", "num_format": k.number_format, **border})
                       for k in kinds.kinds().values()}
        self.link = wb.add_format({"valign": "top", "font_color": "#0563C1", "underline": 1, **border})
        self.total = wb.add_format({"bold": True, "num_format": "0", "top": 2, **border})
        self.figure_total = {k.id: wb.add_format({"bold": True, "num_format": k.number_format, "top": 2, **border})
                             for k in kinds.kinds().values()}
        self.status = {s: wb.add_format({"valign": "top", "bg_color": c, **border})
                       for s, c in STATUS_COLORS.items()}


def _s(ws, row: int, col: int, value, fmt=None) -> None:
    """Text as text, never a formula, number or link; no text, an empty cell."""
    text = "" if value is None else shown(value)[:32000]
    if text:
        ws.write_string(row, col, text, fmt)
    else:
        ws.write_blank(row, col, None, fmt)


def _who_cells(ws, st, row: int, n: int, report: FileReport, agency_fmt) -> None:
    """The first three columns of a row: 序号, 单位名称, 年度."""
    ws.write_number(row, 0, n, st.int)
    _s(ws, row, 1, report.agency or NO_AGENCY, agency_fmt)
    if report.year is None:
        _s(ws, row, 2, "", st.text)
    else:
        ws.write_number(row, 2, report.year, st.int)


def _display_names(reports: list[FileReport]) -> dict[str, str]:
    """Each file as shown: its path relative to the folder all files share."""
    paths = [os.path.abspath(r.path) for r in reports]
    try:
        root = os.path.commonpath([os.path.dirname(p) for p in paths]) if paths else ""
    except ValueError:  # different drives
        root = ""
    return {r.path: (os.path.relpath(p, root) if root else p) for r, p in zip(reports, paths)}


def _problems(report: FileReport) -> str:
    shown = []
    for f in report.findings[:FIRST_PROBLEMS]:
        where = "".join(x for x in (f.sheet and f"{f.sheet} ", f.cell) if x)
        shown.append(f"{where}：{f.message}" if where else f.message)
    more = len(report.findings) - len(shown)
    return "；\n".join(shown) + (f"；\n……等共 {len(report.findings)} 项" if more > 0 else "")


def _summary_sheet(wb, st, reports, names, annotated, outdir: Path) -> None:
    ws = wb.add_worksheet("汇总")
    counts = Counter(r.status for r in reports)
    _s(ws, 0, 0, f"校验汇总：共 {len(reports)} 个文件，" + "，".join(
        f"{STATUS_ZH[s]} {counts.get(s, 0)} 个" for s in (PASS, FAIL, UNREADABLE)), st.title)
    header_row = 2
    for c, (title, width) in enumerate(SUMMARY_COLUMNS):
        _s(ws, header_row, c, title, st.header)
        ws.set_column(c, c, width)
    for i, r in enumerate(reports):
        row = header_row + 1 + i
        _who_cells(ws, st, row, i + 1, r, st.wrap)
        _s(ws, row, 3, names[r.path], st.wrap)
        _s(ws, row, 4, STATUS_ZH.get(r.status, r.status), st.status.get(r.status, st.text))
        ws.write_number(row, 5, r.errors, st.int)
        ws.write_number(row, 6, r.warnings, st.int)
        problems = _problems(r)
        _s(ws, row, 7, problems, st.wrap)
        _annotated_cell(ws, st, row, 8, r, annotated.get(r.path), outdir)
        lines = sum(max(1, -(-len(part) // 38)) for part in problems.split("\n")) if problems else 1
        ws.set_row(row, max(18, 15 * lines + 3))
    last = header_row + len(reports)
    ws.autofilter(header_row, 0, max(last, header_row), len(SUMMARY_COLUMNS) - 1)
    ws.freeze_panes(header_row + 1, 2)
    ws.set_row(header_row, 22)
    _page(ws, header_row)


def _annotated_cell(ws, st, row, col, report, value, outdir: Path) -> None:
    if isinstance(value, Path):
        try:
            rel = Path(os.path.relpath(value, outdir)).as_posix()
        except ValueError:
            rel = value.as_posix()
        ws.write_url(row, col, "external:" + rel, st.link, string=value.name, tip="打开批注文件")
    elif isinstance(value, str):
        _s(ws, row, col, value, st.wrap)
    elif not report.findings:
        _s(ws, row, col, "无需修改", st.text)
    else:
        _s(ws, row, col, "未生成", st.text)


def _unique(fmts: list[spec.Format]) -> list[spec.Format]:
    seen: dict[str, spec.Format] = {}
    for f in fmts:
        seen.setdefault(f.id, f)
    return list(seen.values())


def _fmt_of(report: FileReport) -> spec.Format | None:
    try:
        return spec.get(report.format) if report.format else None
    except KeyError:
        return None


def _figures_sheet(wb, st, reports, coverage) -> None:
    """Key figures per readable file; columns are the union of the formats' key figures."""
    ws = wb.add_worksheet("主要数字")
    readable = [r for r in reports if r.status != UNREADABLE]
    fmts = [f for f in (_fmt_of(r) for r in readable) if f] or [spec.get()]
    columns: dict[str, spec.Figure] = {}
    for fmt in _unique(fmts):  # the first format seen gives the column order
        for key in fmt.key_figures:
            if key in fmt.figures:
                columns.setdefault(key, fmt.figures[key])
    unused = unused_files(reports, coverage)
    _s(ws, 0, 0, "主要数字（空白表示该数字有误或未能读取，见“汇总”表；合计只含通过校验的文件，"
                 "不含重复报送中未采用的文件，与 disclosure aggregate 的汇总表一致）", st.note)
    head = ["序号", "单位名称", "年度", "状态"] + [f.title for f in columns.values()] + ["备注"]
    header_row = 2
    for c, title in enumerate(head):
        _s(ws, header_row, c, title, st.header)
    ws.set_column(0, 0, 6)
    ws.set_column(1, 1, 30)
    ws.set_column(2, 3, 8)
    ws.set_column(4, 3 + len(columns), 16)
    ws.set_column(4 + len(columns), 4 + len(columns), 24)
    ws.set_row(header_row, 90)
    # Counts are summed as ints: a figure beyond what a double holds stays exact.
    totals = {key: 0 if kinds.kind(fig.kind).whole else 0.0 for key, fig in columns.items()}
    for i, r in enumerate(readable):
        row = header_row + 1 + i
        _who_cells(ws, st, row, i + 1, r, st.text)
        _s(ws, row, 3, STATUS_ZH.get(r.status, r.status), st.status.get(r.status, st.text))
        flagged = {f.key for f in r.findings if f.severity == "error"}
        for c, (key, fig) in enumerate(columns.items(), start=4):
            value = None if key in flagged else r.figures.get(key)
            fmt = st.figure[fig.kind]
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                _number(ws, row, c, value, fmt)
                if r.path not in unused and r.status == PASS:
                    totals[key] += int(value) if kinds.kind(fig.kind).whole else value
            else:
                ws.write_blank(row, c, None, fmt)
        _s(ws, row, 4 + len(columns), "重复报送，未采用" if r.path in unused else "", st.text)
    row = header_row + 1 + len(readable)
    _s(ws, row, 1, "合计", st.total)
    for c, (key, fig) in enumerate(columns.items(), start=4):
        _number(ws, row, c, kinds.kind(fig.kind).round(totals[key]), st.figure_total[fig.kind])
    ws.freeze_panes(header_row + 1, 2)
    ws.autofilter(header_row, 0, max(row - 1, header_row), len(head) - 1)
    _page(ws, header_row)


def _number(ws, row: int, col: int, value: float | int, fmt) -> None:
    """A figure as a number, or as its digits where a spreadsheet number (a double)
    would round it."""
    if isinstance(value, int) and float(value) != value:
        ws.write_string(row, col, str(value), fmt)
    else:
        ws.write_number(row, col, value, fmt)


def _charts_sheet(wb, st, reports) -> None:
    ws = wb.add_worksheet("图表")
    ws.set_column(0, 0, 12)
    ws.set_column(1, 1, 26)
    ws.set_column(2, 3, 10)
    # Verdicts by status: the table the pie chart reads.
    _s(ws, 0, 0, "校验结论", st.title)
    _s(ws, 1, 0, "状态", st.header)
    _s(ws, 1, 1, "文件数", st.header)
    counts = Counter(r.status for r in reports)
    statuses = (PASS, FAIL, UNREADABLE)
    for i, s in enumerate(statuses, start=2):
        _s(ws, i, 0, STATUS_ZH[s], st.status[s])
        ws.write_number(i, 1, counts.get(s, 0), st.int)
    if reports:
        pie = wb.add_chart({"type": "pie"})
        pie.add_series({
            "name": "校验结论",
            "categories": ["图表", 2, 0, 4, 0],
            "values": ["图表", 2, 1, 4, 1],
            "points": [{"fill": {"color": STATUS_CHART_COLORS[s]}} for s in statuses],
            "data_labels": {"value": True, "category": True, "leader_lines": True},
        })
        pie.set_title({"name": f"校验结论（共 {len(reports)} 个文件）"})
        pie.set_legend({"position": "bottom"})
        ws.insert_chart("F2", pie, {"x_scale": 1.1, "y_scale": 1.1})
    # Most frequent problems by rule: findings and files per rule.
    top = 7
    _s(ws, top, 0, "问题最多的规则", st.title)
    for c, title in enumerate(("规则", "名称", "问题数", "涉及文件数")):
        _s(ws, top + 1, c, title, st.header)
    per_rule = Counter(f.rule for r in reports for f in r.findings)
    files = Counter(rule_id for r in reports for rule_id in {f.rule for f in r.findings})
    ranked = sorted(per_rule, key=lambda k: (-per_rule[k], k))[:TOP_RULES]
    catalogue = rules()
    for i, rule_id in enumerate(ranked, start=top + 2):
        _s(ws, i, 0, rule_id, st.text)
        _s(ws, i, 1, f"{rule_id} {catalogue[rule_id].title}" if rule_id in catalogue else rule_id, st.text)
        ws.write_number(i, 2, per_rule[rule_id], st.int)
        ws.write_number(i, 3, files[rule_id], st.int)
    if not ranked:
        _s(ws, top + 2, 0, "本批次没有发现问题。")
        return
    first, end = top + 2, top + 1 + len(ranked)
    bar = wb.add_chart({"type": "bar"})
    for col, name, color in ((2, "问题数", "#F8696B"), (3, "涉及文件数", "#5B9BD5")):
        bar.add_series({
            "name": name,
            "categories": ["图表", first, 1, end, 1],
            "values": ["图表", first, col, end, col],
            "fill": {"color": color},
            "data_labels": {"value": True},
        })
    bar.set_title({"name": f"问题最多的规则（前 {len(ranked)} 条）"})
    bar.set_y_axis({"reverse": True})  # the most frequent on top
    bar.set_x_axis({"min": 0, "major_gridlines": {"visible": True}})
    bar.set_legend({"position": "bottom"})
    ws.insert_chart("F20", bar, {"x_scale": 1.3, "y_scale": 1.2 + 0.05 * len(ranked)})
    ws.set_landscape()
    ws.fit_to_pages(1, 0)


def _coverage_sheet(wb, st, cov, names) -> None:
    ws = wb.add_worksheet("报送情况")
    _s(ws, 0, 0, f"报送情况：名单 {len(cov.agencies)} 个单位，已报送 {len(cov.submitted)} 个，"
                 f"未报送 {len(cov.missing)} 个，重复报送 {len(cov.duplicates)} 个，"
                 f"名单外文件 {len(cov.outside)} 个（重复报送时{USED_RULE}）", st.title)
    head = ("序号", "单位名称", "联系人", "电子邮箱", "报送情况", "文件数", "采用文件", "状态", "说明")
    widths = (6, 30, 10, 26, 10, 7, 30, 9, 40)
    header_row = 2
    for c, (title, width) in enumerate(zip(head, widths)):
        _s(ws, header_row, c, title, st.header)
        ws.set_column(c, c, width)
    row = header_row
    for a in cov.agencies:
        row += 1
        used = a.used
        note = ""
        if len(a.reports) > 1:
            note = f"{a.why}；未采用：" + "、".join(names.get(r.path, r.path) for r in a.reports[1:])
        if used is not None and used.path in a.by_filename:
            note = ("按文件名匹配（文件中未能读取单位名称）；" + note).rstrip("；")
        ws.write_number(row, 0, row - header_row, st.int)
        _s(ws, row, 1, a.name, st.text)
        _s(ws, row, 2, getattr(a.entry, "contact", ""), st.text)
        _s(ws, row, 3, getattr(a.entry, "email", ""), st.text)
        _s(ws, row, 4, a.status, st.status[FAIL] if not a.reports else st.text)
        ws.write_number(row, 5, len(a.reports), st.int)
        _s(ws, row, 6, names.get(used.path, used.path) if used else "", st.wrap)
        _s(ws, row, 7, STATUS_ZH.get(used.status, used.status) if used else "",
           st.status.get(used.status, st.text) if used else st.text)
        _s(ws, row, 8, note, st.wrap)
    for label, group in (("名单外", cov.outside), ("无法识别单位", cov.unidentified)):
        for r in group:
            row += 1
            ws.write_number(row, 0, row - header_row, st.int)
            _s(ws, row, 1, r.agency or NO_AGENCY, st.text)
            _s(ws, row, 2, "", st.text)
            _s(ws, row, 3, "", st.text)
            _s(ws, row, 4, label, st.status[UNREADABLE])
            ws.write_number(row, 5, 1, st.int)
            _s(ws, row, 6, names.get(r.path, r.path), st.wrap)
            _s(ws, row, 7, STATUS_ZH.get(r.status, r.status), st.status.get(r.status, st.text))
            _s(ws, row, 8, "单位名称不在名单中" if label == "名单外" else "文件中未能读取单位名称，文件名也不含名单中的单位", st.wrap)
    ws.autofilter(header_row, 0, max(row, header_row), len(head) - 1)
    ws.freeze_panes(header_row + 1, 2)
    _page(ws, header_row)


def _page(ws, header_row: int) -> None:
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.repeat_rows(header_row)
    ws.fit_to_pages(1, 0)
