"""The 校验结果 sheet (FEEDBACK_SHEET): a new worksheet part, written as XML, put first in
the workbook (workbook.xml, its rels and [Content_Types] entries, print titles), and the
previous run's sheet of a copy of a copy taken out again.

Layout: the title, one sentence on what to do, the file, agency, year and counts, then
from HEADER_ROW one row per finding, its cell a link to the flagged cell.  The rule ID
sits in a column of its own (编号) for the office; every sentence is the catalogue's.
It prints on A4 landscape, one page wide, header row repeated, comments of the marked
sheets at the end of their sheets."""

from __future__ import annotations

import math
from datetime import datetime
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

from toolkit.common.a1 import col_letter
from toolkit.common.display import shown_name
from toolkit.common.layout import FEEDBACK_SHEET
from toolkit.formats.catalogue import ERROR, SEVERITY_ZH, rules
from toolkit.formats.findings import FileReport
from toolkit.formats.instructions import where_to_fix
from toolkit.outputs.annotate.package import child, children, clean, insert_in_order, local

RECORD_HEADER = "disclosure:校验结果"  # hidden marker cell: this sheet is ours
# What to do: the one instruction on where to fix (instructions.yaml where_to_fix, also in
# the template's 填报说明 and the mail), then what this sheet is.
TODO_FAIL = where_to_fix() + "本页可保留，不影响校验。"
TODO_WARN = "下列提醒请核对：数字无误可不修改；如有修改，" + where_to_fix() + "本页可保留，不影响校验。"

COLUMNS = (  # header, width, wrap
    ("序号", 5, False),
    ("规则", 12, True),
    ("严重程度", 8, False),
    ("工作表", 13, True),
    ("单元格", 7, False),
    ("项目", 30, True),
    ("填报值", 10, True),
    ("应为", 8, True),
    ("说明", 46, True),
    ("编号", 9, False),
)
HEADER_ROW = 8  # the findings table starts here (1-based)
BODY_PT = 11  # font size of the sheet's text (the columns fit A4 landscape at ~100 %)
WORKBOOK_ORDER = ("fileVersion", "fileSharing", "workbookPr", "appDefinedNames", "workbookProtection",
                  "bookViews", "sheets", "functionGroups", "externalReferences", "definedNames",
                  "calcPr", "oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr",
                  "smartTagTypes", "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst")


def title(rule_id: str) -> str:
    r = rules().get(rule_id)
    return r.title if r else ""


def _cell(ref: str, value, style: int) -> str:
    if isinstance(value, bool) or value is None:
        value = "" if value is None else str(value).upper()
    if isinstance(value, (int, float)) and math.isfinite(value):
        return f'<c r="{ref}" s="{style}"><v>{value!r}</v></c>'
    if value == "":
        return f'<c r="{ref}" s="{style}"/>'  # styled, empty
    return (f'<c r="{ref}" s="{style}" t="inlineStr"><is><t xml:space="preserve">'
            f'{escape(clean(value))}</t></is></c>')


def sheet_xml(report: FileReport, where: dict[int, tuple[str, str]], st: dict[str, int],
              main_ns: str, r_ns: str, todo: str) -> bytes:
    """The worksheet part.  ``where``: finding index -> (sheet, cell) actually marked;
    ``st``: style ids by role (see annotated.py)."""
    last = col_letter(len(COLUMNS))
    rows: list[str] = []
    merges = [f"A2:{last}2"]
    heights = {2: 36}

    def row(r: int, cells: list[str], height: float | None = None) -> None:
        h = f' ht="{height}" customHeight="1"' if height else ""
        rows.append(f'<row r="{r}"{h}>{"".join(cells)}</row>')

    row(1, [_cell("A1", FEEDBACK_SHEET, st["title"])], 24)
    row(2, [_cell("A2", todo, st["todo"])], heights[2])
    info = [
        ("文件", shown_name(report.path)),
        ("单位", report.agency or "（未能读取）"),
        ("年度", report.year if report.year is not None else "（未能读取）"),
        ("结果", f"{'需修改' if report.errors else '通过'}：错误 {report.errors} 个，提醒 {report.warnings} 个"
                 f"（标红的格为错误，标黄的格为提醒；鼠标移到格上可看批注，打印时批注印在该表末尾）"),
        ("校验时间", datetime.now().strftime("%Y-%m-%d %H:%M")),
    ]
    for r, (label, value) in enumerate(info, start=3):
        row(r, [_cell(f"A{r}", label, st["bold"]), _cell(f"B{r}", value, st["left"])])
        merges.append(f"B{r}:{last}{r}")
    marker = col_letter(len(COLUMNS) + 1)
    row(HEADER_ROW, [_cell(f"{col_letter(c)}{HEADER_ROW}", h, st["header"]) for c, (h, _, _) in enumerate(COLUMNS, 1)]
        + [_cell(f"{marker}{HEADER_ROW}", RECORD_HEADER, 0)], 20)
    links = []
    for i, f in enumerate(report.findings):
        r = HEADER_ROW + 1 + i
        item = " / ".join(x for x in (f.row, f.column) if x) or (f"第{f.part}部分" if f.part else "")
        at = where.get(i)
        values = [i + 1, title(f.rule), SEVERITY_ZH.get(f.severity, f.severity), f.sheet or "",
                  at[1] if at else (f.cell or ""), item, f.value, f.expected, f.message, f.rule]
        styles = [st["box"]] * len(values)
        styles[2] = st["error" if f.severity == ERROR else "warning"]
        if at:
            styles[4] = st["link"]
            target = "'" + at[0].replace("'", "''") + "'!" + at[1]
            links.append(f'<hyperlink ref="E{r}" location={quoteattr(target)} display={quoteattr(at[1])}'
                         f' tooltip="转到此格"/>')
        lines = max(math.ceil(len(str(v if v is not None else "")) / max(w / 1.9, 1))
                    for v, (_, w, wrapped) in zip(values, COLUMNS) if wrapped)
        row(r, [_cell(f"{col_letter(c)}{r}", v, s) for c, (v, s) in enumerate(zip(values, styles), 1)],
            max(1, lines) * 15 + 3)
    end = HEADER_ROW + max(len(report.findings), 1)
    if not report.findings:
        row(HEADER_ROW + 1, [_cell(f"A{HEADER_ROW + 1}", "没有发现问题。", 0)])
    cols = "".join(f'<col min="{c}" max="{c}" width="{w}" customWidth="1"/>'
                   for c, (_, w, _) in enumerate(COLUMNS, 1))
    cols += f'<col min="{len(COLUMNS) + 1}" max="{len(COLUMNS) + 1}" width="9" hidden="1" customWidth="1"/>'
    head = escape(f"{report.agency or ''} {report.year or ''}年度 {FEEDBACK_SHEET}".replace("&", "&&").strip())
    parts = [
        f'<worksheet xmlns="{main_ns}" xmlns:r="{r_ns}">',
        '<sheetPr><tabColor rgb="FFC00000"/><pageSetUpPr fitToPage="1"/></sheetPr>',
        f'<dimension ref="A1:{marker}{end}"/>',
        '<sheetViews><sheetView tabSelected="1" workbookViewId="0">'
        f'<pane ySplit="{HEADER_ROW}" topLeftCell="A{HEADER_ROW + 1}" activePane="bottomLeft" state="frozen"/>'
        f'<selection pane="bottomLeft" activeCell="A{HEADER_ROW + 1}" sqref="A{HEADER_ROW + 1}"/>'
        '</sheetView></sheetViews>',
        '<sheetFormatPr defaultRowHeight="15"/>',
        f"<cols>{cols}</cols>",
        f'<sheetData>{"".join(rows)}</sheetData>',
        # Ours, not the agency's: locked against slips, no password, filtering allowed.
        '<sheetProtection sheet="1" objects="1" scenarios="1" autoFilter="0"/>',
    ]
    if report.findings:
        parts.append(f'<autoFilter ref="A{HEADER_ROW}:{last}{end}"/>')
    parts.append(f'<mergeCells count="{len(merges)}">'
                 + "".join(f'<mergeCell ref="{m}"/>' for m in merges) + "</mergeCells>")
    if links:
        parts.append(f'<hyperlinks>{"".join(links)}</hyperlinks>')
    parts += [
        '<pageMargins left="0.4" right="0.4" top="0.6" bottom="0.6" header="0.3" footer="0.3"/>',
        '<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/>',
        f"<headerFooter><oddHeader>&amp;L{head}&amp;R第 &amp;P 页，共 &amp;N 页</oddHeader></headerFooter>",
        "</worksheet>",
    ]
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + "".join(parts)).encode("utf-8")


# ------------------------------------------------------------------ workbook.xml


def sheets(wb) -> list:
    holder = child(wb, "sheets")
    return children(holder, "sheet") if holder is not None else []


def rid_of(el) -> str | None:
    return next((v for k, v in el.attrib.items() if k.endswith("}id")), None)


def _shift_local_ids(wb, index: int, delta: int) -> None:
    """Defined names scoped to sheets after ``index`` follow their sheet; with a negative
    ``delta`` the names scoped to the removed sheet itself go."""
    names = child(wb, "definedNames")
    if names is None:
        return
    for dn in list(names):
        sid = dn.get("localSheetId")
        if sid is None or not sid.isdigit():
            continue
        sid = int(sid)
        if delta < 0 and sid == index:
            names.remove(dn)
        elif sid >= index + (1 if delta < 0 else 0):
            dn.set("localSheetId", str(sid + delta))
    if not len(names):
        wb.remove(names)


def remove_sheet(wb, el) -> None:
    index = sheets(wb).index(el)
    el.getparent().remove(el)
    _shift_local_ids(wb, index, -1)
    _fix_views(wb, removed=index)


def _fix_views(wb, removed: int | None = None) -> None:
    views = child(wb, "bookViews")
    for view in (views if views is not None else []):
        for attr in ("activeTab", "firstSheet"):
            v = view.get(attr)
            if v is not None and v.isdigit() and removed is not None and int(v) > removed:
                view.set(attr, str(int(v) - 1))


def insert_first(wb, rid: str, r_ns: str, name: str) -> None:
    """Our sheet as the first and active sheet, its header row printed on every page."""
    main = wb.tag[1:].partition("}")[0]
    holder = child(wb, "sheets")
    ids = [int(s.get("sheetId")) for s in sheets(wb) if (s.get("sheetId") or "").isdigit()]
    el = etree.Element(f"{{{main}}}sheet", name=name, sheetId=str(max(ids, default=0) + 1))
    el.set(f"{{{r_ns}}}id", rid)
    holder.insert(0, el)
    _shift_local_ids(wb, 0, 1)
    views = child(wb, "bookViews")
    for view in (views if views is not None else []):
        view.set("activeTab", "0")
        if "firstSheet" in view.attrib:
            view.set("firstSheet", "0")
    names = child(wb, "definedNames")
    if names is None:
        names = etree.Element(f"{{{main}}}definedNames")
        insert_in_order(wb, names, WORKBOOK_ORDER)
    quoted = "'" + name.replace("'", "''") + "'"
    titles = etree.Element(f"{{{main}}}definedName", name="_xlnm.Print_Titles", localSheetId="0")
    titles.text = f"{quoted}!${HEADER_ROW}:${HEADER_ROW}"
    names.insert(0, titles)


def is_ours(sheet_bytes: bytes, shared_bytes: bytes | None) -> bool:
    marker = RECORD_HEADER.encode()
    return marker in sheet_bytes or (shared_bytes is not None and marker in shared_bytes
                                     and b't="s"' in sheet_bytes)


def local_name(el) -> str:
    return local(el)
