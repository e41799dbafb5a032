"""Issue 5 at the reader level: the template unprotected and reshaped the way agencies
reshape it (rows and columns inserted or deleted, sheets renamed, hidden or added, figure
cells merged, dates and booleans typed), the wrong format, macros, formulas, a file too
slow to read.  Each case runs in a batch with good returns beside it: the tampered file
gets its exact verdict and cells, the good ones still pass, and no input is changed."""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import soffice_convert
from figures import consistent, fill, sha256, solve
from openpyxl import load_workbook
from openpyxl.utils.cell import get_column_letter, range_boundaries

from toolkit.formats import spec
from toolkit.outputs import check
from toolkit.template.writer import write_template
from toolkit.workbook import ooxml
from toolkit.workbook.book import open_book
from toolkit.workbook.limits import Limits

FMT = spec.get("gov-2021")
FMT19 = spec.get("gov-2019")
P2, P3, P4 = (FMT.part(k) for k in ("p2", "p3", "p4"))
S2_PREFIX = "模板结构被改动："


# ------------------------------------------------------------------ tampering, as Excel does it

_TARGET = re.compile(r"^=?(?P<sheet>'(?:[^']|'')+'|[^!]+)!(?P<ref>.+)$")
_CELL = re.compile(r"(\$?)([A-Z]{1,3})(\$?)(\d+)")


def _sheet_of(attr_text: str) -> tuple[str, str] | None:
    m = _TARGET.match(attr_text)
    if not m:
        return None
    sheet = m.group("sheet")
    if sheet.startswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    return sheet, m.group("ref")


def _quote(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


def unprotect(wb) -> None:
    """What an agency does first (Excel: 审阅 > 撤销工作表保护 / 撤销工作簿保护)."""
    for ws in wb.worksheets:
        ws.protection.sheet = False
    if wb.security is not None:
        wb.security.lockStructure = False


def _shift_names(wb, sheet: str, axis: str, at: int, n: int) -> None:
    """Move the names into ``sheet`` as Excel does when n rows/columns are inserted at
    ``at`` (n > 0) or deleted from ``at`` (n < 0): refs past the band move, refs inside a
    deleted band become #REF!."""
    for dn in wb.defined_names.values():
        target = _sheet_of(dn.attr_text)
        if target is None or target[0] != sheet:
            continue
        refs, broken = [], False
        for d1, col, d2, row in _CELL.findall(target[1]):
            pos = int(row) if axis == "row" else range_boundaries(col + "1")[0]
            if n < 0 and at <= pos < at - n:
                broken = True
            elif pos >= at:
                pos += n
            cell = (col, pos) if axis == "row" else (get_column_letter(pos), int(row))
            refs.append(f"{d1}{cell[0]}{d2}{cell[1]}")
        dn.attr_text = f"{_quote(sheet)}!#REF!" if broken else f"{_quote(sheet)}!" + ":".join(refs)


def _reshape(wb, sheet: str, axis: str, at: int, n: int, *, names: bool) -> None:
    """Insert (n > 0) or delete (n < 0) rows or columns with openpyxl, moving the merged
    ranges as every office suite does, and the defined names only when ``names`` (Excel
    and WPS do; openpyxl and a sheet rebuilt by copy and paste do not)."""
    ws = wb[sheet]
    merges = [range_boundaries(str(m)) for m in ws.merged_cells.ranges]
    for c1, r1, c2, r2 in merges:
        ws.unmerge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)
    if axis == "row":
        (ws.insert_rows if n > 0 else ws.delete_rows)(at, abs(n))
    else:
        (ws.insert_cols if n > 0 else ws.delete_cols)(at, abs(n))
    for c1, r1, c2, r2 in merges:
        lo, hi = (r1, r2) if axis == "row" else (c1, c2)
        if n > 0:
            lo, hi = lo + n * (lo >= at), hi + n * (hi >= at)
        else:
            gone = range(at, at - n)
            kept = [p for p in range(lo, hi + 1) if p not in gone]
            if not kept:
                continue
            lo, hi = (p + n * (p >= at) for p in (kept[0], kept[-1]))
        box = (c1, lo, c2, hi) if axis == "row" else (lo, r1, hi, r2)
        if box[:2] != box[2:]:
            ws.merge_cells(start_column=box[0], start_row=box[1], end_column=box[2], end_row=box[3])
    if names:
        _shift_names(wb, sheet, axis, at, n)


def tampered(src: Path, dest: Path, *edits) -> Path:
    """A copy of ``src`` unprotected and edited with openpyxl (each edit takes the workbook)."""
    wb = load_workbook(src)
    unprotect(wb)
    for edit in edits:
        edit(wb)
    wb.save(dest)
    return dest


def shifted(key: str, *, rows: int = 0, cols: int = 0, fmt: spec.Format = FMT) -> str:
    area = fmt.figures[key].area
    return f"{get_column_letter(area.min_col + cols)}{area.min_row + rows}"


# ------------------------------------------------------------------ the batch around each case


@pytest.fixture(scope="module")
def figures_a() -> dict[str, float]:
    return consistent(FMT, random.Random(5))


@pytest.fixture(scope="module")
def good_returns(tmp_path_factory) -> list[Path]:
    """Two clean returns of other agencies, put in every batch beside the tampered file."""
    folder = tmp_path_factory.mktemp("good")
    out = []
    for i, agency in enumerate(("甲县发展和改革委员会", "乙县财政局")):
        tpl = write_template(folder / f"good{i}.xlsx", FMT, agency=agency, year=2025)
        out.append(fill(tpl, consistent(FMT, random.Random(100 + i))))
    return out


def run_batch(tmp_path: Path, good: list[Path], *files: Path, **kw) -> dict[str, "check.FileReport"]:
    """check.run over the files and the good returns in one folder; asserts that every
    file has a report, the good ones pass clean, findings.json lists them all and no
    input changed.  Returns the reports by file name."""
    inbox = tmp_path / "报送"
    inbox.mkdir(exist_ok=True)
    paths = [shutil.copy(p, inbox / p.name) for p in (*good, *files)]
    before = {p: sha256(p) for p in paths}
    out = tmp_path / "校验结果"
    batch = check.run([inbox], out, **kw)
    assert {p: sha256(p) for p in paths} == before
    reports = {Path(r.path).name: r for r in batch.reports}
    assert sorted(reports) == sorted(p.name for p in paths)
    for g in good:
        r = reports[g.name]
        assert (r.status, r.findings, r.read_by) == ("pass", [], "names"), [f.message for f in r.findings]
    data = json.loads((out / check.FINDINGS_JSON).read_text(encoding="utf-8"))
    assert sorted(Path(f["path"]).name for f in data["files"]) == sorted(reports)
    return reports


def found(report) -> list[tuple]:
    return [(f.rule, f.severity, f.sheet, f.cell) for f in report.findings]


def numbers(values: dict[str, object]) -> dict[str, float]:
    return {k: float(v) for k, v in values.items()}


@pytest.fixture
def planted(figures_a) -> dict[str, float]:
    """figures_a with one wrong row total in part 三 (R3 at the 总计 of （一）予以公开)."""
    return {**figures_a, "p3.open.total": figures_a["p3.open.total"] + 1}


R3_KEY = "p3.open.total"


# ------------------------------------------------------------------ rows and columns


def test_rows_inserted_above_part_3_names_moved_as_excel_does(blank_return, tmp_path, good_returns, planted):
    filled = fill(blank_return, planted)
    f = tampered(filled, tmp_path / "插入行.xlsx", lambda wb: _reshape(wb, P3.sheet, "row", 2, 3, names=True))
    r = run_batch(tmp_path, good_returns, f)["插入行.xlsx"]
    assert r.read_by == "names"
    assert found(r) == [("R3", "error", P3.sheet, shifted(R3_KEY, rows=3))]
    assert r.figures == numbers(planted)


def test_rows_inserted_above_part_3_names_left_behind(blank_return, tmp_path, good_returns, planted):
    """openpyxl moves the cells but not the names: the names now point three rows too
    high.  The reader sees that the named cells no longer sit beside their labels and
    reads part 三 by its labels instead: the same figures, the right cells."""
    filled = fill(blank_return, planted)
    f = tampered(filled, tmp_path / "插入行.xlsx", lambda wb: _reshape(wb, P3.sheet, "row", 2, 3, names=False))
    r = run_batch(tmp_path, good_returns, f)["插入行.xlsx"]
    assert r.read_by == "labels"
    first = P3.tables[0].rows[0]
    assert found(r) == [("S2", "warning", P3.sheet, FMT.figures[f"p3.{first.key}.natural"].cell),
                        ("R3", "error", P3.sheet, shifted(R3_KEY, rows=3))]
    assert r.findings[0].message == (
        f"{S2_PREFIX}第三部分的定义名称指向 {FMT.figures[f'p3.{first.key}.natural'].cell}，"
        f"但它所在行没有表格标签“{first.text}”，可能插入或删除了行列而定义名称未随之更新，已按表格标签读取")
    assert r.figures == numbers(planted)


def test_row_inserted_inside_part_3_names_left_behind(blank_return, tmp_path, good_returns, figures_a):
    """A row inserted between 一 and 二: the first row still fits, the last does not."""
    filled = fill(blank_return, figures_a)
    at = FMT.figures["p3.carried_over.natural"].area.min_row
    f = tampered(filled, tmp_path / "表内插行.xlsx", lambda wb: _reshape(wb, P3.sheet, "row", at, 1, names=False))
    r = run_batch(tmp_path, good_returns, f)["表内插行.xlsx"]
    last = P3.tables[0].rows[-1]
    assert (r.status, r.read_by) == ("pass", "labels")
    assert found(r) == [("S2", "warning", P3.sheet, FMT.figures[f"p3.{last.key}.total"].cell)]
    assert f"没有表格标签“{last.text}”" in r.findings[0].message
    assert r.figures == numbers(figures_a)


def test_row_inserted_inside_part_3_names_moved_holds_a_figure(blank_return, tmp_path, good_returns, figures_a):
    """Excel inserts a row between 一 and 二 and moves the names: every figure is read
    from its cell, and what was typed into the new row (counted nowhere) is said."""
    filled = fill(blank_return, figures_a)
    first, then = P3.tables[0].rows[0], P3.tables[0].rows[1]
    at = FMT.figures[f"p3.{then.key}.natural"].area.min_row
    col = FMT.figures[f"p3.{first.key}.natural"].area.min_col
    def insert_and_type(wb):
        _reshape(wb, P3.sheet, "row", at, 1, names=True)
        wb[P3.sheet].cell(at, col + 1).value = 5  # a figure the agency meant to add
    f = tampered(filled, tmp_path / "表内插行.xlsx", insert_and_type)
    r = run_batch(tmp_path, good_returns, f)["表内插行.xlsx"]
    assert (r.status, r.read_by) == ("pass", "names")
    assert found(r) == [("S2", "warning", P3.sheet, f"{get_column_letter(col)}{at}")]
    assert r.findings[0].message == (f"{S2_PREFIX}第三部分“{first.text}”与“{then.text}”两行之间插入了 1 行，"
                                     "其中填写的“5”不计入任何数字；请删除插入的行，按模板原样填写")
    assert r.figures == numbers(figures_a)


def test_a_label_typed_over_leaves_the_names_trusted(blank_return, tmp_path, good_returns, figures_a):
    """A number typed over the label “规章” (its row's first figure has no label beside it
    now): every other label leads to the named cells, so the names are right; said once
    (S2), the figures read by name, nothing reported missing."""
    filled = fill(blank_return, figures_a)
    first = P2.tables[0].rows[0]
    label = FMT.figures[f"p2.{first.key}.{P2.tables[0].columns[0].key}"].row_label.area
    f = tampered(filled, tmp_path / "标签被改写.xlsx",
                 lambda wb: setattr(wb[P2.sheet].cell(label.min_row, label.min_col), "value", 3))
    r = run_batch(tmp_path, good_returns, f)["标签被改写.xlsx"]
    assert (r.status, r.read_by) == ("pass", "names")
    assert [(x.rule, x.severity) for x in r.findings] == [("S2", "warning")]
    assert r.findings[0].message.endswith(f"没有表格标签“{first.text}”，其余标签都与定义名称一致，"
                                          "可能是这个标签被改写或删除，已按定义名称读取，请恢复模板原有的标签")
    assert r.figures == numbers(figures_a)


@pytest.mark.parametrize("names", [True, False], ids=["names moved", "names left behind"])
def test_column_inserted_in_part_4(blank_return, tmp_path, good_returns, planted, names):
    """A column inserted between 行政复议 and 行政诉讼: the 行政诉讼 figures move right."""
    values = {**planted, "p4.cases.direct_total": planted["p4.cases.direct_total"] + 2}
    filled = fill(blank_return, values)
    at = FMT.figures["p4.cases.direct_upheld"].area.min_col
    f = tampered(filled, tmp_path / "插入列.xlsx", lambda wb: _reshape(wb, P4.sheet, "col", at, 1, names=names))
    r = run_batch(tmp_path, good_returns, f)["插入列.xlsx"]
    r5 = ("R5", "error", P4.sheet, shifted("p4.cases.direct_total", cols=1))
    r3 = ("R3", "error", P3.sheet, FMT.figures[R3_KEY].cell)
    if names:  # every figure read from its cell; the inserted column said (S2), it holds nothing
        s2 = ("S2", "warning", P4.sheet, f"{get_column_letter(at)}{FMT.figures['p4.cases.direct_upheld'].area.min_row}")
        assert r.read_by == "names" and found(r) == [s2, r3, r5]
        assert r.findings[0].message.endswith("两列之间插入了 1 列；请删除插入的列，按模板原样填写")
    else:
        # The names right of the insertion point name the cell left of the right one.
        last = P4.tables[0].columns[-1]
        assert r.read_by == "labels"
        assert found(r) == [("S2", "warning", P4.sheet, FMT.figures[f"p4.cases.{last.key}"].cell), r3, r5]
        assert f"上方没有表格标签“{last.text}”" in r.findings[0].message
    assert r.figures == numbers(values)


def test_row_deleted_from_part_3_as_excel_does(blank_return, tmp_path, good_returns, figures_a):
    """Deleting a row turns its names into #REF! and moves the rest up: the row's figures
    are reported missing by their label, every other figure is read, and the sums over
    the missing row are not judged."""
    filled = fill(blank_return, figures_a)
    gone = FMT.figures["p3.deny_law.natural"].row_label
    at = gone.area.min_row
    f = tampered(filled, tmp_path / "删除行.xlsx", lambda wb: _reshape(wb, P3.sheet, "row", at, -1, names=True))
    r = run_batch(tmp_path, good_returns, f)["删除行.xlsx"]
    missing = [k for k in FMT.figures if FMT.figures[k].row_label is gone]
    assert len(missing) == len(P3.tables[0].columns)
    assert (r.status, r.read_by) == ("fail", "labels")
    assert found(r) == [("S1", "error", P3.sheet, None)] * len(missing) + [("S2", "warning", None, None)]
    for finding, key in zip(r.findings, missing):
        fig = FMT.figures[key]
        assert finding.message == f"找不到“{fig.title}”的数字格：找不到行标签“{gone.text}”"
        assert (finding.row, finding.column) == (fig.row_text, fig.column_text)
    assert r.findings[-1].message == (
        f"{S2_PREFIX}{len(missing)} 个数字格的定义名称缺失或失效，已按表格标签读取")
    assert r.figures == {k: v for k, v in numbers(figures_a).items() if k not in missing}


def test_column_deleted_from_part_2_as_excel_does(blank_return, tmp_path, good_returns, figures_a):
    """The 本年废止件数 column deleted: its two figures are reported by their column label,
    the 现行有效件数 figures are read one column further left."""
    filled = fill(blank_return, figures_a)
    gone = FMT.figures["p2.rules.repealed"].column_label
    at = gone.area.min_col
    f = tampered(filled, tmp_path / "删除列.xlsx", lambda wb: _reshape(wb, P2.sheet, "col", at, -1, names=True))
    r = run_batch(tmp_path, good_returns, f)["删除列.xlsx"]
    missing = [k for k in FMT.figures if FMT.figures[k].column_label is gone]
    assert missing == ["p2.rules.repealed", "p2.normative.repealed"]
    assert (r.status, r.read_by) == ("fail", "labels")
    assert found(r) == [("S1", "error", P2.sheet, None)] * 2 + [("S2", "warning", None, None)]
    where = "、".join(FMT.figures[missing[0]].column_label.path)
    for finding, key in zip(r.findings, missing):
        assert finding.message == (
            f"找不到“{FMT.figures[key].title}”的数字格：找不到列标签“{gone.text}”（位于“{where}”下）")
    assert r.figures == {k: v for k, v in numbers(figures_a).items() if k not in missing}


# ------------------------------------------------------------------ sheets


def _rename(new: str, *, names: bool):
    def edit(wb):
        wb[P4.sheet].title = new
        if names:
            for dn in wb.defined_names.values():
                target = _sheet_of(dn.attr_text)
                if target and target[0] == P4.sheet:
                    dn.attr_text = f"{_quote(new)}!{target[1]}"
    return edit


def test_sheet_renamed_names_updated(blank_return, tmp_path, good_returns, planted):
    f = tampered(fill(blank_return, planted), tmp_path / "改名.xlsx", _rename("复议诉讼情况", names=True))
    r = run_batch(tmp_path, good_returns, f)["改名.xlsx"]
    assert r.read_by == "names"
    assert found(r) == [("R3", "error", P3.sheet, FMT.figures[R3_KEY].cell)]
    assert r.figures == numbers(planted)


def test_sheet_renamed_names_broken(blank_return, tmp_path, good_returns, figures_a):
    """Names into a sheet that no longer exists: part 四 is read by its labels on the
    renamed sheet, with a warning counting the names that led nowhere."""
    values = {**figures_a, "p4.cases.review_total": figures_a["p4.cases.review_total"] + 1}
    f = tampered(fill(blank_return, values), tmp_path / "改名.xlsx", _rename("复议诉讼情况", names=False))
    r = run_batch(tmp_path, good_returns, f)["改名.xlsx"]
    n4 = len(FMT.part_figures("p4"))
    assert r.read_by == "labels"
    assert found(r) == [("S2", "warning", None, None),
                        ("R5", "error", "复议诉讼情况", FMT.figures["p4.cases.review_total"].cell)]
    assert r.findings[0].message == f"{S2_PREFIX}{n4} 个数字格的定义名称缺失或失效，已按表格标签读取"
    assert r.figures == numbers(values)


def test_sheet_hidden(blank_return, tmp_path, good_returns, figures_a):
    def hide(wb):
        wb[P3.sheet].sheet_state = "hidden"

    f = tampered(fill(blank_return, figures_a), tmp_path / "隐藏.xlsx", hide)
    r = run_batch(tmp_path, good_returns, f)["隐藏.xlsx"]
    assert (r.status, r.read_by) == ("pass", "names")
    assert found(r) == [("S2", "warning", P3.sheet, None)]
    assert r.findings[0].message == f"{S2_PREFIX}工作表“{P3.sheet}”被隐藏，已照常读取其中的数字，请核对"
    assert r.figures == numbers(figures_a)


def test_sheet_added(blank_return, tmp_path, good_returns, figures_a):
    """An extra sheet (notes, a copy of a table's numbers) changes nothing."""
    def add(wb):
        ws = wb.create_sheet("说明", 1)
        ws["A1"], ws["A2"], ws["B2"] = "补充说明", "总计", 999
        copy = wb.copy_worksheet(wb[P3.sheet])
        copy.title = "三（草稿）"

    f = tampered(fill(blank_return, figures_a), tmp_path / "加表.xlsx", add)
    r = run_batch(tmp_path, good_returns, f)["加表.xlsx"]
    assert (r.status, r.read_by, r.findings) == ("pass", "names", [])
    assert r.figures == numbers(figures_a)


def test_all_names_deleted(blank_return, tmp_path, good_returns, planted):
    def drop(wb):
        for name in list(wb.defined_names):
            del wb.defined_names[name]

    f = tampered(fill(blank_return, planted), tmp_path / "无名称.xlsx", drop)
    r = run_batch(tmp_path, good_returns, f)["无名称.xlsx"]
    assert r.read_by == "labels"
    assert found(r) == [("S2", "warning", None, None), ("R3", "error", P3.sheet, FMT.figures[R3_KEY].cell)]
    assert r.findings[0].message == f"{S2_PREFIX}{len(FMT.figures)} 个数字格的定义名称缺失或失效，已按表格标签读取"
    assert r.figures == numbers(planted)
    assert (r.agency, r.year) == ("示例县人民政府办公室", 2025)


# ------------------------------------------------------------------ cells


def test_figure_cells_merged(blank_return, tmp_path, good_returns, figures_a):
    a, b = FMT.figures["p3.open.natural"].cell, FMT.figures["p3.open.business"].cell

    def merge(wb):
        wb[P3.sheet].merge_cells(f"{a}:{b}")

    f = tampered(fill(blank_return, figures_a), tmp_path / "合并.xlsx", merge)
    r = run_batch(tmp_path, good_returns, f)["合并.xlsx"]
    assert (r.status, r.read_by) == ("fail", "names")
    assert found(r) == [("S1", "error", P3.sheet, b)]
    assert r.findings[0].message == (
        f"找不到“{FMT.figures['p3.open.business'].title}”的数字格：数字格 {b} 被合并进了 {a}:{b}，请取消合并后分别填写")
    # The merge keeps the first figure; the swallowed one is missing, its sums unjudged.
    assert r.figures == {k: v for k, v in numbers(figures_a).items() if k != "p3.open.business"}


def test_dates_and_booleans_typed(blank_return, tmp_path, good_returns, figures_a):
    date_key, serial_key, bool_key = "p3.open.natural", "p2.licensing.decisions", "p4.cases.review_upheld"

    def type_them(wb):
        # A number shown as a date (the cell formatted as a date) is a date too.
        cell = wb[P2.sheet][FMT.figures[serial_key].cell]
        cell.value, cell.number_format = 45688, "yyyy/m/d"

    values = {**figures_a, date_key: dt.datetime(2025, 1, 31), bool_key: False}
    f = tampered(fill(blank_return, values), tmp_path / "日期.xlsx", type_them)
    r = run_batch(tmp_path, good_returns, f)["日期.xlsx"]
    assert r.status == "fail"
    assert found(r) == [("R6.date", "error", P2.sheet, FMT.figures[serial_key].cell),
                        ("R6.date", "error", P3.sheet, FMT.figures[date_key].cell),
                        ("R6.bool", "error", P4.sheet, FMT.figures[bool_key].cell)]
    assert [f.value for f in r.findings] == ["2025-01-31", "2025-01-31", "FALSE"]
    assert r.findings[1].message == "此格是日期 2025-01-31，请填写数字；本行总计、本列（七）总计暂无法核对"
    assert r.findings[2].message == "此格是逻辑值 FALSE，请填写数字；行政复议总计暂无法核对"


# ------------------------------------------------------------------ formats


@pytest.fixture(scope="module")
def return_2019(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("y2019")
    tpl = write_template(folder / "模板2019.xlsx", FMT19, agency="丙县人民政府办公室", year=2020)
    values = consistent(FMT19, random.Random(2019))
    values["p3.open.total"] += 1  # a wrong figure: judged under 2019, never under the wrong format
    return fill(shutil.copy(tpl, folder / "2019格式.xlsx"), values)


def test_2019_template_reads_as_2019(return_2019, tmp_path, good_returns):
    r = run_batch(tmp_path, good_returns, return_2019)["2019格式.xlsx"]
    assert (r.format, r.read_by, r.year) == ("gov-2019", "names", 2020)
    total = FMT19.figures["p3.open.total"]
    assert found(r) == [("R3", "error", total.sheet, total.cell)]


def test_2019_return_where_2021_is_asked(return_2019, tmp_path, good_returns):
    r = run_batch(tmp_path, good_returns, return_2019, expect=FMT)["2019格式.xlsx"]
    assert (r.status, r.format) == ("fail", "gov-2019")
    assert found(r) == [("F9", "error", None, None)]  # no figure judged
    assert r.findings[0].message == (
        f"本次要求报送{FMT.document}格式，此文件是{FMT19.document}格式，请改用正确的模板填写")


def test_2021_template_for_year_2019(blank_return, tmp_path, good_returns, figures_a):
    f = fill(blank_return, figures_a, tmp_path / "年度2019.xlsx", info={"year": 2019})
    r = run_batch(tmp_path, good_returns, f)["年度2019.xlsx"]
    assert (r.status, r.format, r.year) == ("fail", "gov-2021", 2019)
    assert found(r) == [("F9", "error", None, None)]
    assert r.findings[0].message == (
        f"年度为 2019 年的报告应使用{FMT19.document}格式，此文件是{FMT.document}格式")


@pytest.mark.parametrize("info, said", [
    ({"year": 2024}, "年度填为“2024”，与模板下发时的“2025”不一致，请核实"),
    ({"agency": "示例县人民政府"}, "单位名称填为“示例县人民政府”，与模板下发时的“示例县人民政府办公室”不一致，请核实"),
    ({"agency": None}, "单位名称一格是空的，已按模板下发时的“示例县人民政府办公室”认定，请补填"),
    ({"agency": "　 ", "year": None}, None),
], ids=["year changed", "name changed", "name cleared", "both cleared"])
def test_agency_block_changed_or_cleared_in_a_template_made_for_one_agency(blank_return, tmp_path, good_returns,
                                                                           figures_a, info, said):
    """The template was made for one agency and year (stamped): a field typed over or
    cleared is a warning (S3) that says both values; the typed year is the one used."""
    f = fill(blank_return, figures_a, tmp_path / "单位块.xlsx", info=info)
    r = run_batch(tmp_path, good_returns, f)["单位块.xlsx"]
    messages = [x.message for x in r.findings]
    if said is None:
        label = {x.key: x.text for x in FMT.info.fields}
        said_both = [f"{label[k]}一格是空的，已按模板下发时的“{v}”认定，请补填"
                     for k, v in (("agency", "示例县人民政府办公室"), ("year", 2025))]
        assert messages == said_both
    else:
        assert messages == [said]
    assert r.status == "pass" and {x.rule for x in r.findings} == {"S3"}
    assert r.year == (info.get("year") or 2025)


# ------------------------------------------------------------------ macros


VBA = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
       + b'Attribute VB_Name = "Module1"\r\nSub Workbook_Open(): Shell "cmd /c del *.*": End Sub\r\n')


def make_xlsm(src: Path, dest: Path) -> Path:
    """The filled return re-packed as a macro-enabled workbook with a VBA project, as
    Excel writes it: the member, its content type, its relationship."""
    with zipfile.ZipFile(src) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    types = members["[Content_Types].xml"].decode()
    types = types.replace("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                          "application/vnd.ms-excel.sheet.macroEnabled.main+xml")
    types = types.replace("</Types>", '<Default Extension="bin" '
                          'ContentType="application/vnd.ms-office.vbaProject"/></Types>')
    rels = members["xl/_rels/workbook.xml.rels"].decode().replace("</Relationships>", (
        '<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" '
        'Target="vbaProject.bin"/></Relationships>'))
    members |= {"[Content_Types].xml": types.encode(), "xl/_rels/workbook.xml.rels": rels.encode(),
                "xl/vbaProject.bin": VBA}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    dest.write_bytes(buf.getvalue())
    return dest


def test_xlsm_figures_read_macros_never_touched(blank_return, tmp_path, good_returns, planted, monkeypatch):
    f = make_xlsm(fill(blank_return, planted), tmp_path / "带宏.xlsm")
    assert "xl/vbaProject.bin" in zipfile.ZipFile(f).namelist()
    assert b"macroEnabled" in zipfile.ZipFile(f).read("[Content_Types].xml")
    with open_book(f) as book:
        assert book.kind == "xlsm"
    inflated: list[str] = []
    real = ooxml._Zip.chunks
    monkeypatch.setattr(ooxml._Zip, "chunks", lambda self, name: inflated.append(name) or real(self, name))
    r = run_batch(tmp_path, good_returns, f, workers=1)["带宏.xlsm"]
    assert r.read_by == "names"
    assert found(r) == [("R3", "error", P3.sheet, FMT.figures[R3_KEY].cell)]
    assert r.figures == numbers(planted)
    assert inflated and not [n for n in inflated if "vba" in n]  # never even inflated


# ------------------------------------------------------------------ formulas


def test_formulas_with_and_without_cached_values(template_2021, tmp_path, good_returns, figures_a):
    """=2+3 and =SUM(…) in figure cells.  Saved by LibreOffice (results cached): the
    cached numbers are the figures.  Saved by a program that does not calculate
    (openpyxl): R6.formula at exactly those cells, nothing else."""
    natural, total = FMT.figures["p3.open.natural"], FMT.figures["p3.open.total"]
    row = [FMT.figures[f"p3.open.{c.key}"].cell for c in P3.tables[0].columns[:-1]]
    values = {**figures_a, "p3.open.natural": 5}
    values = solve(FMT, values)
    typed = {**values, "p3.open.natural": "=2+3", "p3.open.total": f"=SUM({row[0]}:{row[-1]})"}
    src = tmp_path / "src"
    src.mkdir()
    no_cache = fill(shutil.copy(template_2021, src / "公式未计算.xlsx"), typed)
    # Re-saved by a real LibreOffice: formulas get their cached results.
    cached = soffice_convert(fill(shutil.copy(template_2021, src / "formula.xlsx"), typed),
                             "xlsx:Calc MS Excel 2007 XML", tmp_path / "lo", tmp_path / "lo-profile")
    cached = cached.rename(cached.with_name("公式已计算.xlsx"))
    reports = run_batch(tmp_path, good_returns, no_cache, cached)

    r = reports["公式已计算.xlsx"]
    assert (r.status, r.read_by, r.findings) == ("pass", "names", [])
    assert r.figures == numbers(values)

    r = reports["公式未计算.xlsx"]
    assert r.status == "fail"
    assert found(r) == [("R6.formula", "error", P3.sheet, natural.cell),
                        ("R6.formula", "error", P3.sheet, total.cell)]
    assert [f.value for f in r.findings] == ["=2+3", f"=SUM({row[0]}:{row[-1]})"]


# ------------------------------------------------------------------ the time limit


def make_slow(src: Path, dest: Path, key: str, rows: int = 1_048_576, cells_per_row: int = 6) -> Path:
    """``src`` with ``rows`` padding rows appended to the sheet of figure ``key`` and that
    figure's defined name moved to the sheet's very last row (which holds its value): a
    reader must pass a million rows to reach it.  Written with streaming deflate."""
    fig = FMT.figures[key]
    last = f"{get_column_letter(fig.area.min_col)}{rows}"
    with zipfile.ZipFile(src) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    sheet_xml = _sheet_member(members, fig.sheet)
    wb_xml = members["xl/workbook.xml"].decode()
    wb_xml, n = re.subn(rf'(<definedName\b[^>]*\bname="{fig.name}"[^>]*>)[^<]*(</definedName>)',
                        lambda m: f"{m.group(1)}{_quote(fig.sheet)}!${last[0]}${rows}{m.group(2)}", wb_xml)
    assert n == 1
    members["xl/workbook.xml"] = wb_xml.encode()
    head, tail = members[sheet_xml].decode().split("</sheetData>")
    top = max(int(r) for r in re.findall(r'<row r="(\d+)"', head))
    pad = b"<row>" + b"<c><v>0</v></c>" * cells_per_row + b"</row>"
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            if name != sheet_xml:
                z.writestr(name, data)
        with z.open(sheet_xml, "w", force_zip64=True) as out:
            out.write(head.encode())
            left = rows - top - 1
            while left:
                k = min(left, 10_000)
                out.write(pad * k)
                left -= k
            out.write(f'<row r="{rows}"><c r="{last}"><v>3</v></c></row></sheetData>{tail}'.encode())
    return dest


def _sheet_member(members: dict[str, bytes], sheet: str) -> str:
    wb_xml = members["xl/workbook.xml"].decode()
    rid = re.search(rf'<sheet\b[^>]*\bname="{re.escape(sheet)}"[^>]*\br:id="(rId\d+)"', wb_xml).group(1)
    rels = members["xl/_rels/workbook.xml.rels"].decode()
    target = re.search(rf'<Relationship Id="{rid}"[^>]*Target="([^"]+)"', rels) or re.search(
        rf'<Relationship [^>]*Target="([^"]+)"[^>]*Id="{rid}"', rels)
    return "xl/" + target.group(1).lstrip("/").removeprefix("xl/")


def test_slow_file_gets_F6_and_the_batch_goes_on(blank_return, tmp_path, good_returns, figures_a):
    """A million rows before the last figure, every other limit raised: only the time
    limit (1 s per file) stops it.  The good files in the same batch still pass."""
    f = make_slow(fill(blank_return, figures_a), tmp_path / "百万行.xlsx", "p3.carry_forward.total")
    limits = Limits(max_seconds=1, max_rows=2_000_000, max_cells=100_000_000, max_uncompressed_mb=4096,
                    max_ratio=1_000_000)
    r = run_batch(tmp_path, good_returns, f, limits=limits)["百万行.xlsx"]
    assert (r.status, r.read_by) == ("unreadable", None)
    assert found(r) == [("F6", "error", None, None)]
    assert r.findings[0].message == "文件超出限制：处理时间超过 1 秒，请删除多余内容后重新报送"
