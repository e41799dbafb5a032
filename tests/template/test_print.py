"""Issue 14 items 6, 7, 13: what offices print.  Each workbook is converted to PDF by a
real headless LibreOffice and the PDF is read: page count per sheet, the printed size of
every character (9 pt or more), the page header naming the agency (or region) and year."""

from __future__ import annotations

import os
import random
import re
import shutil
from collections import Counter
from pathlib import Path

import openpyxl
import pdfplumber
import pytest
from conftest import soffice_convert
from figures import consistent, fill

from toolkit.formats import spec
from toolkit.formats.catalogue import rules
from toolkit.outputs import check
from toolkit.outputs.aggregate import aggregate
from toolkit.reading.roster import RosterEntry, write_sample_roster
from toolkit.template.writer import instructions, write_template

pytestmark = pytest.mark.libreoffice
MIN_PT = 9.0
RULE_ID = re.compile(r"(?<![A-Za-z0-9_])[RFS]\d")


def pages_of(pdf: Path) -> list[dict]:
    """Each page: its text, whether landscape, and the sizes of its characters."""
    with pdfplumber.open(pdf) as doc:
        return [{"text": p.extract_text() or "", "landscape": p.width > p.height,
                 "sizes": Counter(round(c["size"], 1) for c in p.chars)} for p in doc.pages]


def assert_readable(pages: list[dict]) -> None:
    for n, page in enumerate(pages, 1):
        assert page["sizes"], f"page {n} is empty"
        assert min(page["sizes"]) >= MIN_PT, (n, sorted(page["sizes"])[:3], page["text"][:80])


@pytest.mark.parametrize("format_id, year", [("gov-2021", 2025), ("gov-2019", 2020)])
def test_template_prints_one_page_per_sheet_at_9pt_with_agency_and_year(format_id, year, tmp_path):
    fmt = spec.get(format_id)
    agency = "樟树市人力资源和社会保障局"
    path = write_template(tmp_path / "模板.xlsx", fmt, agency=agency, year=year)
    fill(path, consistent(fmt, random.Random(3)))
    pages = pages_of(soffice_convert(path, "pdf", tmp_path / "pdf"))
    # 填报说明 and each part on one page each (no sheet runs over its page).
    assert len(pages) == 1 + len(fmt.parts)
    assert_readable(pages)
    for page in pages:
        assert f"单位名称：{agency}" in page["text"] and f"年度：{year}" in page["text"]
    for part, page in zip(fmt.parts, pages[1:]):
        assert part.title in page["text"]
        assert page["landscape"] == (part.orientation == "landscape")
    words = [w for w in re.split(r"[＿\s]+", instructions()["signature"]) if w]  # 填报人：审核人：…
    assert words and all(w in pages[-1]["text"] for w in words)
    assert not any("审核人" in p["text"] for p in pages[:-1])
    wb = openpyxl.load_workbook(path)
    for part in fmt.parts:
        setup = wb[part.sheet].page_setup
        assert (setup.orientation, str(setup.paperSize)) == (part.orientation, "9")
        assert setup.fitToHeight in (None, 1) and setup.fitToWidth in (None, 1)  # 1 is the default, left out
        assert wb[part.sheet].sheet_properties.pageSetUpPr.fitToPage


def test_blank_template_header_leaves_room_to_write(tmp_path):
    path = write_template(tmp_path / "空白.xlsx")
    pages = pages_of(soffice_convert(path, "pdf", tmp_path / "pdf"))
    assert all("单位名称：＿＿" in p["text"] and "年度：＿＿" in p["text"] for p in pages)


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    """A roster of six: two pass (one of them sent a correction too), one needs changes,
    one sent an empty file, one sent nothing, and one file from outside the roster."""
    tmp = tmp_path_factory.mktemp("campaign")
    src = tmp / "in"
    src.mkdir()
    names = ["樟树市人力资源和社会保障局", "樟树市财政局", "樟树市教育局", "樟树市民政局", "樟树市司法局"]
    fmt = spec.get("gov-2021")
    for i, name in enumerate(names[:3]):
        values = consistent(fmt, random.Random(i))
        if name == "樟树市财政局":
            values["p3.open.total"] += 1
        fill(write_template(src / f"{name}_2025年政府信息公开年度报表.xlsx", fmt, agency=name, year=2025), values)
    first = src / f"{names[0]}_2025年政府信息公开年度报表.xlsx"
    again = src / f"{names[0]}（更正）.xlsx"
    fill(shutil.copy(first, again), consistent(fmt, random.Random(9)))
    old = first.stat().st_mtime - 600
    os.utime(first, (old, old))
    (src / f"{names[3]}_2025年政府信息公开年度报表.xlsx").write_bytes(b"")
    fill(write_template(src / "新余市某局.xlsx", fmt, agency="新余市某局", year=2025), consistent(fmt, random.Random(5)))
    roster = write_sample_roster(tmp / "名单.xlsx", [RosterEntry(n) for n in names])
    batch = check.run([src], tmp / "out", roster=roster)
    return tmp, names, batch


def test_summary_first_sheet_is_the_state_of_the_campaign(campaign):
    tmp, names, batch = campaign
    wb = openpyxl.load_workbook(batch.summary)
    assert wb.sheetnames == ["报送情况", "全部文件", "主要数字", "图表"]
    assert wb.active.title == "报送情况"
    ws = wb["报送情况"]
    assert ws["A1"].value == "报送情况：名单 5 个单位，通过 2 个，需修改 1 个，无法读取 1 个，未报送 1 个；另有名单外 1 个"
    head = [c.value for c in ws[3]]
    assert head == ["序号", "单位名称", "状态", "采用文件", "错误数", "提醒数", "主要问题", "说明"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=4) if r[0].value is not None]
    assert [(r[1], r[2]) for r in rows] == [
        (names[0], "通过"), (names[1], "需修改"), (names[2], "通过"), (names[3], "无法读取"),
        (names[4], "未报送"), ("新余市某局", "通过")]
    assert rows[0][3] == f"{names[0]}（更正）.xlsx" and "共 2 个文件" in rows[0][7]
    assert "未采用：" in rows[0][7] and rows[5][7].startswith("单位名称不在名单中")
    assert rows[1][6].startswith("三、依申请公开 J7：本行各项之和为 ")
    # An unreadable file: the agency recognised from its name, the same on every sheet.
    files = wb["全部文件"]
    unreadable = [[c.value for c in r] for r in files.iter_rows(min_row=4) if r[4].value == "无法读取"]
    assert [r[1] for r in unreadable] == [f"{names[3]}（按文件名）"]
    # 合计 says whom it counts; the pie counts agencies, 未报送 included; the bar, rule titles.
    figures = wb["主要数字"]
    total = next(r for r in figures.iter_rows() if str(r[1].value).startswith("合计"))
    assert total[1].value == "合计（通过校验的 3 个单位）"
    charts = wb["图表"]
    assert [[c.value for c in r] for r in charts.iter_rows(min_row=3, max_row=6, max_col=2)] == [
        ["通过", 3], ["需修改", 1], ["无法读取", 1], ["未报送", 1]]
    titles = [charts.cell(r, 2).value for r in range(11, 11 + 3) if charts.cell(r, 2).value]
    assert titles and all(t in {x.title for x in rules().values()} for t in titles)
    assert not any(RULE_ID.search(t) for t in titles)


def test_summary_prints_at_9pt_one_page_wide(campaign):
    tmp, names, batch = campaign
    pages = pages_of(soffice_convert(batch.summary, "pdf", tmp / "pdf-summary"))
    assert len(pages) == 4  # a small batch: each sheet on one page
    assert_readable(pages)
    for page, sheet in zip(pages, ["报送情况", "全部文件", "主要数字", "图表"]):
        assert page["landscape"]
        assert "2025年度政府信息公开工作年度报告报表校验汇总" in page["text"] and sheet in page["text"]
    assert "报送情况：名单 5 个单位" in pages[0]["text"] and "校验时间：" in pages[0]["text"]
    # No clipped file name: the 采用文件 column prints every name whole (wrapped lines joined).
    column = column_text(tmp / "pdf-summary" / "汇总.pdf", 0, "采用文件")
    for name in (f"{names[0]}（更正）.xlsx", f"{names[1]}_2025年政府信息公开年度报表.xlsx", "新余市某局.xlsx"):
        assert name in column


def column_text(pdf: Path, page: int, header: str) -> str:
    """The text printed in the table column headed ``header`` (between the cell borders
    around that header), lines joined."""
    with pdfplumber.open(pdf) as doc:
        p = doc.pages[page]
        head = next(w for w in p.extract_words() if w["text"].startswith(header))
        borders = sorted({round(e["x0"], 1) for e in p.edges if e["orientation"] == "v"})
        left = max(x for x in borders if x < head["x0"])
        right = min(x for x in borders if x > head["x1"])
        return (p.crop((left, head["bottom"], right, p.height)).extract_text() or "").replace("\n", "")


def test_rollup_opens_on_its_own_sheet_and_prints_one_page_per_part(campaign):
    tmp, names, batch = campaign
    out = tmp / "汇总表.xlsx"
    rollup = aggregate([tmp / "out"], out, region="樟树市", year=2025)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == "汇总说明" and wb.active.title == "汇总说明"
    fmt = spec.get(rollup.format)
    pages = pages_of(soffice_convert(out, "pdf", tmp / "pdf-rollup"))
    assert len(pages) == 2 + len(fmt.parts)  # 汇总说明, the agency block, one page per part
    assert_readable(pages)
    first = pages[0]["text"]
    assert first.splitlines()[1] == f"樟树市2025年度{fmt.title}汇总说明"  # the title whole, on page 1
    assert "纳入汇总的单位（3）" in first and "未纳入汇总的报表（" in first
    assert all("樟树市2025年度汇总" in p["text"] or "樟树市（汇总）" in p["text"] for p in pages)
    # Nobody fills a roll-up in: no 填报说明 text asking for it.
    assert not any("请在上方填写" in p["text"] for p in pages)
    for part, page in zip(fmt.parts, pages[2:]):
        assert part.title in page["text"]
