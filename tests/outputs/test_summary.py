"""汇总.xlsx and roster coverage, opened again with openpyxl; and the annotated copy and
the summary converted to PDF by a real headless LibreOffice."""

from __future__ import annotations

import os
import time
from pathlib import Path
from urllib.parse import unquote

import openpyxl
import pytest
from conftest import soffice_convert
from figures import filled_return, sha256

from toolkit.formats import spec
from toolkit.formats.findings import FileReport, Finding
from toolkit.outputs.annotate import annotate, annotate_all
from toolkit.outputs.coverage import coverage
from toolkit.outputs.summary import SUMMARY_NAME, write_summary
from toolkit.reading.roster import RosterEntry

FMT = spec.get("gov-2021")
FIG = FMT.figures
EVIL = '=HYPERLINK("http://example.com","点我")'


def figures(received: float) -> dict[str, float]:
    values = {k: 0.0 for k in FMT.figures}
    values["p3.received.total"] = received
    values["p2.fees.amount"] = 24.1982
    return values


@pytest.fixture()
def batch(tmp_path):
    """Three returns as check would report them: one clean, one with mistakes (agency name
    that looks like a formula), one unreadable."""
    ok = filled_return(tmp_path / "in" / "甲局.xlsx", agency="甲局")
    bad = filled_return(tmp_path / "in" / "乙局.xlsx", agency=EVIL)
    broken = tmp_path / "in" / "丙局.xlsx"
    broken.write_bytes(b"")
    findings = [
        Finding.of("R3", figure=FIG["p3.received.total"], value=13, expected=12, expr="5 + 7"),
        Finding.of("R6.nil", figure=FIG["p3.open.natural"], value="无"),
        Finding.of("R6.nil", figure=FIG["p3.open.business"], value="—"),
        Finding.of("R8", figure=FIG["p2.normative.in_force"], value=5, expected=6, expr="10 + 1 − 5"),
    ]
    reports = [
        FileReport(path=str(ok), agency="甲局", year=2023, format=FMT.id, read_by="names",
                   figures=figures(7)),
        FileReport(path=str(bad), agency=EVIL, year=2023, format=FMT.id, read_by="names",
                   findings=findings, figures={k: v for k, v in figures(13).items() if k != "p3.received.total"}),
        FileReport(path=str(broken), unreadable=True, findings=[Finding.of("F1")]),
    ]
    return reports


def rows_of(ws, header_row: int, width: int) -> list[list]:
    return [[c.value for c in r] for r in ws.iter_rows(min_row=header_row + 1, max_col=width)
            if any(c.value is not None for c in r)]


def test_summary_rows_links_figures_charts(batch, tmp_path):
    out = tmp_path / "out"
    made = annotate_all(batch, out)
    path = write_summary(batch, out, annotated=made.for_summary())
    assert path == out / SUMMARY_NAME
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["报送情况", "全部文件", "主要数字", "图表"]
    first = wb["报送情况"]  # no roster: one row per agency as the files name it
    assert first.cell(1, 1).value == "报送情况：共 3 个单位，通过 1 个，需修改 1 个，无法读取 1 个"
    assert [r[:3] for r in rows_of(first, 3, 8)] == [[1, "甲局", "通过"], [2, EVIL, "需修改"], [3, "丙局", "无法读取"]]

    ws = wb["全部文件"]
    assert ws.cell(1, 1).value == "全部文件：共 3 个，通过 1 个，需修改 1 个，无法读取 1 个"
    assert [c.value for c in ws[3]] == ["序号", "单位名称", "年度", "文件", "状态", "错误数", "提醒数",
                                        "主要问题", "批注文件"]
    rows = rows_of(ws, 3, 9)
    assert [r[:7] for r in rows] == [
        [1, "甲局", 2023, "甲局.xlsx", "通过", 0, 0],
        [2, EVIL, 2023, "乙局.xlsx", "需修改", 3, 1],
        [3, "丙局（按文件名）", None, "丙局.xlsx", "无法读取", 1, 0],
    ]
    assert ws.cell(5, 2).data_type == "s"  # the formula-looking name stays text
    problems = rows[1][7]
    assert problems.startswith(f"{FIG['p3.received.total'].sheet} {FIG['p3.received.total'].cell}：本行各项之和为 ")
    assert problems.count("；") == 3 and problems.endswith("……等共 4 项")
    assert rows[0][8] == "无需修改"
    assert "无法读取" in rows[2][8]
    link = ws.cell(5, 9).hyperlink
    assert unquote(link.target).replace("\\", "/") == "annotated/乙局_校验意见.xlsx"
    assert (out / unquote(link.target).replace("\\", "/")).is_file()
    assert ws.auto_filter.ref == "A3:I6" and ws.freeze_panes == "C4"

    ws = wb["主要数字"]
    head = [c.value for c in ws[3]]
    assert head[:4] == ["序号", "单位名称", "年度", "状态"]
    assert head[4:-1] == [FIG[k].title for k in FMT.key_figures] and head[-1] == "备注"
    col = 5 + FMT.key_figures.index("p3.received.total")
    fee = 5 + FMT.key_figures.index("p2.fees.amount")
    assert [ws.cell(r, 2).value for r in (4, 5, 6)] == ["甲局", EVIL, "合计（通过校验的 1 个单位）"]
    assert ws.cell(5, 2).data_type == "s"
    assert (ws.cell(4, col).value, ws.cell(5, col).value, ws.cell(6, col).value) == (7, None, 7)
    # 合计 counts passing files only (as the roll-up does): 甲局 passed, 乙局 needs changes.
    assert ws.cell(6, fee).value == pytest.approx(24.1982) and ws.cell(4, fee).number_format == "0.0000"

    ws = wb["图表"]
    assert len(ws._charts) == 2
    assert [[c.value for c in r] for r in ws.iter_rows(min_row=3, max_row=6, max_col=2)] == \
           [["通过", 1], ["需修改", 1], ["无法读取", 1], ["未报送", 0]]
    ranked = [[c.value for c in r] for r in ws.iter_rows(min_row=11, max_row=14, max_col=4)]
    assert ranked == [["R6.nil", "应填数字 0", 2, 1], ["F1", "空文件", 1, 1],
                      ["R3", "行合计", 1, 1], ["R8", "现行有效件数衔接", 1, 1]]


def test_rerun_replaces_summary_atomically(batch, tmp_path):
    out = tmp_path / "out"
    first = write_summary(batch, out)
    write_summary(batch[:1], out)
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [SUMMARY_NAME]
    ws = openpyxl.load_workbook(first)["全部文件"]
    assert len(rows_of(ws, 3, 9)) == 1


def test_no_findings_no_bar_chart(batch, tmp_path):
    wb = openpyxl.load_workbook(write_summary(batch[:1], tmp_path))
    assert len(wb["图表"]._charts) == 1
    assert wb["图表"].cell(11, 1).value == "本批次没有发现问题。"


# ------------------------------------------------------------------ coverage


def _touch(path: Path, t: float) -> None:
    os.utime(path, (t, t))


def test_coverage_missing_duplicates_outside(tmp_path):
    files = {}
    for name in ("a1.xlsx", "a2.xlsx", "b.xlsx", "x.xlsx", "樟树市 丁局 报表.xlsx", "乱码.xlsx"):
        files[name] = tmp_path / name
        files[name].write_bytes(b"PK\x03\x04")
    now = time.time()
    _touch(files["a1.xlsx"], now - 100)
    _touch(files["a2.xlsx"], now - 50)  # newer: used
    roster = [RosterEntry("樟树市甲局", "张三", "a@example.cn"), RosterEntry("樟树市乙局"),
              RosterEntry("樟树市丙局"), RosterEntry("樟树市丁局")]
    reports = [
        FileReport(path=str(files["a1.xlsx"]), agency="樟树市 甲局", findings=[]),
        FileReport(path=str(files["a2.xlsx"]), agency="樟树市甲局\u3000", findings=[]),
        FileReport(path=str(files["b.xlsx"]), agency="樟树市乙局"),
        FileReport(path=str(files["x.xlsx"]), agency="新余市某局"),
        FileReport(path=str(files["樟树市 丁局 报表.xlsx"]), unreadable=True, findings=[Finding.of("F1")]),
        FileReport(path=str(files["乱码.xlsx"]), unreadable=True, findings=[Finding.of("F1")]),
    ]
    cov = coverage(reports, roster)
    assert [a.name for a in cov.missing] == ["樟树市丙局"]
    (dup,) = cov.duplicates
    assert dup.name == "樟树市甲局" and [Path(r.path).name for r in dup.reports] == ["a2.xlsx", "a1.xlsx"]
    assert dup.used.path == str(files["a2.xlsx"])
    assert cov.unused() == {str(files["a1.xlsx"])}
    assert [r.agency for r in cov.outside] == ["新余市某局"]
    assert [Path(r.path).name for r in cov.unidentified] == ["乱码.xlsx"]
    ding = cov.agencies[3]
    assert ding.status == "已报送" and ding.by_filename == {str(files["樟树市 丁局 报表.xlsx"])}

    lines = cov.lines()
    assert lines[0] == ("单位名单共 4 个单位：已报送 3 个，未报送 1 个，重复报送 1 个；名单外文件 1 个，"
                        "无法识别单位的文件 1 个。")
    assert lines[1] == "未报送（1 个）：樟树市丙局"
    assert lines[3] == "  樟树市甲局：2 个文件"
    assert lines[4].startswith("    采用 a2.xlsx（修改于 ") and lines[5].startswith("    未采用 a1.xlsx（修改于 ")
    assert lines[6].startswith("    理由：文件修改时间最新（")
    assert lines[7] == "名单外（1 个文件）：x.xlsx（单位名称：新余市某局）"
    assert lines[8] == "无法识别单位（1 个文件）：乱码.xlsx（无法读取）"

    # A newer unreadable return does not replace an older readable one.
    _touch(files["b.xlsx"], now - 10)
    late = tmp_path / "b_late.xlsx"
    late.write_bytes(b"")
    broken_b = FileReport(path=str(late), agency="樟树市乙局", unreadable=True, findings=[Finding.of("F1")])
    cov2 = coverage([*reports, broken_b], roster)
    assert cov2.agencies[1].used.path == str(files["b.xlsx"])

    wb = openpyxl.load_workbook(write_summary(reports, tmp_path / "out", coverage=cov))
    ws = wb["报送情况"]
    assert [c.value for c in ws[3]] == ["序号", "单位名称", "状态", "采用文件", "错误数", "提醒数", "主要问题", "说明"]
    got = [r[:4] for r in rows_of(ws, 3, 8)]
    assert got == [
        [1, "樟树市甲局", "通过", "a2.xlsx"],
        [2, "樟树市乙局", "通过", "b.xlsx"],
        [3, "樟树市丙局", "未报送", None],
        [4, "樟树市丁局", "无法读取", "樟树市 丁局 报表.xlsx"],
        [5, "新余市某局", "通过", "x.xlsx"],
        [6, "乱码", "无法读取", "乱码.xlsx"],
    ]
    # The choice, and its reason.
    assert ws.cell(4, 8).value.startswith("共 2 个文件，采用的理由：文件修改时间最新（")
    assert ws.cell(4, 8).value.endswith("）；未采用：a1.xlsx")
    assert ws.cell(7, 8).value.startswith("文件中未能读取单位名称，按文件名匹配")
    assert ws.cell(8, 8).value == "单位名称不在名单中"
    assert ws.cell(9, 8).value == "单位名称和文件名都不在名单中；文件无法读取，单位按文件名识别"
    figs = wb["主要数字"]
    notes = {figs.cell(r, 2).value: figs.cell(r, figs.max_column).value for r in range(4, 7)}
    assert notes["樟树市 甲局"] == "重复报送，未采用" and notes["樟树市甲局\u3000"] in (None, "")


# ------------------------------------------------------------------ the whole batch


def test_check_batch_with_roster_keeps_inputs(tmp_path):
    from toolkit.outputs import check
    from toolkit.reading.roster import write_sample_roster

    src = tmp_path / "returns"
    good = filled_return(src / "甲局.xlsx", agency="樟树市甲局")
    bad = filled_return(src / "乙局.xlsx", agency="樟树市乙局")
    wb = openpyxl.load_workbook(bad)
    wb[FIG["p3.received.natural"].sheet][FIG["p3.received.natural"].cell].value = 3
    wb.save(bad)
    roster = write_sample_roster(tmp_path / "单位名单.xlsx",
                                 [RosterEntry("樟树市甲局"), RosterEntry("樟树市乙局"), RosterEntry("樟树市丙局")])
    inputs = [good, bad, roster]
    before = {p: sha256(p) for p in inputs}
    out = tmp_path / "out"
    batch = check.run([src], out, roster=roster)
    assert {p: sha256(p) for p in inputs} == before
    assert [a.name for a in batch.coverage.missing] == ["樟树市丙局"]
    wb = openpyxl.load_workbook(out / SUMMARY_NAME)
    assert wb.sheetnames == ["报送情况", "全部文件", "主要数字", "图表"]
    statuses = {r[1]: r[4] for r in rows_of(wb["全部文件"], 3, 9)}
    assert statuses == {"樟树市甲局": "通过", "樟树市乙局": "需修改"}
    assert {r[1]: r[2] for r in rows_of(wb["报送情况"], 3, 8)} == {
        "樟树市甲局": "通过", "樟树市乙局": "需修改", "樟树市丙局": "未报送"}
    assert (out / "annotated" / "乙局_校验意见.xlsx").is_file()
    # Running again into the same OUTDIR replaces, and the inputs are still untouched.
    check.run([src], out, roster=roster)
    assert sorted(p.name for p in (out / "annotated").iterdir() if not p.name.startswith(".")) == ["乙局_校验意见.xlsx"]
    assert {p: sha256(p) for p in inputs} == before


# ------------------------------------------------------------------ LibreOffice


@pytest.mark.libreoffice
def test_libreoffice_renders_annotated_copy_and_summary(batch, tmp_path):
    out = tmp_path / "out"
    copy = annotate(batch[1], out / "annotated")
    summary = write_summary(batch, out, annotated={batch[1].path: copy})
    for src in (copy, summary):
        data = soffice_convert(src, "pdf", tmp_path / "pdf", tmp_path / "lo-profile").read_bytes()
        assert data.startswith(b"%PDF") and len(data) > 2000


def test_summary_written_beside_the_copies_says_which_copy_failed(tmp_path):
    """check writes 汇总.xlsx while the pool makes the copies, with the names they will
    have; a copy that cannot be made (its file spoiled after it was read) is written
    again with the reason, and the other copies keep their links."""
    from toolkit.checking.batch import check_files
    from toolkit.outputs import check

    wrong = {"p3.received.total": 999}  # the row total off: every return needs a copy
    files = [filled_return(tmp_path / "in" / f"单位{i}.xlsx", wrong, agency=f"单位{i}") for i in range(9)]
    reports, _ = check_files(files, workers=1)
    assert all(r.status == "fail" for r in reports)
    out = tmp_path / "out"
    check.prepare(out)
    spoiled = files[4]
    spoiled.write_bytes(b"PK\x03\x04" + b"\0" * 64)  # a zip header and nothing behind it
    batch = check.Batch(reports=reports, outdir=out)
    check.write_outputs(batch, workers=2)  # 9 copies >= POOL_THRESHOLD: made in the pool

    assert sorted(batch.annotated) == sorted(str(f) for f in files if f != spoiled)
    ws = openpyxl.load_workbook(out / SUMMARY_NAME)["全部文件"]
    cells = {ws.cell(r, 4).value: ws.cell(r, 9) for r in range(4, 4 + len(files))}
    assert cells["单位4.xlsx"].hyperlink is None and "无法打开工作簿" in cells["单位4.xlsx"].value
    for i in (0, 1, 2, 3, 5, 6, 7, 8):
        link = unquote(cells[f"单位{i}.xlsx"].hyperlink.target).replace("\\", "/")
        assert link == f"annotated/单位{i}_校验意见.xlsx" and (out / link).is_file()


def test_a_problem_on_a_sheet_but_no_cell_is_said_without_a_stray_space():
    from toolkit.outputs.summary import _problems

    report = FileReport(path="甲局.xlsx", findings=[Finding.of("S3", sheet="填报说明", detail="未填写年度"),
                                                      Finding.of("S3", sheet="填报说明", cell="B3", detail="未填写单位名称")])
    assert _problems(report) == "填报说明：未填写年度；\n填报说明 B3：未填写单位名称"
