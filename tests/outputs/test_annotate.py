"""Annotated copies: real templates, filled as an agency would with openpyxl, annotated,
then opened again with openpyxl to assert exactly what changed and what did not.

A mark is a conditional format of ours (its formula holds TAG) with a red or yellow
differential fill, no longer a cell fill: it must outrank the template's formats and clear
itself once the value changes (issue 12), so marked_cells reads the rules, and the cell's
own style stays exactly the original's.  Comments carry no rule ID (it has a column of
its own on 校验结果): the first line is MARK, then one line per finding."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from figures import filled_return, sha256
from openpyxl.xml.functions import tostring

from toolkit.common import atomic
from toolkit.formats import samples, spec
from toolkit.formats.findings import FileReport, Finding
from toolkit.outputs.annotate import (
    AUTHOR,
    ERROR_COLOR,
    FEEDBACK_SHEET,
    HEADER_ROW,
    MARK,
    TAG,
    TODO_FAIL,
    WARNING_COLOR,
    annotate,
    annotate_all,
    annotated_name,
)

FMT = spec.get("gov-2021")
FIG = FMT.figures
OURS = {ERROR_COLOR, WARNING_COLOR}


def report_for(path: Path, findings: list[Finding]) -> FileReport:
    agency, year = samples.seed_agency()
    return FileReport(path=str(path), sha256=sha256(path), agency=agency, year=year,
                      format=FMT.id, read_by="names", findings=findings)


def planted() -> list[Finding]:
    """Findings at known cells: two on one cell, a warning, agency text that looks like a
    formula, and one file-level finding (no cell)."""
    return [
        Finding.of("R3", figure=FIG["p3.received.total"], value=13, expected=12,
                   expr="自然人 5 + 商业企业 7"),
        Finding.of("R1", figure=FIG["p3.received.total"], value=13, expected=12,
                   lhs_expr="一 + 二", lhs_sum=13, rhs_expr="三（七）总计 + 四", rhs_sum=12),
        Finding.of("R6.text", figure=FIG["p3.open.natural"], value='=HYPERLINK("http://x","y")',
                   detail="整数"),
        Finding.of("R8", figure=FIG["p2.normative.in_force"], value=5, expected=6,
                   expr="上年 10 + 制发 1 − 废止 5", previous="上年.xlsx"),
        Finding.of("S3", detail="未填写填报人"),
    ]


def xml(style) -> bytes:
    """A style as its XML (openpyxl's == on styles can differ for equal borders)."""
    return tostring(style.to_tree())


def our_rules(ws):
    """(cell, rule) for each conditional-format rule of ours on ``ws``."""
    return [(str(cf.sqref), rule) for cf in ws.conditional_formatting for rule in cf.rules
            if any(TAG in f for f in rule.formula)]


def marked_cells(wb) -> tuple[dict, dict]:
    """(sheet, cell) -> mark colour for cells with our marks; (sheet, cell) -> comment."""
    fills, comments = {}, {}
    dxfs = wb._differential_styles.styles
    for ws in wb.worksheets:
        if ws.title == FEEDBACK_SHEET:
            continue
        for cell, rule in our_rules(ws):
            colour = dxfs[rule.dxfId].fill.bgColor.rgb
            assert colour in OURS
            fills[(ws.title, cell)] = colour
        for row in ws.iter_rows():
            for c in row:
                if c.comment is not None:
                    comments[(ws.title, c.coordinate)] = c.comment
    return fills, comments


def assert_template_kept(original: Path, copy: Path) -> None:
    """Protection (with its hash), validation, conditional formats, names, the very hidden
    _meta sheet and the custom document properties are those of the original."""
    a, b = openpyxl.load_workbook(original), openpyxl.load_workbook(copy)
    assert b.sheetnames == [FEEDBACK_SHEET, *a.sheetnames]
    assert a.security is not None and a.security.lockStructure
    assert (b.security.lockStructure, b.security.workbookPassword) == (True, a.security.workbookPassword)
    for wa in a.worksheets:
        wb_ = b[wa.title]
        assert wb_.sheet_state == wa.sheet_state
        assert wb_.protection.sheet is True
        assert wb_.protection.password == wa.protection.password and wa.protection.password
        assert [(str(d.sqref), d.type, d.formula1) for d in wb_.data_validations.dataValidation] == \
               [(str(d.sqref), d.type, d.formula1) for d in wa.data_validations.dataValidation]
        # The template's formats, all kept (ours come in addition, see our_rules).
        theirs = [(str(cf.sqref), [r.formula for r in cf.rules]) for cf in wb_.conditional_formatting
                  if not any(TAG in f for r in cf.rules for f in r.formula)]
        assert theirs == [(str(cf.sqref), [r.formula for r in cf.rules]) for cf in wa.conditional_formatting]
        assert wb_.print_area == wa.print_area
    assert b["_meta"].sheet_state == "veryHidden"
    assert {n: d.attr_text for n, d in b.defined_names.items()} == \
           {n: d.attr_text for n, d in a.defined_names.items()}
    assert len(a.defined_names) >= len(FMT.figures)
    assert [(p.name, p.value) for p in b.custom_doc_props.props] == \
           [(p.name, p.value) for p in a.custom_doc_props.props]
    assert {p.name for p in a.custom_doc_props.props} >= {"disclosure.format", "disclosure.fingerprint"}


@pytest.fixture()
def returned(tmp_path) -> Path:
    return filled_return(tmp_path / "in" / "樟树市人社局.xlsx")


def test_flagged_cells_exactly_and_template_kept(returned, tmp_path):
    before = sha256(returned)
    findings = planted()
    out = annotate(report_for(returned, findings), tmp_path / "out" / "annotated")

    assert out == tmp_path / "out" / "annotated" / "樟树市人社局_校验意见.xlsx"
    assert sha256(returned) == before
    assert not list(out.parent.glob(".*partial"))

    wb = openpyxl.load_workbook(out)
    fills, comments = marked_cells(wb)
    total, natural, in_force = FIG["p3.received.total"], FIG["p3.open.natural"], FIG["p2.normative.in_force"]
    assert fills == {(total.sheet, total.cell): ERROR_COLOR, (natural.sheet, natural.cell): ERROR_COLOR,
                     (in_force.sheet, in_force.cell): WARNING_COLOR}
    assert set(comments) == set(fills)
    assert all(c.author == AUTHOR for c in comments.values())
    both = comments[(total.sheet, total.cell)].text.splitlines()
    assert both[0] == MARK
    assert both[1].startswith("行合计（错误）：") and both[1].endswith(findings[0].message)
    assert both[2].startswith("勾稽关系（错误）：")
    assert comments[(in_force.sheet, in_force.cell)].text.splitlines()[1].startswith("现行有效件数衔接（提醒）：")
    assert not any(f.rule in c.text for c in comments.values() for f in findings)  # no rule ID for agencies

    # The cell itself is the original's: value, number format, border, protection, fill.
    orig = openpyxl.load_workbook(returned)
    for sheet, cell in fills:
        a, b = orig[sheet][cell], wb[sheet][cell]
        assert (b.value, b.number_format) == (a.value, a.number_format)
        assert [xml(b.border), xml(b.protection), xml(b.font), xml(b.fill)] == \
               [xml(a.border), xml(a.protection), xml(a.font), xml(a.fill)]
        assert b.protection.locked is False  # still an input cell

    ws = wb[FEEDBACK_SHEET]
    assert wb.sheetnames[0] == FEEDBACK_SHEET and wb.active.title == FEEDBACK_SHEET
    assert ws.protection.sheet is True
    assert ws["A2"].value == TODO_FAIL
    header = [ws.cell(HEADER_ROW, c).value for c in range(1, 11)]
    assert header == ["序号", "规则", "严重程度", "工作表", "单元格", "项目", "填报值", "应为", "说明", "编号"]
    rows = list(ws.iter_rows(min_row=HEADER_ROW + 1, max_col=10))
    assert [r[0].value for r in rows] == [1, 2, 3, 4, 5]
    assert [r[1].value for r in rows] == ["行合计", "勾稽关系", "不是数字", "现行有效件数衔接", "单位或年度"]
    assert [r[9].value for r in rows] == ["R3", "R1", "R6.text", "R8", "S3"]  # the ID in its own column
    assert [r[2].value for r in rows] == ["错误", "错误", "错误", "提醒", "提醒"]
    assert [r[8].value for r in rows] == [f.message for f in findings]
    for r, f in zip(rows[:4], findings[:4]):
        assert (r[3].value, r[4].value) == (f.sheet, f.cell)
        assert r[4].hyperlink.location == f"'{f.sheet}'!{f.cell}"
        assert r[4].hyperlink.target is None  # internal: no relationship, no external file
    assert rows[0][5].value == f"{total.row_text} / {total.column_text}"
    assert (rows[0][6].value, rows[0][7].value) == (13, 12)
    # Agency text that looks like a formula stays text.
    assert rows[2][6].value == '=HYPERLINK("http://x","y")' and rows[2][6].data_type == "s"
    assert rows[4][4].value is None and rows[4][4].hyperlink is None
    assert ws.cell(HEADER_ROW + 6, 1).value is None  # one row per finding, nothing more

    assert_template_kept(returned, out)


def test_reannotating_replaces_marks(returned, tmp_path):
    first = annotate(report_for(returned, planted()), tmp_path / "a1")
    # The annotated copy comes back; this time a different cell is wrong.
    again = [Finding.of("R5", figure=FIG["p4.cases.review_total"], value=3, expected=2, label="行政复议总计",
                        expr="1 + 1 + 0 + 0")]
    second = annotate(report_for(first, again), tmp_path / "a2")
    assert second.name == "樟树市人社局_校验意见.xlsx"  # not marked twice

    wb = openpyxl.load_workbook(second)
    assert wb.sheetnames.count(FEEDBACK_SHEET) == 1 and wb.sheetnames[0] == FEEDBACK_SHEET
    fills, comments = marked_cells(wb)
    fig = FIG["p4.cases.review_total"]
    assert fills == {(fig.sheet, fig.cell): ERROR_COLOR}
    assert set(comments) == {(fig.sheet, fig.cell)}
    ws = wb[FEEDBACK_SHEET]
    assert (ws.cell(HEADER_ROW + 1, 2).value, ws.cell(HEADER_ROW + 1, 10).value) == ("复议诉讼合计", "R5")
    assert ws.cell(HEADER_ROW + 2, 1).value is None
    # The cells marked the first time look exactly as in the original again.
    orig = openpyxl.load_workbook(returned)
    for f in planted()[:4]:
        assert xml(wb[f.sheet][f.cell].fill) == xml(orig[f.sheet][f.cell].fill)
        assert wb[f.sheet][f.cell].comment is None
    assert_template_kept(returned, second)
    # Nothing stacks in the parts either: the styles we need are reused, not appended again,
    # and each sheet holds one comments part and one drawing at most.
    def counts(path):
        with zipfile.ZipFile(path) as zf:
            styles = zf.read("xl/styles.xml")
            names = zf.namelist()
        return ([styles.count(tag) for tag in (b"<dxf>", b"<xf ", b"<font>", b"<fill>", b"<border>")],
                sum(n.endswith(".vml") for n in names), sum("comments" in n for n in names))
    third = annotate(report_for(second, again), tmp_path / "a3")
    assert counts(third) == counts(second)


def test_sweep_when_feedback_sheet_was_deleted(returned, tmp_path):
    first = annotate(report_for(returned, planted()), tmp_path / "a1")
    wb = openpyxl.load_workbook(first)
    del wb[FEEDBACK_SHEET]
    wb.save(first)
    second = annotate(report_for(first, []), tmp_path / "a2")
    fills, comments = marked_cells(openpyxl.load_workbook(second))
    assert fills == {} and comments == {}


def test_names():
    assert annotated_name(Path("d/樟树市人社局.xlsx")) == "樟树市人社局_校验意见.xlsx"
    assert annotated_name(Path("樟树市人社局_校验意见.xlsx")) == "樟树市人社局_校验意见.xlsx"
    assert annotated_name(Path("樟树市人社局_校验意见_2.xlsx")) == "樟树市人社局_校验意见.xlsx"
    assert annotated_name(Path("宏.xlsm")) == "宏_校验意见.xlsm"
    assert annotated_name(Path("a:b.xlsx")) == "a_b_校验意见.xlsx"
    assert annotated_name(Path("旧.xls")) is None
    assert annotated_name(Path("旧.et")) is None


def test_xls_gets_no_copy(tmp_path):
    ole = tmp_path / "旧.xls"
    ole.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)
    report = FileReport(path=str(ole), findings=[Finding.of("R6.nil", figure=FIG["p3.open.total"], value="无")])
    assert annotate(report, tmp_path / "out") is None
    result = annotate_all([report], tmp_path / "out")
    assert result.paths == {} and "另存为 .xlsx" in result.skipped[str(ole)]
    assert not (tmp_path / "out" / "annotated").exists() or not any((tmp_path / "out" / "annotated").iterdir())


def test_batch_names_rerun_and_inputs_untouched(tmp_path):
    a = filled_return(tmp_path / "甲" / "报表.xlsx")
    b = filled_return(tmp_path / "乙" / "报表.xlsx")
    clean = filled_return(tmp_path / "丙" / "好.xlsx")
    out = tmp_path / "out"
    # A returned annotated copy living inside OUTDIR/annotated is an input: never touched.
    inside = out / "annotated" / "报表_校验意见.xlsx"
    inside.parent.mkdir(parents=True)
    shutil.copy(a, inside)
    stale = out / "annotated" / "旧单位_校验意见.xlsx"
    atomic.write_bytes(stale, a.read_bytes())  # an earlier run's copy: the toolkit's own
    theirs = out / "annotated" / "别人_校验意见.xlsx"  # a copy nobody can prove is ours
    shutil.copy(a, theirs)
    inputs = [a, b, clean, inside, theirs]
    before = {p: sha256(p) for p in inputs}
    bad = [Finding.of("R6.nil", figure=FIG["p3.open.total"], value="无")]
    reports = [report_for(a, bad), report_for(b, bad), report_for(clean, []), report_for(inside, bad)]

    result = annotate_all(reports, out)
    names = sorted(p.name for p in result.paths.values())
    assert names == ["报表_校验意见_2.xlsx", "报表_校验意见_3.xlsx", "报表_校验意见_4.xlsx"]
    assert str(clean) not in result.paths and not result.skipped
    assert not stale.exists()  # an earlier run's copy that this run did not make
    assert {p: sha256(p) for p in inputs} == before
    files = sorted(p.name for p in (out / "annotated").iterdir() if not p.name.startswith("."))
    assert files == sorted(["报表_校验意见.xlsx", "别人_校验意见.xlsx", *names])

    # Re-running into the same OUTDIR gives the same set, nothing stacked.
    again = annotate_all(reports, out)
    assert sorted(p.name for p in again.paths.values()) == names
    assert sorted(p.name for p in (out / "annotated").iterdir() if not p.name.startswith(".")) == files
    assert {p: sha256(p) for p in inputs} == before


def test_xlsm_keeps_macros(tmp_path):
    import xlsxwriter

    vba = tmp_path / "vbaProject.bin"
    vba.write_bytes(b"\xd0\xcf\x11\xe0" + bytes(range(256)) * 4)  # the bytes are carried, not run
    path = tmp_path / "宏.xlsm"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet(FIG["p3.open.total"].sheet)
    ws.write_number(FIG["p3.open.total"].cell, 1)
    wb.add_vba_project(str(vba))
    wb.close()
    out = annotate(report_for(path, [Finding.of("R3", figure=FIG["p3.open.total"], value=1, expected=2)]),
                   tmp_path / "out")
    assert out.name == "宏_校验意见.xlsm"
    with zipfile.ZipFile(out) as zf:
        assert zf.read("xl/vbaProject.bin") == vba.read_bytes()
        assert "macroEnabled" in zf.read("[Content_Types].xml").decode()
    fills, _ = marked_cells(openpyxl.load_workbook(out, keep_vba=True))
    assert fills == {(FIG["p3.open.total"].sheet, FIG["p3.open.total"].cell): ERROR_COLOR}


def test_unopenable_zip_is_a_chinese_error(tmp_path):
    from toolkit.outputs.annotate import AnnotateError

    broken = tmp_path / "坏.xlsx"
    broken.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    with pytest.raises(AnnotateError, match="坏.xlsx"):
        annotate(report_for(broken, planted()), tmp_path / "out")
    result = annotate_all([report_for(broken, planted())], tmp_path / "out")
    assert "无法打开" in result.skipped[str(broken)]


# ------------------------------------------------------------------ round trip through check


def _check():
    from toolkit.outputs import check

    return check


def _seen(report: FileReport) -> list[tuple]:
    return [(f.rule, f.severity, f.sheet, f.cell, f.value) for f in report.findings]


def test_round_trip_through_check(tmp_path):
    """An annotated copy re-checked unfixed gives the same findings; fixed, it passes."""
    check = _check()
    wrong = {"p3.received.natural": 3, "p3.open.business": "无"}
    src = filled_return(tmp_path / "in" / "樟树市人社局.xlsx", wrong)
    before = sha256(src)
    first = check.run([src.parent], tmp_path / "out")
    (report,) = first.reports
    assert report.status == "fail" and report.findings
    copy = tmp_path / "out" / "annotated" / "樟树市人社局_校验意见.xlsx"
    assert copy.is_file()
    fills, _ = marked_cells(openpyxl.load_workbook(copy))
    assert set(fills) == {(f.sheet, f.cell) for f in report.findings if f.cell}
    assert sha256(src) == before

    again = check.run([copy], tmp_path / "out2")
    (re_report,) = again.reports
    assert _seen(re_report) == _seen(report)

    # The agency fixes the figures in the annotated copy itself.
    wb = openpyxl.load_workbook(copy)
    seed = samples.seed_figures()
    for key in wrong:
        fig = FIG[key]
        wb[fig.sheet][fig.cell].value = seed[key]
    wb.save(copy)
    fixed = check.run([copy], tmp_path / "out3")
    (fixed_report,) = fixed.reports
    assert fixed_report.status == "pass" and fixed_report.errors == 0, _seen(fixed_report)
    assert fixed_report.read_by == "names"
    assert not (tmp_path / "out3" / "annotated").exists() or not any((tmp_path / "out3" / "annotated").iterdir())


def test_unused_fill_keeps_template_look(returned, tmp_path):
    """Cells never flagged keep the template's own fills (the yellow 'to fill' look etc.)."""
    out = annotate(report_for(returned, planted()), tmp_path / "out")
    orig, copy = openpyxl.load_workbook(returned), openpyxl.load_workbook(out)
    flagged = {(f.sheet, f.cell) for f in planted() if f.cell}
    for ws in orig.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if (ws.title, c.coordinate) not in flagged:
                    assert xml(copy[ws.title][c.coordinate].fill) == xml(c.fill)


def test_reader_skips_our_sheet_by_the_same_name():
    from toolkit.outputs.annotate import FEEDBACK_SHEET as ours
    from toolkit.reading import reader

    assert reader.FEEDBACK_SHEET == ours


def test_one_instruction_on_where_to_fix(returned, tmp_path):
    """Issue 14 item 5: the template's 填报说明, the copy's 校验结果 and the feedback mail
    say the same thing, word for word: fix the annotated copy itself and send it back."""
    from datetime import date

    from toolkit.formats.instructions import where_to_fix
    from toolkit.mailing.messages import feedback_message

    sentence = where_to_fix()
    assert "校验意见" in sentence
    template = openpyxl.load_workbook(returned)[FMT.info.sheet]
    texts = [str(c.value) for row in template.iter_rows() for c in row if c.value is not None]
    assert sum(sentence in t for t in texts) == 1 and not any("原文件" in t for t in texts)

    out = annotate(report_for(returned, planted()), tmp_path / "out")
    assert openpyxl.load_workbook(out)[FEEDBACK_SHEET]["A2"].value.startswith(sentence)

    report = report_for(returned, planted())
    entry = {**report.to_json(), "status": "fail", "annotated": f"annotated/{out.name}"}
    mail = feedback_message("樟树市人社局", ["a@example.cn"], [entry], [], year=2023, format_id=FMT.id,
                            signer=None, today=date(2026, 1, 31), key=None)
    assert sentence in mail.body and "原文件" not in mail.body
