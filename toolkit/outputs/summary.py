"""The office's view of a batch: ``OUTDIR/汇总.xlsx``.

Sheets: 报送情况 first (the state of the campaign, one row per agency: campaign.py), 全部文件
(one row per file: verdict, counts, the first problems in words, a link to the annotated
copy), 主要数字 (every agency's key figures, columns named by the spec's figure titles;
合计 adds each passing agency once), 图表 (agencies by verdict, 未报送 included; the most
frequent problems by rule title).  Everything an agency typed is written as text: a value
beginning with = + - @ never becomes a formula.  Every sheet prints on A4 at 9 pt or more
(sheets.py).
"""

from __future__ import annotations

import math
import os
from collections import Counter
from datetime import datetime
from pathlib import Path

import xlsxwriter

from toolkit.common.atomic import atomic_path
from toolkit.common.layout import SUMMARY_NAME
from toolkit.formats import kinds, spec
from toolkit.formats.catalogue import rules
from toolkit.formats.findings import FAIL, PASS, STATUS_ZH, UNREADABLE, FileReport
from toolkit.outputs.campaign import NOT_RETURNED, agency_from_filename, campaign_rows, campaign_sheet
from toolkit.outputs.coverage import USED_RULE, unused_files
from toolkit.outputs.sheets import FONT_PT, Styles, fit_row, number, page, put

FIRST_PROBLEMS = 3  # messages shown per file in 主要问题
TOP_RULES = 10  # rules in the problems chart
TITLE = "政府信息公开工作年度报告报表校验汇总"

FILE_COLUMNS = (  # header, width (sheets.PRINTABLE_UNITS in all)
    ("序号", 4), ("单位名称", 18), ("年度", 5), ("文件", 22), ("状态", 7),
    ("错误数", 5), ("提醒数", 5), ("主要问题", 32), ("批注文件", 18),
)
STATUS_CHART_COLORS = {PASS: "#63BE7B", FAIL: "#F8696B", UNREADABLE: "#A6A6A6", NOT_RETURNED: "#F4B183"}


def write_summary(reports: list[FileReport], outdir: str | os.PathLike, *, coverage=None,
                  annotated: dict[str, Path | str] | None = None, progress=None) -> Path:
    """Writes OUTDIR/汇总.xlsx atomically and returns its path.

    ``annotated`` maps a report's path to its annotated copy (a Path, linked relative to
    OUTDIR) or to the 中文 reason there is none (toolkit.outputs.annotate.Annotated.for_summary()).
    ``coverage`` is a toolkit.outputs.coverage.Coverage; ``progress`` (a
    toolkit.outputs.status.Progress, when a ledger is kept) becomes the first sheet,
    before 报送情况."""
    outdir = Path(outdir)
    target = outdir / SUMMARY_NAME
    annotated = annotated or {}
    names = _display_names(reports)
    rows = campaign_rows(reports, coverage, names)
    years = Counter(r.year for r in reports if r.year)
    header = (f"{years.most_common(1)[0][0]}年度" if years else "") + TITLE
    when = datetime.now().strftime("%Y-%m-%d %H:%M")
    with atomic_path(target) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_numbers": False,
                                            "strings_to_urls": False, "constant_memory": False,
                                            "default_format_properties": {"font_size": FONT_PT}})
        wb.set_properties({"title": TITLE, "author": "校验工具"})
        st = Styles(wb)
        if progress is not None:
            from toolkit.outputs import progress_sheet

            progress_sheet.write(wb, progress)
        campaign_sheet(wb, st, rows, roster=coverage is not None, when=when, header=header,
                       problems=_problems)
        _files_sheet(wb, st, reports, names, annotated, outdir, header)
        _figures_sheet(wb, st, reports, coverage, header)
        _charts_sheet(wb, st, reports, rows, header)
        wb.close()
    return target


def _display_names(reports: list[FileReport]) -> dict[str, str]:
    """Each file as shown: its path relative to the folder all files share."""
    paths = [os.path.abspath(r.path) for r in reports]
    try:
        root = os.path.commonpath([os.path.dirname(p) for p in paths]) if paths else ""
    except ValueError:  # different drives
        root = ""
    if not root:
        return {r.path: p for r, p in zip(reports, paths)}
    prefix = root if root.endswith(os.sep) else root + os.sep  # every path lies under root
    return {r.path: p[len(prefix):] for r, p in zip(reports, paths)}


def _problems(report: FileReport) -> str:
    shown = []
    for f in report.findings[:FIRST_PROBLEMS]:
        where = " ".join(x for x in (f.sheet, f.cell) if x)
        shown.append(f"{where}：{f.message}" if where else f.message)
    more = len(report.findings) - len(shown)
    return "；\n".join(shown) + (f"；\n……等共 {len(report.findings)} 项" if more > 0 else "")


def _agency(report: FileReport) -> str:
    """The agency as read, or recognised from the file name (said so)."""
    if report.agency:
        return report.agency
    return f"{agency_from_filename(report.path)}（按文件名）"


def _files_sheet(wb, st, reports, names, annotated, outdir: Path, header: str) -> None:
    ws = wb.add_worksheet("全部文件")
    counts = Counter(r.status for r in reports)
    put(ws, 0, 0, f"全部文件：共 {len(reports)} 个，" + "，".join(
        f"{STATUS_ZH[s]} {counts.get(s, 0)} 个" for s in (PASS, FAIL, UNREADABLE)), st.title)
    ws.set_row(0, 24)
    header_row = 2
    widths = [w for _, w in FILE_COLUMNS]
    for c, (title, width) in enumerate(FILE_COLUMNS):
        put(ws, header_row, c, title, st.header)
        ws.set_column(c, c, width)
    for i, r in enumerate(reports):
        row = header_row + 1 + i
        ws.write_number(row, 0, i + 1, st.int)
        put(ws, row, 1, _agency(r), st.wrap)
        ws.write_number(row, 2, r.year, st.int) if r.year is not None else put(ws, row, 2, "", st.text)
        put(ws, row, 3, names[r.path], st.wrap)
        put(ws, row, 4, STATUS_ZH.get(r.status, r.status), st.status.get(r.status, st.text))
        ws.write_number(row, 5, r.errors, st.int)
        ws.write_number(row, 6, r.warnings, st.int)
        problems = _problems(r)
        put(ws, row, 7, problems, st.wrap)
        link = _annotated_cell(ws, st, row, 8, r, annotated.get(r.path), outdir)
        fit_row(ws, row, list(zip([None, _agency(r), None, names[r.path], None, None, None, problems, link],
                                  widths)))
    last = header_row + len(reports)
    ws.autofilter(header_row, 0, max(last, header_row), len(FILE_COLUMNS) - 1)
    ws.freeze_panes(header_row + 1, 2)
    ws.set_row(header_row, 22)
    page(ws, header_row, header=header)


def _annotated_cell(ws, st, row, col, report, value, outdir: Path) -> str:
    if isinstance(value, Path):
        try:
            rel = Path(os.path.relpath(value, outdir)).as_posix()
        except ValueError:
            rel = value.as_posix()
        ws.write_url(row, col, "external:" + rel, st.link, string=value.name, tip="打开批注文件")
        return value.name
    text = value if isinstance(value, str) else ("无需修改" if not report.findings else "未生成")
    put(ws, row, col, text, st.wrap)
    return text


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


def _figures_sheet(wb, st, reports, coverage, header: str) -> None:
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
    head = ["序号", "单位名称", "年度", "状态"] + [f.title for f in columns.values()] + ["备注"]
    widths = [4, 16, 5, 6] + [8] * len(columns) + [10]
    ws.merge_range(0, 0, 0, len(head) - 1, "", st.note)
    put(ws, 0, 0, "主要数字：空白表示该数字有误或未能读取（见“全部文件”表）。合计只计通过校验的单位，"
                  f"每个单位只计一次（重复报送时{USED_RULE}），与 disclosure aggregate 的汇总表一致。", st.note)
    ws.set_row(0, 32)
    header_row = 2
    for c, (title, width) in enumerate(zip(head, widths)):
        put(ws, header_row, c, title, st.header)
        ws.set_column(c, c, width)
    fit_row(ws, header_row, list(zip(head, widths)))
    # Counts are summed as ints: a figure beyond what a double holds stays exact.
    totals = {key: 0 if kinds.kind(fig.kind).whole else 0.0 for key, fig in columns.items()}
    counted = 0
    for i, r in enumerate(readable):
        row = header_row + 1 + i
        ws.write_number(row, 0, i + 1, st.int)
        put(ws, row, 1, _agency(r), st.wrap)
        ws.write_number(row, 2, r.year, st.int) if r.year is not None else put(ws, row, 2, "", st.text)
        put(ws, row, 3, STATUS_ZH.get(r.status, r.status), st.status.get(r.status, st.text))
        flagged = {f.key for f in r.findings if f.severity == "error"}
        counts = r.path not in unused and r.status == PASS
        counted += counts
        for c, (key, fig) in enumerate(columns.items(), start=4):
            value = None if key in flagged else r.figures.get(key)
            fmt = st.figure[fig.kind]
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                number(ws, row, c, value, fmt)
                if counts:
                    totals[key] += int(value) if kinds.kind(fig.kind).whole else value
            else:
                ws.write_blank(row, c, None, fmt)
        remark = "重复报送，未采用" if r.path in unused else ("未计入合计" if r.status != PASS else "")
        put(ws, row, 4 + len(columns), remark, st.wrap)
        fit_row(ws, row, [(_agency(r), widths[1]), (remark, widths[-1])])
    row = header_row + 1 + len(readable)
    put(ws, row, 1, f"合计（通过校验的 {counted} 个单位）", st.total_text)
    for c in (0, 2, 3, 4 + len(columns)):
        put(ws, row, c, "", st.total_text)
    for c, (key, fig) in enumerate(columns.items(), start=4):
        number(ws, row, c, kinds.kind(fig.kind).round(totals[key]), st.figure_total[fig.kind])
    fit_row(ws, row, [(f"合计（通过校验的 {counted} 个单位）", widths[1])])
    ws.freeze_panes(header_row + 1, 2)
    ws.autofilter(header_row, 0, max(row - 1, header_row), len(head) - 1)
    page(ws, header_row, header=header)


def _charts_sheet(wb, st, reports, rows, header: str) -> None:
    ws = wb.add_worksheet("图表")
    ws.set_column(0, 0, 8)
    ws.set_column(1, 1, 22)
    ws.set_column(2, 3, 9)
    # Agencies by verdict, 未报送 included: the table the pie chart reads.
    put(ws, 0, 0, "各单位报送情况", st.title)
    put(ws, 1, 0, "状态", st.header)
    put(ws, 1, 1, "单位数", st.header)
    counts = Counter(r.status for r in rows)
    statuses = [PASS, FAIL, UNREADABLE, NOT_RETURNED]
    for i, s in enumerate(statuses, start=2):
        label = STATUS_ZH.get(s, s)
        put(ws, i, 0, label, st.status.get(s, st.status["missing"]))
        ws.write_number(i, 1, counts.get(label, 0), st.int)
    if rows:
        pie = wb.add_chart({"type": "pie"})
        pie.add_series({
            "name": "各单位报送情况",
            "categories": ["图表", 2, 0, 5, 0],
            "values": ["图表", 2, 1, 5, 1],
            "points": [{"fill": {"color": STATUS_CHART_COLORS[s]}} for s in statuses],
            "data_labels": {"value": True, "category": True, "leader_lines": True},
        })
        pie.set_title({"name": f"各单位报送情况（共 {len(rows)} 个单位）"})
        pie.set_legend({"position": "bottom"})
        ws.insert_chart("F2", pie, {"x_scale": 0.85, "y_scale": 0.85})
    _rules_chart(wb, st, ws, reports)
    page(ws, None, header=header)


def _rules_chart(wb, st, ws, reports) -> None:
    """The most frequent problems, named by the rules' 中文 titles (the ID has its own
    column for the office), counted in whole numbers."""
    top = 8
    put(ws, top, 0, "问题最多的规则", st.title)
    for c, title in enumerate(("规则", "名称", "问题数", "涉及文件数")):
        put(ws, top + 1, c, title, st.header)
    per_rule = Counter(f.rule for r in reports for f in r.findings)
    files = Counter(rule_id for r in reports for rule_id in {f.rule for f in r.findings})
    ranked = sorted(per_rule, key=lambda k: (-per_rule[k], k))[:TOP_RULES]
    catalogue = rules()
    for i, rule_id in enumerate(ranked, start=top + 2):
        put(ws, i, 0, rule_id, st.text)
        put(ws, i, 1, catalogue[rule_id].title if rule_id in catalogue else rule_id, st.wrap)
        ws.write_number(i, 2, per_rule[rule_id], st.int)
        ws.write_number(i, 3, files[rule_id], st.int)
    if not ranked:
        put(ws, top + 2, 0, "本批次没有发现问题。")
        return
    first, end = top + 2, top + 1 + len(ranked)
    bar = wb.add_chart({"type": "bar"})
    for col, name, color in ((2, "问题数", "#F8696B"), (3, "涉及文件数", "#5B9BD5")):
        bar.add_series({
            "name": name,
            "categories": ["图表", first, 1, end, 1],
            "values": ["图表", first, col, end, col],
            "fill": {"color": color},
            "data_labels": {"value": True, "num_format": "0"},
        })
    most = max(per_rule[k] for k in ranked)
    step = max(1, math.ceil(most / 8))  # whole numbers, about eight grid lines
    bar.set_title({"name": f"问题最多的规则（前 {len(ranked)} 条）"})
    bar.set_y_axis({"reverse": True})  # the most frequent on top
    bar.set_x_axis({"min": 0, "major_unit": step, "num_format": "0", "major_gridlines": {"visible": True}})
    bar.set_legend({"position": "bottom"})
    ws.insert_chart(f"F{top + 8}", bar, {"x_scale": 1.0, "y_scale": 0.9 + 0.05 * len(ranked)})
