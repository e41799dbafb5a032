"""Published reports (text, markdown, Word, web page, PDF): made from the format data
and sample figures, read back to exactly their figures, checked with the same rules."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from published_docs import as_docx, as_html, as_markdown, as_text, to_pdf
from toolkit.checking.batch import check_files
from toolkit.cli import app
from toolkit.formats import spec
from toolkit.formats.samples import consistent, seed_agency, seed_figures
from toolkit.reading.published.read import read_published

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "zhangshu-hrss-2023-annual-report.txt"
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
    if not REFERENCE.exists():
        pytest.skip("the shared reference report is not beside this checkout")
    result = read_published(REFERENCE)
    assert result.unreadable is None and result.form == "text"
    assert (result.format_id, result.agency, result.year) == ("gov-2021", "樟树市人社局", 2023)
    assert figures_of(result) == as_numbers(seed_figures())
    assert [v.shown for k, v in result.values.items() if k == "p2.licensing.decisions"] == ["\u00a031"]
    assert result.locations["p2.fees.amount"] == {"line": 59}


def test_check_on_the_reference_text_has_no_errors(tmp_path):
    if not REFERENCE.exists():
        pytest.skip("the shared reference report is not beside this checkout")
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
