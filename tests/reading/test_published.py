"""Published reports (text, markdown, Word, web page, PDF): made from the format data
and sample figures, read back to exactly their figures, checked with the same rules."""

from __future__ import annotations

import json
import random
import signal
import time
from pathlib import Path

import pytest
from conftest import REFERENCE, reference_or_skip  # noqa: E402
from published_docs import as_docx, as_html, as_markdown, as_text, show, to_pdf
from typer.testing import CliRunner

from toolkit.checking.batch import check_files
from toolkit.cli import app
from toolkit.formats import spec
from toolkit.formats.samples import consistent, seed_figures
from toolkit.reading.published.read import read_published
from toolkit.workbook.limits import Limits

FMT = spec.get("gov-2021")


def figures_of(result) -> dict:
    """What was read: the number for accepted figures, else the text as published."""
    return {k: (v.number if v.accepted else v.shown) for k, v in result.values.items()}


def as_numbers(values: dict) -> dict:
    out = {}
    for k, v in values.items():
        out[k] = float(str(v).strip().strip("\u3000\u00a0")) if not isinstance(v, (int, float)) else float(v)
    return out


@pytest.fixture(scope="module")
def sample():
    return consistent(FMT, random.Random(11), high=9)


def report(tmp_path, name, content) -> Path:
    p = tmp_path / name
    (p.write_bytes if isinstance(content, bytes) else lambda c: p.write_text(c, encoding="utf-8"))(content)
    return p


def one(path: Path):
    reports, _ = check_files([path], workers=1)
    return reports[0]


# ------------------------------------------------------------------ the reference report


def test_reference_text_reads_to_the_published_figures():
    reference_or_skip()
    result = read_published(REFERENCE)
    assert result.unreadable is None and result.form == "text"
    assert (result.format_id, result.agency, result.year) == ("gov-2021", "樟树市人社局", 2023)
    assert figures_of(result) == as_numbers(seed_figures())
    assert [v.shown for k, v in result.values.items() if k == "p2.licensing.decisions"] == ["\u00a031"]
    assert result.locations["p2.fees.amount"] == {"line": 59}


def test_check_on_the_reference_text_has_no_errors(tmp_path):
    reference_or_skip()
    res = CliRunner().invoke(app, ["check", str(REFERENCE), "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    entry = json.loads((tmp_path / "out" / "findings.json").read_text(encoding="utf-8"))["files"][0]
    assert (entry["status"], entry["errors"], entry["form"], entry["agency"]) == ("pass", 0, "text", "樟树市人社局")


# ------------------------------------------------------------------ made from the format data


@pytest.mark.parametrize("form,make,name", [("text", as_text, "年报.txt"), ("markdown", as_markdown, "年报.md")])
def test_text_forms_read_back_to_their_figures(tmp_path, sample, form, make, name):
    path = report(tmp_path, name, make(FMT, sample, "某某县民政局", 2024))
    result = read_published(path)
    assert (result.form, result.format_id, result.agency, result.year) == (form, "gov-2021", "某某县民政局", 2024)
    assert figures_of(result) == sample
    assert one(path).status == "pass"


def test_2019_report_as_text_reads_as_the_2019_format(tmp_path):
    fmt = spec.get("gov-2019")
    figures = consistent(fmt, random.Random(3))
    result = read_published(report(tmp_path, "年报.txt", as_text(fmt, figures, year=2020)))
    assert result.format_id == "gov-2019" and figures_of(result) == figures


def test_planted_mistake_in_text_found_at_its_line(tmp_path, sample):
    wrong = dict(sample, **{"p3.open.business": sample["p3.open.business"] + 1})
    text = as_text(FMT, wrong)
    rep = one(report(tmp_path, "年报.txt", text))
    r3 = [f for f in rep.findings if f.rule == "R3"]
    assert len(r3) == 1 and r3[0].row.endswith("（一）予以公开") and r3[0].column.endswith("总计")
    line = text.splitlines()[r3[0].location["line"] - 1]
    assert line == "\t" + format(sample["p3.open.total"], "g")  # the 总计 cell of that row
    assert r3[0].where_zh == f"第{r3[0].location['line']}行"
    r4 = [f for f in rep.findings if f.rule == "R4"]
    assert len(r4) == 1 and r4[0].column == "申请人情况 法人或其他组织 商业企业"


def test_markdown_mistake_found_at_line_and_column(tmp_path, sample):
    wrong = dict(sample, **{"p4.cases.review_total": sample["p4.cases.review_total"] + 2})
    rep = one(report(tmp_path, "年报.md", as_markdown(FMT, wrong)))
    r5 = [f for f in rep.findings if f.rule == "R5"]
    assert len(r5) == 1 and r5[0].location["column"] == 5 and r5[0].expected == sample["p4.cases.review_total"]


# ------------------------------------------------------------------ Word, web page, PDF


def test_docx_with_merged_cells_reads_back(tmp_path, sample):
    path = as_docx(FMT, sample, tmp_path / "年报.docx", "某某县民政局", 2024)
    result = read_published(path)
    assert (result.form, result.format_id, result.agency, result.year) == ("docx", "gov-2021", "某某县民政局", 2024)
    assert figures_of(result) == sample
    # 三（七）总计, 总计 column: the 3rd table (part 三), its row 28 - 1 (no title row), column 10
    assert result.locations["p3.result_total.total"] == {"table": 2, "row": 27, "column": 10}


def test_html_in_gbk_with_rowspan_colspan_reads_back(tmp_path, sample):
    data = as_html(FMT, sample, "某某县民政局", 2024, encoding="gbk")
    assert "申请人情况".encode("gbk") in data and b'rowspan="' in data and b'colspan="' in data
    result = read_published(report(tmp_path, "年报.htm", data))
    assert (result.form, result.agency, result.year) == ("html", "某某县民政局", 2024)
    assert figures_of(result) == sample


def test_mht_archive_reads_back(tmp_path, sample):
    import quopri

    page = as_html(FMT, sample, encoding="gb2312")
    mht = (b"MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=\"B\"\r\n\r\n--B\r\n"
           b"Content-Type: text/html; charset=\"gb2312\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
           + quopri.encodestring(page) + b"\r\n--B--\r\n")
    result = read_published(report(tmp_path, "年报.mht", mht))
    assert result.form == "mht" and figures_of(result) == sample


@pytest.mark.libreoffice
@pytest.mark.parametrize("repeat", [False, True], ids=["header-once", "header-repeated"])
def test_pdf_rendered_by_libreoffice_reads_back_across_pages(tmp_path, sample, repeat):
    pdf = to_pdf(as_docx(FMT, sample, tmp_path / "年报.docx", repeat_header=repeat), tmp_path / "pdf")
    result = read_published(pdf)
    assert (result.form, result.format_id, result.agency) == ("pdf", "gov-2021", "某某县某某局")
    pages = {loc["page"] for k, loc in result.locations.items() if k.startswith("p3.")}
    assert len(pages) > 1  # part 三 is broken across pages, and read whole
    assert figures_of(result) == sample
    assert [f for f in result.findings] == []


# ------------------------------------------------------------------ one planted mistake per form


def _planted(sample):
    return dict(sample, **{"p3.deny_law.research": sample["p3.deny_law.research"] + 3})


def _one_r3(rep):
    r3 = [f for f in rep.findings if f.rule == "R3"]
    assert len(r3) == 1 and r3[0].row.endswith("2.其他法律行政法规禁止公开") and r3[0].column.endswith("总计")
    assert [f.column for f in rep.findings if f.rule == "R4"] == ["申请人情况 法人或其他组织 科研机构"]
    return r3[0]


def test_planted_mistake_in_docx(tmp_path, sample):
    rep = one(as_docx(FMT, _planted(sample), tmp_path / "年报.docx"))
    assert _one_r3(rep).location == {"table": 2, "row": 9, "column": 10}
    assert _one_r3(rep).where_zh == "表2 第9行 第10列"


def test_planted_mistake_in_html(tmp_path, sample):
    rep = one(report(tmp_path, "年报.html", as_html(FMT, _planted(sample))))
    assert _one_r3(rep).location == {"table": 2, "row": 9, "column": 10}


@pytest.mark.libreoffice
def test_planted_mistake_in_pdf(tmp_path, sample):
    rep = one(to_pdf(as_docx(FMT, _planted(sample), tmp_path / "年报.docx"), tmp_path / "pdf"))
    loc = _one_r3(rep).location
    assert loc["table"] == 2 and loc["column"] == 10 and loc["page"] >= 1


@pytest.mark.libreoffice
@pytest.mark.parametrize("suffix", [".doc", ".wps"])
def test_old_word_converted_by_libreoffice_reads_back(tmp_path, sample, suffix):
    import shutil
    import subprocess

    # The .wps carries a planted mistake: found at its row and column like any other form.
    page = report(tmp_path, "年报.html", as_html(FMT, sample if suffix == ".doc" else _planted(sample)))
    to_pdf(page, tmp_path / "warm")  # skips (or fails in CI) without soffice
    subprocess.run([shutil.which("soffice"), f"-env:UserInstallation=file://{tmp_path / 'lo'}", "--headless",
                    "--convert-to", "doc:MS Word 97", "--outdir", str(tmp_path / "doc"), str(page)],
                   check=True, capture_output=True, timeout=180)
    old = (tmp_path / "doc" / "年报.doc").rename(tmp_path / f"旧版{suffix}")
    before = old.read_bytes()
    result = read_published(old)
    assert (result.form, result.unreadable) == ("doc", None)
    if suffix == ".doc":
        assert figures_of(result) == sample
    else:
        assert _one_r3(one(old)).location == {"table": 2, "row": 9, "column": 10}
    assert old.read_bytes() == before  # converted from a copy, never touched


def test_old_word_without_libreoffice_gets_a_clear_verdict(tmp_path, monkeypatch):
    from test_hostile_files import ole2

    old = tmp_path / "年报.doc"
    old.write_bytes(ole2({"WordDocument": b"\xec\xa5" + bytes(30), "1Table": bytes(16)}))
    monkeypatch.setenv("PATH", str(tmp_path))  # no soffice on this PATH
    rep = one(old)
    assert rep.status == "unreadable" and rep.findings[0].rule == "P2"
    assert "LibreOffice" in rep.findings[0].message and "另存为 .docx" in rep.findings[0].message


# ------------------------------------------------------------------ import, and check's imported workbooks


def test_import_writes_the_figures_as_published(tmp_path, sample):
    from openpyxl import load_workbook

    typed = dict(sample, **{"p2.fees.amount": "251000元"})
    src = as_docx(FMT, typed, tmp_path / "甲局年报.docx", "甲局", 2024)
    out = tmp_path / "甲局.xlsx"
    res = CliRunner().invoke(app, ["import", str(src), "-o", str(out)])
    assert res.exit_code == 1, res.output  # imported, and the check flags the unit
    assert "已导入" in res.output and "251000元" in res.output
    wb = load_workbook(out)
    fee = FMT.figures["p2.fees.amount"]
    assert wb[fee.sheet][fee.cell].value == "251000元"  # kept as text
    one_fig = FMT.figures["p3.open.total"]
    assert wb[one_fig.sheet][one_fig.cell].value == sample["p3.open.total"]
    assert wb.custom_doc_props["disclosure.imported_from"].value == "甲局年报.docx"
    rep = one(out)  # the workbook, checked as a return: the same finding at the same cell
    assert [(f.rule, f.cell, f.expected) for f in rep.findings] == [("R6.unit", fee.cell, 25.1)]
    assert dict(rep.figures) == {k: v for k, v in sample.items() if k != "p2.fees.amount"}


def test_import_never_overwrites_a_file_it_did_not_make(tmp_path, sample):
    src = report(tmp_path, "年报.md", as_markdown(FMT, sample))
    mine = tmp_path / "已有.xlsx"
    mine.write_bytes(b"PK\x03\x04 not ours")
    res = CliRunner().invoke(app, ["import", str(src), "-o", str(mine)])
    assert res.exit_code == 2 and "未覆盖" in res.output and mine.read_bytes() == b"PK\x03\x04 not ours"
    again = tmp_path / "导入.xlsx"
    assert CliRunner().invoke(app, ["import", str(src), "-o", str(again)]).exit_code == 0
    assert CliRunner().invoke(app, ["import", str(src), "-o", str(again)]).exit_code == 0  # ours: replaced


def test_check_imports_published_reports_and_annotates_the_imported_workbook(tmp_path, sample):
    from openpyxl import load_workbook

    folder = tmp_path / "年报"
    folder.mkdir()
    report(folder, "乙局.html", as_html(FMT, _planted(sample), "乙局", 2024))
    res = CliRunner().invoke(app, ["check", str(folder), "-o", str(tmp_path / "out")])
    assert res.exit_code == 1, res.output
    assert "表2 第9行 第10列" in res.output  # the finding points into the web page
    entry = json.loads((tmp_path / "out" / "findings.json").read_text(encoding="utf-8"))["files"][0]
    assert (entry["form"], entry["imported"], entry["annotated"]) == (
        "html", "imported/乙局_html.xlsx", "annotated/乙局_html_校验意见.xlsx")
    assert (tmp_path / "out" / "imported" / "乙局_html.xlsx").is_file()
    wb = load_workbook(tmp_path / "out" / entry["annotated"])
    r3 = FMT.figures["p3.deny_law.total"]
    assert wb[r3.sheet][r3.cell].comment is not None and "行合计" in wb[r3.sheet][r3.cell].comment.text


def test_every_file_in_a_checked_folder_gets_a_verdict(tmp_path, sample):
    import zipfile

    from toolkit.template.writer import write_template

    folder = tmp_path / "收件"
    folder.mkdir()
    report(folder, "丙局年报.txt", as_text(FMT, sample, "丙局", 2024))
    write_template(folder / "丁局.xlsx ", FMT, agency="丁局", year=2024, values=sample)  # trailing space
    (folder / "扫描.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    with zipfile.ZipFile(folder / "材料.zip", "w") as z:
        z.writestr("a.txt", "x")
    with zipfile.ZipFile(folder / "报表.ods", "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
    (folder / "名单.csv").write_bytes("单位,数量\n甲,1\n".encode("gbk"))
    (folder / "~$丙局年报.docx").write_bytes(b"lock")
    res = CliRunner().invoke(app, ["check", str(folder), "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "out" / "findings.json").read_text(encoding="utf-8"))
    assert sorted(Path(f["path"]).name for f in data["files"]) == ["丁局.xlsx ", "丙局年报.txt"]
    assert all(f["status"] == "pass" for f in data["files"])
    verdicts = {Path(o["path"]).name: o["verdict"] for o in data["others"]}
    assert set(verdicts) == {"扫描.png", "材料.zip", "报表.ods", "名单.csv", "~$丙局年报.docx"}
    assert "PNG 图片" in verdicts["扫描.png"] and "压缩包" in verdicts["材料.zip"]
    assert ".ods" in verdicts["报表.ods"] and "CSV" in verdicts["名单.csv"] and "临时文件" in verdicts["~$丙局年报.docx"]
    for name in verdicts:
        assert name in res.output  # listed for the user too


# ------------------------------------------------------------------ what real published reports do


def _rules(rep):
    return sorted((f.rule, f.key) for f in rep.findings)


def test_label_slips_are_read_and_said(tmp_path, sample):
    text = (as_text(FMT, sample).replace("\t1.属于国家秘密", "\t1、属于国家秘密")
            .replace("\t行政规范性文件", "\t规范性文件").replace("禁止公开", "禁公开"))
    rep = one(report(tmp_path, "年报.txt", text))
    assert dict(rep.figures) == sample
    slips = [f for f in rep.findings if f.rule == "P3"]
    assert len(slips) == 2 and all(f.severity == "warning" for f in slips)  # 1、 for 1. is no slip
    assert any("“规范性文件”与格式“行政规范性文件”" in f.message for f in slips)
    assert any("禁公开" in f.message for f in slips)
    assert rep.status == "pass"


@pytest.mark.parametrize("form", ["text", "markdown"])
def test_a_header_label_broken_into_cells_is_joined_not_read_one_column_off(tmp_path, sample, form):
    """A line break in a header cell, copied from a web page as a cell break: 社会公益 | 组织.
    Left as two cells, the header is one column too wide and every figure under it is
    read under its neighbour's label."""
    def broken(cells: list[str]) -> list[str]:
        out = []
        for c in cells:
            out += {"社会公益组织": ["社会公益", "组织"], "法律服务机构": ["法律", "服务", "机构"]}.get(c, [c])
        return out

    def edit(_part, rows):
        return [broken(r) for r in rows]

    if form == "text":
        path = report(tmp_path, "年报.txt", as_text(FMT, sample, edit=edit))
    else:
        md = as_markdown(FMT, sample).replace("| 社会公益组织 |", "| 社会公益 | 组织 |")
        assert "| 社会公益 | 组织 |" in md
        path = report(tmp_path, "年报.md", md)
    rep = one(path)
    assert dict(rep.figures) == sample and rep.findings == [] and rep.status == "pass"


@pytest.mark.parametrize("extra", ["备注", "团体"], ids=["a-cell-the-format-lacks", "a-fragment-that-joins-nothing"])
def test_a_header_a_cell_too_wide_is_not_read_one_column_off(tmp_path, sample, extra):
    """A header cell the format does not have puts every label one column off the figures
    under it: that table is read by position instead (every row label found, as many
    figures as columns), and said so (P7); no figure is read under its neighbour's label."""
    def edit(part, rows):
        if part != "p3":
            return rows
        out = []
        for r in rows:
            if "其他" in r and "社会公益组织" in r:  # the header row of the applicant kinds
                r = r[:r.index("其他") + 1] + [extra] + r[r.index("其他") + 1:] if extra == "备注" else \
                    [c for x in r for c in (["社会公益", extra] if x == "社会公益组织" else [x])]
            out.append(r)
        return out

    rep = one(report(tmp_path, "年报.txt", as_text(FMT, sample, edit=edit)))
    assert dict(rep.figures) == sample
    assert [f.rule for f in rep.findings if f.rule != "P3"] == ["P7"] and rep.status == "pass"
    assert "第三部分" in next(f.message for f in rep.findings if f.rule == "P7")


def test_digits_padded_with_no_break_spaces_keep_their_figures(tmp_path, sample):
    padded = {k: f"\u00a0{show(v)}\u00a0" for k, v in sample.items()}
    rep = one(report(tmp_path, "年报.html", as_html(FMT, padded)))
    assert dict(rep.figures) == sample and rep.findings == []


@pytest.mark.parametrize("form", ["html-nbsp", "text-space"])
def test_blank_cells_written_as_nbsp_or_one_space(tmp_path, sample, form):
    blanked = dict(sample, **{"p2.rules.issued": "", "p4.cases.after_pending": " "})
    if form == "html-nbsp":
        path = report(tmp_path, "年报.html", as_html(FMT, blanked, nbsp_blank=True))
    else:
        path = report(tmp_path, "年报.txt", as_text(FMT, dict(blanked, **{"p2.rules.issued": " "})))
    rep = one(path)
    assert [(f.rule, f.key) for f in rep.findings if f.rule.startswith("R6")] == [
        ("R6.blank", "p2.rules.issued"), ("R6.blank", "p4.cases.after_pending")]


def test_units_typed_in_cells(tmp_path, sample):
    typed = dict(sample, **{"p2.fees.amount": "75394432.52元", "p2.licensing.decisions": "31件"})
    rep = one(report(tmp_path, "年报.md", as_markdown(FMT, typed)))
    units = {f.key: (f.value, f.expected) for f in rep.findings if f.rule == "R6.unit"}
    assert units == {"p2.fees.amount": ("75394432.52元", 7539.443252), "p2.licensing.decisions": ("31件", 31)}


def test_fees_with_six_decimals_warned(tmp_path, sample):
    rep = one(report(tmp_path, "年报.txt", as_text(FMT, dict(sample, **{"p2.fees.amount": 24.198213}))))
    assert [(f.rule, f.severity, f.key) for f in rep.findings] == [("R6.decimals", "warning", "p2.fees.amount")]
    assert rep.figures["p2.fees.amount"] == 24.198213  # exactly as published


def _single_other_row(part_key, rows):
    """The 2019 single row （六）其他处理 in place of the 2021 three items."""
    if part_key != "p3":
        return rows
    out, i = [], 0
    while i < len(rows):
        if "（六）其他处理" in rows[i]:
            items = rows[i:i + 3]
            sums = [show(sum(float(r[j]) for r in items)) for j in range(-7, 0)]
            out.append(["", "（六）其他处理", *sums])
            i += 3
        else:
            out.append(rows[i])
            i += 1
    return out


def test_2021_report_keeping_the_2019_single_other_row(tmp_path, sample):
    rep = one(report(tmp_path, "年报.txt", as_text(FMT, sample, edit=_single_other_row)))
    assert [(f.rule, f.severity) for f in rep.findings] == [("P5", "error")]
    assert "1.申请人无正当理由" in rep.findings[0].message
    summed = sum(sample[f"p3.{k}.natural"] for k in ("other_overdue", "other_unpaid", "other_misc"))
    assert rep.figures["p3.other_misc.natural"] == summed and rep.figures["p3.other_overdue.natural"] == 0


def test_the_single_other_row_takes_part_in_column_totals(tmp_path, sample):
    def wrong(part_key, rows):
        rows = _single_other_row(part_key, rows)
        for r in rows:
            if "（六）其他处理" in r:
                r[-7] = show(float(r[-7]) + 1)  # 自然人 of the single row
        return rows

    rep = one(report(tmp_path, "年报.txt", as_text(FMT, sample, edit=wrong)))
    assert sorted(f.rule for f in rep.findings) == ["P5", "R3", "R4"]
    assert [f.column for f in rep.findings if f.rule == "R4"] == ["申请人情况 自然人"]


def test_total_column_filled_on_some_rows_only(tmp_path, sample):
    partial = dict(sample, **{f"p3.{r}.total": "" for r in ("deny_secret", "deny_law", "unable_none")})
    rep = one(report(tmp_path, "年报.html", as_html(FMT, partial)))
    blank = sorted(f.key for f in rep.findings if f.rule == "R6.blank")
    assert blank == ["p3.deny_law.total", "p3.deny_secret.total", "p3.unable_none.total"]
    assert not [f for f in rep.findings if f.rule in ("R3", "R4")]  # not checkable, not wrong
    assert all(f.location["column"] == 10 for f in rep.findings if f.rule == "R6.blank")


def test_column_headers_lost_read_by_position_and_said(tmp_path, sample):
    def no_heads(part_key, rows):
        if part_key != "p2":
            return rows
        return [r for r in rows if "信息内容" not in r]

    rep = one(report(tmp_path, "年报.txt", as_text(FMT, sample, edit=no_heads)))
    assert dict(rep.figures) == sample
    said = [f for f in rep.findings if f.rule == "P7"]
    assert said and all("按位置读取" in f.message for f in said) and rep.errors == 0


def test_column_headers_lost_and_a_row_short_is_not_guessed(tmp_path, sample):
    def no_heads_short(part_key, rows):
        if part_key != "p2":
            return rows
        rows = [r for r in rows if "信息内容" not in r]
        return [r[:-1] if r[0] == "规章" else r for r in rows]

    rep = one(report(tmp_path, "年报.txt", as_text(FMT, sample, edit=no_heads_short)))
    assert not [f for f in rep.findings if f.rule == "P7" and "规章" in f.message]
    assert [f for f in rep.findings if f.rule == "S1" and f.key and f.key.startswith("p2.rules")]


# ------------------------------------------------------------------ text vs table, published vs approved


def test_text_against_table(tmp_path, sample):
    received = show(sample["p3.received.total"])
    words = (f"本年度共收到政府信息公开申请{received}件。"
             f"全年被申请行政复议{show(sample['p4.cases.review_total'] + 1)}件，"
             f"行政诉讼{show(sample['p4.cases.direct_total'] + sample['p4.cases.after_total'])}件。")
    rep = one(report(tmp_path, "年报.txt", as_text(FMT, sample, narrative=words)))
    p4 = [f for f in rep.findings if f.rule == "P4"]
    assert len(p4) == 1 and p4[0].severity == "warning"
    assert (p4[0].value, p4[0].expected) == (sample["p4.cases.review_total"] + 1, sample["p4.cases.review_total"])
    assert "行政复议" in p4[0].message and p4[0].location == {"line": 4}


def test_published_against_approved_names_both_values(tmp_path, sample):
    from toolkit.template.writer import write_template

    approved = tmp_path / "报表"
    approved.mkdir()
    write_template(approved / "乙局.xlsx", FMT, agency="乙局", year=2024, values=sample)
    changed = dict(sample, **{"p2.penalty.decisions": sample["p2.penalty.decisions"] + 5})
    published = tmp_path / "年报"
    published.mkdir()
    report(published, "乙局年报.html", as_html(FMT, changed, "乙局", 2024))
    res = CliRunner().invoke(app, ["check", str(published), "--against", str(approved), "-o", str(tmp_path / "out")])
    assert res.exit_code == 1, res.output
    entry = json.loads((tmp_path / "out" / "findings.json").read_text(encoding="utf-8"))["files"][0]
    p6 = [f for f in entry["findings"] if f["rule"] == "P6"]
    assert entry["errors"] == 1 and len(p6) == 1
    want, got = show(sample["p2.penalty.decisions"]), show(changed["p2.penalty.decisions"])
    assert (p6[0]["value"], p6[0]["expected"]) == (changed["p2.penalty.decisions"], sample["p2.penalty.decisions"])
    assert f"已公开的年报中为 {got}，审定的报表中为 {want}" in p6[0]["message"] and "乙局.xlsx" in p6[0]["message"]
    assert "1 份年报找到了对应的报表" in res.output


def _pdf_without_text() -> bytes:
    """A one-page PDF holding an image only (as a scanner makes), no text layer."""
    img = b"\x00\x80\xff" * 4
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /I 5 0 R >> >>"
            b" /Contents 4 0 R >>"]
    draw = b"q 500 0 0 700 40 60 cm /I Do Q"
    objs.append(b"<< /Length %d >>\nstream\n" % len(draw) + draw + b"\nendstream")
    objs.append(b"<< /Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceRGB"
                b" /BitsPerComponent 8 /Length %d >>\nstream\n" % len(img) + img + b"\nendstream")
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def test_a_scanned_pdf_gets_a_clear_verdict(tmp_path):
    rep = one(report(tmp_path, "扫描年报.pdf", _pdf_without_text()))
    assert rep.status == "unreadable" and [f.rule for f in rep.findings] == ["P1"]
    assert "扫描件" in rep.findings[0].message


def test_a_pdf_page_that_never_ends_is_stopped_at_the_time_limit(tmp_path, monkeypatch):
    """pdfminer parses a page in Python and checks no deadline: the timer stops it (F6)."""
    import pdfplumber.page

    def endless(self, *args, **kwargs):  # a page that takes a minute, as a hostile one can
        stop = time.monotonic() + 60
        while time.monotonic() < stop:
            pass
        return []

    monkeypatch.setattr(pdfplumber.page.Page, "find_tables", endless)
    path = report(tmp_path, "很慢.pdf", _pdf_without_text())
    result = read_published(path, limits=Limits(max_seconds=0.5))
    assert result.unreadable.rule == "F6" and "处理时间超过 0.5 秒" in result.unreadable.message
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # no timer left behind
    assert signal.getsignal(signal.SIGALRM) is signal.SIG_DFL


def test_a_broken_pdf_is_a_verdict_not_a_traceback(tmp_path, sample):
    rep = one(report(tmp_path, "坏.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ntrailer garbage"))
    assert rep.status == "unreadable" and rep.findings[0].rule in ("F3", "P1")


@pytest.mark.libreoffice
def test_pdf_without_ruling_lines_read_by_word_positions_only_where_certain(tmp_path, sample):
    pdf = to_pdf(as_docx(FMT, sample, tmp_path / "无框线.docx", borders=False), tmp_path / "pdf")
    result = read_published(pdf)
    read = figures_of(result)
    p2 = {k: v for k, v in sample.items() if k.startswith("p2.")}
    assert {k: read[k] for k in p2} == p2  # part 二 read by position, and said so
    assert any(f.rule == "P7" and "没有表格线" in f.message for f in result.findings)
    assert all(read[k] == sample[k] for k in read)  # nothing read is wrong: the rest is missing (S1)
    assert any(f.rule == "S1" for f in result.findings)


def test_a_report_without_its_tables_says_so(tmp_path):
    rep = one(report(tmp_path, "只有正文.txt", "某某局2024年政府信息公开工作年度报告\n一、总体情况\n本年度工作有序开展。\n"))
    assert rep.status == "unreadable" and [f.rule for f in rep.findings] == ["P8"]
    assert "找不到第二、三、四部分的表格" in rep.findings[0].message and "模板" not in rep.findings[0].message
