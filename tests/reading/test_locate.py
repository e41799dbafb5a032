"""The label fallback on real workbooks written with openpyxl: our own layout, a national
layout rebuilt by hand on one sheet, an unrelated sheet, a deleted label, and telling the
2019 trial format from the 2021 one.  Every label written here comes from toolkit.formats.spec."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
import yaml
from openpyxl.utils.cell import get_column_letter

from toolkit.formats import spec
from toolkit.formats.spec import Area, Format
from toolkit.reading.locate import (
    Grid,
    detect_format,
    grids_from_book,
    locate,
    normalize_label,
)

FMT = spec.get("gov-2021")


# --- adapter: an openpyxl workbook as grids, the way the Book will hand them over -----------

def grids_of(path: Path) -> dict[str, Grid]:
    wb = openpyxl.load_workbook(path)
    grids = {}
    for ws in wb.worksheets:
        texts = {}
        for row in ws.iter_rows(max_row=300, max_col=40):
            for c in row:
                if c.value is not None and str(c.value) != "":
                    texts[(c.row, c.column)] = str(c.value)
        grids[ws.title] = Grid(texts, [tuple(r.bounds) for r in ws.merged_cells.ranges])
    return grids


def put(ws, area: Area, value) -> None:
    ws.cell(area.min_row, area.min_col, value)
    if area.is_merged:
        ws.merge_cells(start_row=area.min_row, start_column=area.min_col,
                       end_row=area.max_row, end_column=area.max_col)


def write_own_layout(fmt: Format, path: Path, parts=None, skip_labels=()) -> dict[str, int]:
    """Every title, head and label at its spec place, each figure a distinct number."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    values = {}
    for part in fmt.parts:
        if parts is not None and part.key not in parts:
            continue
        ws = wb.create_sheet(part.sheet)
        put(ws, part.title_area, part.title)
        for head in part.heads:
            for area in head.areas:
                put(ws, area, head.text)
        for table in part.tables:
            for label in (*table.columns, *table.rows):
                if label.text and (part.key, label.key) not in skip_labels:
                    put(ws, label.area, label.text)
        for f in fmt.part_figures(part.key):
            values[f.key] = len(values) + 1
            put(ws, f.area, values[f.key])
    wb.save(path)
    return values


# --- a national layout rebuilt by hand: everything on one sheet, other offsets ---------------

def half(text: str) -> str:
    return text.replace("（", "(").replace("）", ")")


def write_foreign_layout(path: Path, drop: frozenset[str] = frozenset()) -> dict[str, str]:
    """Parts 二 (A1), 三 (B40) and 四 (A80) on one sheet "Sheet1"; returns key -> cell.
    ``drop``: keys of part 四's column labels to leave out."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    at: dict[str, tuple[int, int]] = {}

    p2 = FMT.part("p2")
    ws.cell(1, 1, p2.title + "  ")
    content = next(h.text for h in p2.heads if h.key == "content")
    r = 3
    for table in p2.tables:
        ws.cell(r, 1, half(table.columns[0].path[-1]))  # the block head, 第二十条第(一)项
        ws.cell(r + 1, 1, content)
        for j, col in enumerate(table.columns):
            ws.cell(r + 1, 2 + j, half(col.text))
        for i, row in enumerate(table.rows):
            ws.cell(r + 2 + i, 1, row.text + " ")
            for j, col in enumerate(table.columns):
                at[f"p2.{row.key}.{col.key}"] = (r + 2 + i, 2 + j)
        r += 3 + len(table.rows)

    p3 = FMT.part("p3")
    heads = {h.key: h.text for h in p3.heads}
    table = p3.tables[0]
    ws.cell(40, 2, half(p3.title))
    ws.cell(41, 2, half(heads["note"]))
    ws.cell(41, 5, heads["applicants"])
    ws.merge_cells("E41:M41")
    ws.cell(42, 7, heads["org"])
    ws.merge_cells("G42:L42")
    # E 自然人, F empty spacer, G..K the organisations, L an extra 小计, M 总计
    col_at = {"natural": 5, "business": 7, "research": 8, "nonprofit": 9, "legal": 10,
              "other_org": 11, "total": 13}
    for col in table.columns:
        text = col.text[:2] + "\n" + col.text[2:] if col.key == "business" else col.text
        ws.cell(42 if len(col.path) == 1 else 43, col_at[col.key], text)
    ws.cell(43, 12, "小计")
    groups_started = set()
    for i, row in enumerate(table.rows):
        r = 44 + i
        text = half(row.text)
        if row.key == "partial":
            text = text.replace("情形", "情况", 1)  # the slip seen in real returns
        if row.key == "deny_internal":
            text = text.replace("内部", "内容")
        for depth, head in enumerate(row.path):  # group heads beside their first item
            if head not in groups_started:
                groups_started.add(head)
                ws.cell(r, 2 + depth, half(head))
        ws.cell(r, 2 + len(row.path), text + (" " if i % 3 == 0 else ""))
        for col in table.columns:
            at[f"p3.{row.key}.{col.key}"] = (r, col_at[col.key])
        ws.cell(r, 12, 5 * i)  # the 小计 column's figures

    p4 = FMT.part("p4")
    heads = {h.key: h.text for h in p4.heads}
    ws.cell(80, 4, p4.title)  # typed over the middle of the table, not merged
    ws.cell(81, 1, heads["review"])
    ws.merge_cells("A81:E81")
    ws.cell(81, 6, heads["suit"])  # not merged: the reader must not need merges
    ws.cell(82, 6, heads["direct"])
    ws.cell(82, 11, heads["after"])
    for j, col in enumerate(p4.tables[0].columns):
        text = col.text[:2] + "\n" + col.text[2:] if col.key.endswith("corrected") else col.text
        if col.key not in drop:
            ws.cell(83, 1 + j, text)
        at[f"p4.cases.{col.key}"] = (85, 1 + j)  # below a blank spacer row
    ws.cell(86, 1, "注：本表由办公室填报")

    cells = {}
    for n, (key, (row, col)) in enumerate(at.items()):
        ws.cell(row, col, n % 9)
        cells[key] = f"{get_column_letter(col)}{row}"
    wb.save(path)
    return cells


# --- tests -----------------------------------------------------------------------------------

def test_normalize_label_tolerances():
    label = next(lab for lab in FMT.part("p3").tables[0].rows if lab.key == "deny_safety")
    assert normalize_label(label.text) == normalize_label(label.text.replace("“", '"').replace("”", '"'))
    assert normalize_label(label.text) == normalize_label(label.text.replace("“", "").replace("”", ""))
    partial = next(lab for lab in FMT.part("p3").tables[0].rows if lab.key == "partial")
    assert normalize_label(partial.text) == normalize_label(half(partial.text))
    assert normalize_label("商业\n企业") == normalize_label("\u3000商业 企业\u00a0") == "商业企业"
    assert normalize_label("单位名称：") == "单位名称"
    assert normalize_label("1、属于") == normalize_label("1．属于") == normalize_label("1.属于")
    assert normalize_label(None) == "" and normalize_label(12) == "12"
    assert normalize_label("总计") != normalize_label("（七）总计")


def test_own_layout_every_figure_at_its_spec_cell(tmp_path):
    path = tmp_path / "own.xlsx"
    write_own_layout(FMT, path)
    located = locate(grids_of(path), FMT)
    assert len(FMT.figures) == 200
    assert located.cells == {k: (f.sheet, f.cell) for k, f in FMT.figures.items()}
    assert located.missing == {} and located.notes == []
    assert located.score == 1.0
    assert located.sheets == {p.key: p.sheet for p in FMT.parts}


def test_foreign_layout_on_one_sheet(tmp_path):
    path = tmp_path / "rebuilt.xlsx"
    expected = write_foreign_layout(path)
    grids = grids_of(path)
    located = locate(grids, FMT)
    assert located.missing == {}
    assert located.cells == {k: ("Sheet1", expected[k]) for k in FMT.figures}
    # A sample, spelled out: the layout's own cells, not the format's.
    assert located.cells["p2.rules.issued"] == ("Sheet1", "B5")
    assert located.cells["p2.normative.in_force"] == ("Sheet1", "D6")
    assert located.cells["p2.licensing.decisions"] == ("Sheet1", "B10")
    assert located.cells["p2.fees.amount"] == ("Sheet1", "B19")
    assert located.cells["p3.received.natural"] == ("Sheet1", "E44")
    assert located.cells["p3.received.business"] == ("Sheet1", "G44")  # past the spacer
    assert located.cells["p3.received.total"] == ("Sheet1", "M44")  # past the 小计
    assert located.cells["p3.partial.other_org"] == ("Sheet1", "K47")
    assert located.cells["p3.deny_internal.total"] == ("Sheet1", "M52")
    assert located.cells["p3.result_total.total"] == ("Sheet1", "M67")
    assert located.cells["p3.carry_forward.natural"] == ("Sheet1", "E68")
    assert located.cells["p4.cases.review_upheld"] == ("Sheet1", "A85")
    assert located.cells["p4.cases.direct_upheld"] == ("Sheet1", "F85")
    assert located.cells["p4.cases.after_total"] == ("Sheet1", "O85")
    assert located.sheets == {"p2": "Sheet1", "p3": "Sheet1", "p4": "Sheet1"}
    # The two slipped labels were read by similarity, and said so; nothing else was.
    assert len(located.notes) == 2
    assert any("只计这一情况" in n and "第三部分的行标签" in n for n in located.notes)
    assert any("三类内容事务信息" in n and "三类内部事务信息" in n for n in located.notes)
    assert 0.95 < located.score < 1.0
    fmt, fit, _ = detect_format(grids, [FMT])
    assert fmt is FMT and fit > 0.8


def test_unrelated_sheet_reads_as_nothing(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "人员名单"
    ws.append(["序号", "姓名", "性别", "部门", "职务", "联系电话", "其他"])
    for i in range(1, 31):
        ws.append([i, f"职工{i}", "男" if i % 2 else "女", "办公室", "科员", f"1380000{i:04d}", ""])
    ws.append(["总计", "30人"])
    path = tmp_path / "staff.xlsx"
    wb.save(path)
    grids = grids_of(path)
    located = locate(grids, FMT)
    assert located.score < 0.05
    assert located.cells == {} and len(located.missing) == 200
    assert "找不到第三部分" in located.missing["p3.received.total"]
    fmt, fit, scores = detect_format(grids, [FMT])
    assert fmt is None and fit < 0.05 and scores == {FMT.id: fit}


def test_deleted_row_label(tmp_path):
    path = tmp_path / "deleted.xlsx"
    write_own_layout(FMT, path, skip_labels={("p3", "deny_secret")})
    located = locate(grids_of(path), FMT)
    gone = [k for k, f in FMT.figures.items() if f.part == "p3" and f.row == "deny_secret"]
    assert len(gone) == 7
    assert set(located.missing) == set(gone)
    label = FMT.figures[gone[0]].row_label.text
    assert all(located.missing[k] == f"找不到行标签“{label}”" for k in gone)
    assert located.cells == {k: (f.sheet, f.cell) for k, f in FMT.figures.items() if k not in gone}


def test_missing_column_label_does_not_take_the_next_groups(tmp_path):
    """未经复议直接起诉's 结果维持 deleted: the one under 复议后起诉 is not borrowed for it."""
    path = tmp_path / "nocol.xlsx"
    write_own_layout(FMT, path, skip_labels={("p4", "direct_upheld")})
    located = locate(grids_of(path), FMT)
    assert set(located.missing) == {"p4.cases.direct_upheld"}
    col = FMT.figures["p4.cases.direct_upheld"].column_label
    assert located.missing["p4.cases.direct_upheld"] == (
        f"找不到列标签“{col.text}”（位于“{' / '.join(col.path)}”下）")
    assert located.cells == {k: (f.sheet, f.cell) for k, f in FMT.figures.items()
                             if k != "p4.cases.direct_upheld"}


def test_missing_column_label_unmerged_heads(tmp_path):
    """The same without merges: 未经复议直接起诉 ends where 复议后起诉 begins."""
    path = tmp_path / "rebuilt.xlsx"
    expected = write_foreign_layout(path, drop=frozenset({"direct_upheld"}))
    located = locate(grids_of(path), FMT)
    assert set(located.missing) == {"p4.cases.direct_upheld"}
    assert located.cells["p4.cases.after_upheld"] == ("Sheet1", "K85")
    assert located.cells == {k: ("Sheet1", expected[k]) for k in FMT.figures
                             if k != "p4.cases.direct_upheld"}


def test_repeated_label_nearest_to_its_head():
    """Labels of two groups on different rows, 复议后起诉 missing: 未经复议直接起诉 takes the
    结果维持 right below it, not the one that comes first in reading order."""
    p4 = FMT.part("p4")
    heads = {h.key: h.text for h in p4.heads}
    cols = p4.tables[0].columns
    texts = {(1, 1): p4.title, (2, 1): heads["review"], (2, 6): heads["suit"], (3, 6): heads["direct"]}
    for j, col in enumerate(cols):
        texts[(4 if j >= 10 else 5, 1 + j)] = col.text  # 复议后起诉's labels one row up
    located = locate({"表": Grid(texts)}, FMT)
    assert located.cells["p4.cases.direct_upheld"] == ("表", "F6")
    assert located.cells["p4.cases.after_upheld"] == ("表", "K6")
    assert not any(k.startswith("p4.") for k in located.missing)


# --- 2019 against 2021 ------------------------------------------------------------------------

def trial_format(tmp_path: Path) -> Format:
    """The 2019 trial format: from workbook_templates when it is there, else rebuilt here
    from the 2021 data with the differences listed in national-format.md."""
    if "gov-2019" in spec.formats():
        return spec.get("gov-2019")
    data = yaml.safe_load(FMT.source.read_text(encoding="utf-8"))
    data.update(id="gov-2019", document="国办公开办函〔2019〕60号", years=[2019, 2020],
                checks=[], key_figures=[])
    p2, p3 = data["parts"][0], data["parts"][1]
    t1, t5, t6, t8 = p2["tables"]
    for col, text in zip(t1["columns"], ["本年新制作数量", "本年新公开数量", "对外公开总数量"]):
        col["text"] = text
    t1["rows"][1]["text"] = "规范性文件"
    for t, texts in ((t5, ["上一年项目数量", "本年增/减", "处理决定数量"]),
                     (t6, ["上一年项目数量", "本年增/减", "处理决定数量"]),
                     (t8, ["上一年项目数量", "本年增/减"])):
        first = Area.parse(t["columns"][0]["at"])
        path = t["columns"][0]["path"]
        t["columns"] = [{"key": f"c{j}", "text": text, "path": path, "kind": "signed_count",
                         "at": f"{get_column_letter(first.min_col + j)}{first.min_row}"}
                        for j, text in enumerate(texts)]
    p2["heads"].append({"key": "art20_9", "text": "第二十条第（九）项", "at": "A16:D16"})
    next(h for h in p2["heads"] if h["key"] == "content")["at"].append("A17")
    p2["tables"].append({"columns": [
        {"key": "projects", "text": "采购项目数量", "at": "B17", "path": ["art20_9"]},
        {"key": "amount", "text": "采购总金额", "at": "C17", "path": ["art20_9"], "kind": "amount_wan"}],
        "rows": [{"key": "procurement", "text": "政府集中采购", "at": "A18"}]})
    # （六）其他处理: one row, no items; the rows below move up two.
    other = next(h for h in p3["heads"] if h["key"] == "other")
    p3["heads"].remove(other)
    next(h for h in p3["heads"] if h["key"] == "results")["at"] = "A7:A26"
    rows = [r for r in p3["tables"][0]["rows"] if not r["key"].startswith("other_")]
    rows.insert(-2, {"key": "other", "text": other["text"], "at": "B25:C25", "path": ["results"]})
    rows[-2]["at"], rows[-1]["at"] = "B26:C26", "A27:C27"
    p3["tables"][0]["rows"] = rows
    path = tmp_path / "gov-2019.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return spec._load(path)


@pytest.mark.parametrize("parts", [None, {"p3"}, {"p2"}], ids=["whole", "part3-only", "part2-only"])
def test_2019_and_2021_told_apart(tmp_path, parts):
    trial = trial_format(tmp_path)
    for fmt, other in ((FMT, trial), (trial, FMT)):
        path = tmp_path / f"{fmt.id}.xlsx"
        write_own_layout(fmt, path, parts=parts)
        grids = grids_of(path)
        found, fit, scores = detect_format(grids, [FMT, trial])
        assert found is fmt, (fmt.id, scores)
        assert scores[fmt.id] == fit > scores[other.id]
        if parts is None:
            assert fit == 1.0
            assert locate(grids, fmt).cells == {k: (f.sheet, f.cell) for k, f in fmt.figures.items()}


# --- the Book interface ------------------------------------------------------------------------

class _Raw:
    def __init__(self, value):
        self.value = value


class _Sheet:
    def __init__(self, name, state="visible"):
        self.name, self.state = name, state


class _FakeBook:
    """The Book interface as toolkit/book.py describes it: read_grid and merged_ranges."""

    def __init__(self, path: Path):
        self.wb = openpyxl.load_workbook(path)
        self.sheets = [_Sheet(ws.title, ws.sheet_state) for ws in self.wb.worksheets]

    def read_grid(self, sheet, max_rows=300, max_cols=40):
        ws = self.wb[sheet]
        return {(c.row, c.column): _Raw(c.value) for row in ws.iter_rows(max_row=max_rows, max_col=max_cols)
                for c in row if c.value is not None}

    def merged_ranges(self, sheet):
        return [str(r) for r in self.wb[sheet].merged_cells.ranges] + ["not a range"]


def test_grids_from_book(tmp_path):
    path = tmp_path / "own.xlsx"
    write_own_layout(FMT, path)
    wb = openpyxl.load_workbook(path)
    wb.create_sheet("_meta").sheet_state = "veryHidden"
    wb.save(path)
    grids = grids_from_book(_FakeBook(path))
    assert set(grids) == {p.sheet for p in FMT.parts}
    assert grids == {name: g for name, g in grids_of(path).items() if name != "_meta"}
    located = locate(grids, FMT)
    assert located.cells == {k: (f.sheet, f.cell) for k, f in FMT.figures.items()}
