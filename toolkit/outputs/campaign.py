"""The state of the campaign, one row per agency: who has returned what, and with what
verdict (未报送 / 通过 / 需修改 / 无法读取).  It is the first sheet of 汇总.xlsx, what an
office head opens first; ``campaign_sheet`` writes it from ``campaign_rows`` and is the
one place to extend it (a ledger's 报送进度 adds rows and columns, not another sheet).

Order: the roster's agencies in roster order, then the files from agencies not on it
(名单外), then files whose agency is unknown.  Without a roster, one row per agency as the
returns name it (duplicates grouped, coverage.duplicates), in the order of the files.
An unreadable file names no agency: the agency is recognised from its file name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.common.layout import ANNOTATED_MARK
from toolkit.formats.findings import STATUS_ZH, UNREADABLE, FileReport
from toolkit.outputs.coverage import USED_RULE, duplicates
from toolkit.outputs.sheets import fit_row, page, put
from toolkit.template.batch import BATCH_SUFFIX

NOT_RETURNED = "未报送"
# Our own template file names: "<agency>_2025年政府信息公开年度报表.xlsx", maybe "_2".
_OUR_SUFFIX = re.compile(re.escape(Path(BATCH_SUFFIX).stem).replace(r"\{year\}", r"\d{4}") + r"(_\d+)?$")


@dataclass
class AgencyRow:
    """One agency (or one file of an unknown agency) and the file used for it."""

    name: str
    status: str  # 未报送 / 通过 / 需修改 / 无法读取
    used: FileReport | None = None
    files: list[FileReport] = field(default_factory=list)  # used first
    entry: object = None  # the roster entry, if any
    notes: list[str] = field(default_factory=list)


def agency_from_filename(path: str) -> str:
    """The agency a file name most likely names: the stem without our own suffixes."""
    stem = Path(path).stem
    stem = stem.removesuffix(ANNOTATED_MARK)
    return _OUR_SUFFIX.sub("", stem).strip(" _-") or stem


def _status(report: FileReport | None) -> str:
    return NOT_RETURNED if report is None else STATUS_ZH[report.status]


def _who(report: FileReport) -> tuple[str, list[str]]:
    if report.agency:
        return report.agency, []
    if report.meta.get("agency"):
        return report.meta["agency"], []
    why = "文件无法读取" if report.status == UNREADABLE else "文件中未填单位名称"
    return agency_from_filename(report.path), [f"{why}，单位按文件名识别"]


def _dup_note(files: list[FileReport], names: dict[str, str], why: str = "") -> list[str]:
    if len(files) < 2:
        return []
    rest = "、".join(names.get(r.path, Path(r.path).name) for r in files[1:])
    return [f"共 {len(files)} 个文件，采用的理由：{why or USED_RULE}；未采用：{rest}"]


def campaign_rows(reports: list[FileReport], coverage=None,
                  names: dict[str, str] | None = None) -> list[AgencyRow]:
    """The rows of the first sheet (see the module notes)."""
    names = names or {}
    rows: list[AgencyRow] = []
    if coverage is not None:
        for a in coverage.agencies:
            notes = _dup_note(a.reports, names, getattr(a, "why", ""))
            if a.used is not None and a.used.path in a.by_filename:
                notes.insert(0, "文件中未能读取单位名称，按文件名匹配")
            rows.append(AgencyRow(a.name, _status(a.used), a.used, list(a.reports), a.entry, notes))
        rest = [*coverage.outside, *coverage.unidentified]
        tag = {id(r): "名单外" for r in coverage.outside}
    else:
        rest, tag = reports, {}
    grouped = {id(r): d for d in duplicates(rest) for r in d.reports}
    done: set[int] = set()
    for r in rest:
        if id(r) in done:
            continue
        dup = grouped.get(id(r))
        files = dup.reports if dup else [r]
        done.update(id(x) for x in files)
        used = files[0]
        name, notes = _who(used)
        if id(used) in tag:
            notes.insert(0, "单位名称不在名单中")
        elif coverage is not None:
            notes.insert(0, "单位名称和文件名都不在名单中")
        rows.append(AgencyRow(name, _status(used), used, list(files), None,
                              notes + _dup_note(files, names, dup.why if dup else "")))
    return rows


CAMPAIGN_COLUMNS = (  # header, width (sheets.PRINTABLE_UNITS in all)
    ("序号", 4), ("单位名称", 20), ("状态", 7), ("采用文件", 22), ("错误数", 5), ("提醒数", 5),
    ("主要问题", 32), ("说明", 20),
)
_STATUS_KEY = {STATUS_ZH[k]: k for k in STATUS_ZH} | {NOT_RETURNED: "missing"}


def campaign_sheet(wb, st, rows: list[AgencyRow], *, roster: bool, when: str, header: str,
                   problems, name: str = "报送情况") -> object:
    """The first sheet: a title that counts, the rule for duplicates, then one row per
    agency.  Returns the worksheet (a caller may add columns to the right)."""
    ws = wb.add_worksheet(name)  # the first sheet unless a ledger's 报送进度 comes before
    listed = [r for r in rows if r.entry is not None] if roster else rows
    counts = {s: sum(r.status == s for r in listed) for s in (*STATUS_ZH.values(), NOT_RETURNED)}
    scope = f"名单 {len(listed)} 个单位" if roster else f"共 {len(rows)} 个单位"
    said = "，".join(f"{s} {n} 个" for s, n in counts.items() if n or s != NOT_RETURNED or roster)
    extra = f"；另有名单外 {len(rows) - len(listed)} 个" if len(rows) > len(listed) else ""
    put(ws, 0, 0, f"报送情况：{scope}，{said}{extra}", st.title)
    ws.set_row(0, 24)
    widths = [w for _, w in CAMPAIGN_COLUMNS]
    ws.merge_range(1, 0, 1, len(widths) - 1, "", st.note)
    put(ws, 1, 0, f"校验时间：{when}。同一单位报送多个文件时，{USED_RULE}。"
                  "“主要数字”表的合计只计通过校验的单位。", st.note)
    header_row = 2
    for c, (title, width) in enumerate(CAMPAIGN_COLUMNS):
        put(ws, header_row, c, title, st.header)
        ws.set_column(c, c, width)
    for i, r in enumerate(rows, start=1):
        row = header_row + i
        used = r.used
        file_name = Path(used.path).name if used else ""
        said_problems = problems(used) if used else ""
        note = "；".join(r.notes)
        ws.write_number(row, 0, i, st.int)
        put(ws, row, 1, r.name, st.wrap)
        put(ws, row, 2, r.status, st.status.get(_STATUS_KEY.get(r.status), st.text))
        put(ws, row, 3, file_name, st.wrap)
        for c, n in ((4, used.errors if used else None), (5, used.warnings if used else None)):
            ws.write_number(row, c, n, st.int) if n is not None else put(ws, row, c, "", st.text)
        put(ws, row, 6, said_problems, st.wrap)
        put(ws, row, 7, note, st.wrap)
        fit_row(ws, row, [(r.name, widths[1]), (file_name, widths[3]), (said_problems, widths[6]),
                          (note, widths[7])])
    ws.autofilter(header_row, 0, header_row + max(len(rows), 1), len(widths) - 1)
    ws.freeze_panes(header_row + 1, 2)
    ws.set_row(header_row, 22)
    page(ws, header_row, header=header)
    return ws
