"""单位名单 as offices keep them (.xlsx, UTF-8 and GBK CSV), and safe file names."""

from __future__ import annotations

import re

import pytest
import typer
import xlsxwriter
from typer.testing import CliRunner

from toolkit.cli.commands import template as template_command
from toolkit.common.filenames import MAX_BYTES, MAX_CHARS, safe_filename, unique_name
from toolkit.reading.roster import (
    RosterEntry,
    RosterError,
    read_roster,
    write_sample_roster,
)

AGENCIES = [
    RosterEntry("樟树市人力资源和社会保障局", "张三", "zhang@example.cn", "11360982MB1234567X"),
    RosterEntry("樟树市财政局", "李四", "li@example.cn", ""),
    RosterEntry("樟树市自然资源局", "", "", "003"),
]
CSV_TEXT = (
    "樟树市各单位政府信息公开年报报送名单\r\n"
    "\r\n"
    "序号,单位名称,联系人,电子邮箱,单位代码\r\n"
    "1,樟树市人力资源和社会保障局,张三,zhang@example.cn,11360982MB1234567X\r\n"
    ",,,,\r\n"
    "2,樟树市财政局,李四, li@example.cn ,\r\n"
    "3,\u3000樟树市自然资源局\u3000,,,003\r\n"
)


def names(entries):
    return [(e.name, e.contact, e.email, e.code) for e in entries]


EXPECTED = [(a.name, a.contact, a.email, a.code) for a in AGENCIES]


def test_xlsx_roster_with_title_rows_blank_rows_and_extra_columns(tmp_path):
    path = tmp_path / "单位名单.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("名单")
    ws.write("A1", "2025年度政府信息公开工作年度报告报送单位")
    ws.write_row("A3", ["序号", "电子邮箱", "单位名称（全称）", "联系人", "单位代码", "备注"])
    ws.write_row("A4", [1, "zhang@example.cn", "樟树市人力资源和社会保障局", "张三", "11360982MB1234567X", ""])
    ws.write_row("A6", [2, "li@example.cn", "樟树市财政局 ", "李四"])
    ws.write_row("A7", [3, None, "樟树市自然资源局"])
    ws.write_number("E7", 3)  # a code typed as a number (its leading zeros lost by Excel)
    wb.close()
    entries = read_roster(path)
    assert names(entries) == [*EXPECTED[:2], ("樟树市自然资源局", "", "", "3")]
    assert [e.row for e in entries] == [4, 6, 7]


def test_utf8_bom_csv(tmp_path):
    path = tmp_path / "单位名单.csv"
    path.write_bytes(CSV_TEXT.encode("utf-8-sig"))
    assert names(read_roster(path)) == EXPECTED


def test_utf8_csv_without_bom(tmp_path):
    path = tmp_path / "单位名单.csv"
    path.write_bytes(CSV_TEXT.encode("utf-8"))
    assert names(read_roster(path)) == EXPECTED


def test_gbk_csv_as_chinese_excel_saves_it(tmp_path):
    path = tmp_path / "单位名单.csv"
    data = CSV_TEXT.encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # really not UTF-8
    path.write_bytes(data)
    assert names(read_roster(path)) == EXPECTED


def test_sample_roster_round_trip(tmp_path):
    for name in ("名单.xlsx", "名单.csv"):
        path = write_sample_roster(tmp_path / name, AGENCIES)
        assert names(read_roster(path)) == EXPECTED


def test_roster_without_agency_column_is_refused_in_chinese(tmp_path):
    path = tmp_path / "名单.csv"
    path.write_bytes("序号,联系人,电子邮箱\r\n1,张三,zhang@example.cn\r\n".encode("utf-8-sig"))
    with pytest.raises(RosterError) as err:
        read_roster(path)
    message = str(err.value)
    assert "名单.csv" in message and "单位名称" in message
    assert re.search(r"[\u4e00-\u9fff]{4}", message)


def test_row_with_contact_but_no_agency_is_named(tmp_path):
    path = tmp_path / "名单.csv"
    path.write_bytes("单位名称,联系人\r\n甲局,张三\r\n,李四\r\n".encode("utf-8-sig"))
    with pytest.raises(RosterError, match=r"名单\.csv 第 3 行.*联系人"):
        read_roster(path)


@pytest.mark.parametrize("content, words", [
    (b"", "单位名称"),
    ("单位名称,联系人\r\n\r\n".encode("utf-8"), "没有任何单位"),
    (b"PK\x03\x04 not really a zip", "无法打开"),
])
def test_unusable_rosters(tmp_path, content, words):
    suffix = ".xlsx" if content.startswith(b"PK") else ".csv"
    path = tmp_path / f"名单{suffix}"
    path.write_bytes(content)
    with pytest.raises(RosterError, match=words):
        read_roster(path)


def test_missing_and_unsupported_files(tmp_path):
    with pytest.raises(RosterError, match="找不到"):
        read_roster(tmp_path / "没有.xlsx")
    doc = tmp_path / "名单.docx"
    doc.write_bytes(b"x")
    with pytest.raises(RosterError, match=r"\.xlsx 或 \.csv"):
        read_roster(doc)


def test_cli_reports_bad_roster_without_traceback(tmp_path):
    app = typer.Typer()
    app.callback()(lambda: None)
    template_command.register(app)
    path = tmp_path / "名单.csv"
    path.write_bytes("联系人\r\n张三\r\n".encode("gbk"))
    result = CliRunner().invoke(app, ["template", "--roster", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "单位名称" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


# -- file names ----------------------------------------------------------------------

WINDOWS_FORBIDDEN = set('<>:"/\\|?*') | {chr(c) for c in range(32)}
RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


@pytest.mark.parametrize("text, expected", [
    ("a/b:c*?", "a_b_c__.xlsx"),
    ("CON", "CON_.xlsx"),
    (" 名称. ", "名称.xlsx"),
    ("nul.txt", "nul_.txt.xlsx"),
    ("樟树市\u3000人社局", "樟树市 人社局.xlsx"),
    ("", "未命名.xlsx"),
    ("...", "未命名.xlsx"),
    ('某局<办公室>|"综合"\t科', "某局_办公室___综合__科.xlsx"),
])
def test_safe_filename(text, expected):
    assert safe_filename(text, ".xlsx") == expected


@pytest.mark.parametrize("text", ["a/b:c*?", "CON", " 名称. ", "com1", "LPT9.", "aux .doc", "\x00\x1f",
                                  "樟" * 300, "x" * 1000, "名称" + "." * 50, "a\ud800b"])
@pytest.mark.parametrize("suffix", [".xlsx", "_2025年政府信息公开年度报表.xlsx", ""])
def test_safe_filename_is_always_windows_safe(text, suffix):
    name = safe_filename(text, suffix)
    assert name and not set(name) & WINDOWS_FORBIDDEN
    assert not name.endswith((".", " "))
    assert name.split(".")[0].strip().upper() not in RESERVED
    assert len(name) <= MAX_CHARS and len(name.encode("utf-8")) <= MAX_BYTES
    assert name.endswith(suffix)


def test_unique_names_ignore_case():
    taken: set[str] = set()
    got = [unique_name(n, taken) for n in ["甲局.xlsx", "甲局.xlsx", "A.xlsx", "a.xlsx", "甲局_2.xlsx"]]
    assert got == ["甲局.xlsx", "甲局_2.xlsx", "A.xlsx", "a_2.xlsx", "甲局_2_2.xlsx"]
