"""toolkit.workbook.book on real workbooks: written by xlsxwriter, openpyxl, LibreOffice and by
hand (for the corners of SpreadsheetML), read back cell by cell."""

from __future__ import annotations

import pickle
import zipfile
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from conftest import soffice_convert
from figures import rewrite_zip

from toolkit.common.a1 import parse_ref
from toolkit.workbook import ooxml
from toolkit.workbook.book import RawCell, SheetInfo, open_book
from toolkit.workbook.limits import Unreadable
from toolkit.workbook.ooxml import is_date_format, parse_name_target

# Every test here runs on both reading paths (conftest.reading).
pytestmark = pytest.mark.usefixtures("reading")


# ------------------------------------------------------------------ xlsxwriter


def build_xlsxwriter(path: Path) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    bold = wb.add_format({"bold": True})
    iso = wb.add_format({"num_format": "yyyy-mm-dd"})
    cn = wb.add_format({"num_format": 'yyyy"年"m"月"d"日"'})
    ws = wb.add_worksheet("数据")
    ws.write_string("A1", "标签")
    ws.write_string("A2", "标签")  # the same shared string twice
    ws.write_number("B1", 5)
    ws.write_number("B2", 2.5)
    ws.write_formula("B3", "=B1*2", None, 10)
    ws.write_boolean("B4", True)
    ws.write_number("B5", 44927, iso)  # 2023-01-01 as a formatted serial
    ws.write_datetime("B6", datetime(2023, 3, 1), cn)
    ws.write_formula("B7", "=1/0", None, "#DIV/0!")
    ws.write_string("B8", "2\u3000")
    ws.write_rich_string("C1", "二", bold, "〇二三")
    ws.write_string("C2", " 前后空格 ")
    ws.write_number("C3", -3)
    ws.write_blank("C4", None, iso)  # formatted but empty
    ws.merge_range("A10:D10", "合并标题", bold)
    ws.protect()
    hidden = wb.add_worksheet("隐藏")
    hidden.write_string("A1", "x")
    hidden.hide()
    meta = wb.add_worksheet("_meta")
    meta.write_string("A1", "format")
    meta.write_string("B1", "gov-2021")
    meta.very_hidden()
    quoted = wb.add_worksheet("It's 表")
    quoted.write_number("A1", 7)
    wb.define_name("gk_num", "='数据'!$B$1")
    wb.define_name("GK_Merged", "='数据'!$A$10:$D$10")
    wb.define_name("gk_quote", "='It''s 表'!$A$1")
    wb.define_name("'数据'!gk_local", "='数据'!$B$2")
    wb.define_name("gk_ref", "=#REF!")
    wb.define_name("gk_sum", "=SUM('数据'!$B$1:$B$2)")
    wb.set_custom_property("disclosure.format", "gov-2021")
    wb.set_custom_property("disclosure.year", 2023)
    wb.close()
    rewrite_zip(path, {"xl/workbook.xml":
                       lambda x: x.replace(b"<bookViews>", b'<workbookProtection lockStructure="1"/><bookViews>')})
    return path


XW_CELLS = {
    "A1": RawCell("标签"),
    "A2": RawCell("标签"),
    "B1": RawCell(5),
    "B2": RawCell(2.5),
    "B3": RawCell(10, formula="B1*2", has_cache=True),
    "B4": RawCell(True),
    "B5": RawCell(44927, is_date=True),
    "B6": RawCell(44986, is_date=True),
    "B7": RawCell(None, formula="1/0", has_cache=True, error="#DIV/0!"),
    "B8": RawCell("2\u3000"),
    "C1": RawCell("二〇二三"),
    "C2": RawCell(" 前后空格 "),
    "C3": RawCell(-3),
    "A10": RawCell("合并标题"),
}


@pytest.fixture(scope="module")
def xw_path(tmp_path_factory) -> Path:
    return build_xlsxwriter(tmp_path_factory.mktemp("xw") / "returned.xlsx")


def test_xlsxwriter_cells(xw_path, reading):
    with open_book(xw_path, reading) as book:
        cells = book.read_cells("数据", [*XW_CELLS, "C4", "Z99"])
    assert cells == XW_CELLS  # C4 (formatted blank) and Z99 (absent) are left out
    assert type(cells["B1"].value) is int and type(cells["B2"].value) is float
    assert cells["B5"].as_datetime() == datetime(2023, 1, 1)
    assert cells["B6"].as_datetime() == datetime(2023, 3, 1)
    assert cells["B1"].as_datetime() is None


def test_xlsxwriter_metadata(xw_path, reading):
    with open_book(xw_path, reading) as book:
        assert book.kind == "xlsx"
        assert book.sheets == [
            SheetInfo("数据", "visible", True),
            SheetInfo("隐藏", "hidden", False),
            SheetInfo("_meta", "veryHidden", False),
            SheetInfo("It's 表", "visible", False),
        ]
        assert book.defined_names == {
            "gk_num": ("数据", "B1"),
            "gk_merged": ("数据", "A10:D10"),
            "gk_quote": ("It's 表", "A1"),
        }
        assert book.local_names == {"数据": {"gk_local": ("数据", "B2")}}
        assert sorted(book.broken_names) == ["gk_ref", "gk_sum"]
        assert book.custom_properties == {"disclosure.format": "gov-2021", "disclosure.year": "2023"}
        assert book.workbook_protected is True
        assert book.merged_ranges("数据") == ["A10:D10"]
        assert book.merged_ranges("隐藏") == []
        assert book.read_cells("_meta", ["A1", "B1"]) == {"A1": RawCell("format"), "B1": RawCell("gov-2021")}


def test_refs_keyed_as_given_and_ranges_read_top_left(xw_path, reading):
    with open_book(xw_path, reading) as book:
        assert book.read_cells("数据", ["$B$1", "b2", "A10:D10"]) == {
            "$B$1": RawCell(5), "b2": RawCell(2.5), "A10:D10": RawCell("合并标题")}
        with pytest.raises(KeyError):
            book.read_cells("没有这个表", ["A1"])


def test_read_grid_window(xw_path, reading):
    with open_book(xw_path, reading) as book:
        grid = book.read_grid("数据", max_rows=3, max_cols=2)
        assert grid == {(1, 1): RawCell("标签"), (2, 1): RawCell("标签"), (1, 2): RawCell(5),
                        (2, 2): RawCell(2.5), (3, 2): RawCell(10, formula="B1*2", has_cache=True)}
        if reading.one_pass_max >= 0:
            # A small sheet is indexed whole, once: every later read answers from the index.
            assert not book.last_scan.stopped_early and book.last_scan.rows_seen == 9
            book.last_scan = None
            assert book.read_cells("数据", ["B1", "C1"]) == {"B1": RawCell(5), "C1": RawCell("二〇二三")}
            assert book.read_cells("数据", ["B2", "A3"]) == {"B2": RawCell(2.5)}
            assert book.merged_ranges("数据") == ["A10:D10"] and book.sheets[0].protected
            assert book.last_scan is None
        else:
            assert book.last_scan.stopped_early and book.last_scan.rows_seen == 4
            # Inside the window the grid answers without parsing again.
            book.last_scan = None
            assert book.read_cells("数据", ["B1", "C1"]) == {"B1": RawCell(5), "C1": RawCell("二〇二三")}
            assert book.last_scan is not None and book.last_scan.rows_seen == 2  # C1 is outside: one scan, to row 1
            book.last_scan = None
            assert book.read_cells("数据", ["B2", "A3"]) == {"B2": RawCell(2.5)}
            assert book.last_scan is None
        full = book.read_grid("数据")
        assert {ref: full[parse_ref(ref)] for ref in XW_CELLS} == XW_CELLS
        assert len(full) == len(XW_CELLS)


def test_inline_strings_from_constant_memory_writer(tmp_path, reading):
    path = tmp_path / "inline.xlsx"
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("表")
    ws.write_string(0, 0, "内联字符串")
    ws.write_number(0, 1, 3)
    ws.write_string(1, 0, "第二行")
    wb.close()
    assert b"inlineStr" in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    with open_book(path, reading) as book:
        assert book.read_cells("表", ["A1", "B1", "A2"]) == {
            "A1": RawCell("内联字符串"), "B1": RawCell(3), "A2": RawCell("第二行")}


# ------------------------------------------------------------------ openpyxl


def test_openpyxl_book(tmp_path, reading):
    from openpyxl.packaging.custom import StringProperty
    from openpyxl.workbook.defined_name import DefinedName
    from openpyxl.workbook.protection import WorkbookProtection

    path = tmp_path / "openpyxl.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "表"
    ws["A1"] = "名称"
    ws["B1"] = "=SUM(B2:B3)"  # openpyxl stores no cached value
    ws["B2"] = 3
    ws["B3"] = 4.25
    ws["B4"] = datetime(2023, 1, 1)
    ws["B5"] = False
    ws["A6"] = "合并"
    ws.merge_cells("A6:C6")
    ws.protection.sheet = True
    other = wb.create_sheet("隐")
    other.sheet_state = "veryHidden"
    wb.defined_names["gk_total"] = DefinedName("gk_total", attr_text="表!$B$1")
    wb.security = WorkbookProtection(lockStructure=True)
    wb.custom_doc_props.append(StringProperty(name="disclosure.agency", value="某某局"))
    wb.save(path)

    with open_book(path, reading) as book:
        assert book.read_cells("表", ["A1", "B1", "B2", "B3", "B4", "B5", "B6"]) == {
            "A1": RawCell("名称"),
            "B1": RawCell(None, formula="SUM(B2:B3)", has_cache=False),
            "B2": RawCell(3),
            "B3": RawCell(4.25),
            "B4": RawCell(44927, is_date=True),
            "B5": RawCell(False),
        }
        assert book.sheets == [SheetInfo("表", "visible", True), SheetInfo("隐", "veryHidden", False)]
        assert book.defined_names == {"gk_total": ("表", "B1")}
        assert book.merged_ranges("表") == ["A6:C6"]
        assert book.workbook_protected is True
        assert book.custom_properties == {"disclosure.agency": "某某局"}


# ------------------------------------------------------------------ LibreOffice


@pytest.mark.libreoffice
def test_libreoffice_saved_book(xw_path, tmp_path, reading):
    path = soffice_convert(xw_path, "xlsx", tmp_path / "lo")
    with open_book(path, reading) as book:
        cells = book.read_cells("数据", list(XW_CELLS))
        # LibreOffice stores a typed TRUE as the formula TRUE() with its cached value.
        assert cells == {**XW_CELLS, "B4": RawCell(True, formula="TRUE()", has_cache=True)}
        # LibreOffice saves a very hidden sheet as merely hidden.
        assert [(s.name, s.state, s.protected) for s in book.sheets] == [
            ("数据", "visible", True), ("隐藏", "hidden", False), ("_meta", "hidden", False),
            ("It's 表", "visible", False)]
        assert {k: v for k, v in book.defined_names.items() if k.startswith("gk_")} == {
            "gk_num": ("数据", "B1"), "gk_merged": ("数据", "A10:D10"), "gk_quote": ("It's 表", "A1")}
        assert book.merged_ranges("数据") == ["A10:D10"]
        assert book.custom_properties["disclosure.format"] == "gov-2021"


# ------------------------------------------------------------------ written by hand: the corners

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def write_package(path: Path, sheets: dict[str, bytes | callable], *, strings: list[str] | None = None,
                  workbook_extra: str = "", styles: bytes | None = None, extra: dict[str, bytes] | None = None,
                  compression=zipfile.ZIP_DEFLATED) -> Path:
    """A minimal .xlsx from raw parts; a sheet may be a callable writing to a stream."""
    sheet_xml = "".join(f'<sheet name="{n}" sheetId="{i + 1}" r:id="rId{i + 1}"/>' for i, n in enumerate(sheets))
    rels = "".join(f'<Relationship Id="rId{i + 1}" Type="{REL}/worksheet" Target="worksheets/sheet{i + 1}.xml"/>'
                   for i in range(len(sheets)))
    n = len(sheets)
    rels += f'<Relationship Id="rId{n + 1}" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
    rels += f'<Relationship Id="rId{n + 2}" Type="{REL}/styles" Target="styles.xml"/>'
    sst = "".join(f"<si><t xml:space=\"preserve\">{s}</t></si>" for s in strings or [])
    with zipfile.ZipFile(path, "w", compression) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        z.writestr("_rels/.rels", f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" '
                                  f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<workbook xmlns="{MAIN}" xmlns:r="{REL}">{workbook_extra}'
                                      f"<sheets>{sheet_xml}</sheets></workbook>")
        z.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{PKG}">{rels}</Relationships>')
        z.writestr("xl/sharedStrings.xml", f'<sst xmlns="{MAIN}">{sst}</sst>')
        z.writestr("xl/styles.xml", styles or (
            f'<styleSheet xmlns="{MAIN}"><numFmts count="1"><numFmt numFmtId="164" formatCode="0.00&quot;万元&quot;"/>'
            f'</numFmts><cellXfs count="4"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/>'
            f'<xf numFmtId="31"/></cellXfs></styleSheet>').encode())
        for i, content in enumerate(sheets.values()):
            name = f"xl/worksheets/sheet{i + 1}.xml"
            if callable(content):
                with z.open(name, "w", force_zip64=True) as f:
                    content(f)
            else:
                z.writestr(name, content)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return path


@pytest.mark.parametrize("prefix", ["x:", ""])
def test_handwritten_corners(tmp_path, prefix, reading):
    sheet = f"""<?xml version="1.0" encoding="UTF-8"?>
<x:worksheet xmlns:x="{MAIN}"><x:sheetData>
<x:row r="1">
  <x:c r="A1" t="inlineStr"><x:is><x:r><x:t>富</x:t></x:r><x:r><x:rPr><x:b/></x:rPr><x:t>文本</x:t></x:r><x:rPh sb="0" eb="1"><x:t>フ</x:t></x:rPh></x:is></x:c>
  <x:c r="B1"><x:f t="shared" ref="B1:B3" si="0">A2*2</x:f><x:v>4</x:v></x:c>
  <x:c r="C1" t="str"><x:f>""</x:f><x:v></x:v></x:c>
  <x:c r="D1" t="d"><x:v>2023-05-04T00:00:00</x:v></x:c>
  <x:c r="E1" t="s"><x:v>1</x:v></x:c>
  <x:c r="F1" s="2"><x:v>24.1982</x:v></x:c>
  <x:c r="G1" s="3"><x:v>45000</x:v></x:c>
  <x:c r="H1" t="e"><x:v>#REF!</x:v></x:c>
  <x:c r="I1"><x:v>1E3</x:v></x:c>
</x:row>
<x:row r="2"><x:c r="B2"><x:f t="shared" si="0"/><x:v>6</x:v></x:c><x:c r="C2"><x:f>A1</x:f></x:c></x:row>
<x:row><x:c><x:v>31</x:v></x:c><x:c><x:v>32</x:v></x:c><x:c r="E3" t="s"><x:v>0</x:v></x:c></x:row>
</x:sheetData><x:mergeCells count="1"><x:mergeCell ref="$A$5:$B$5"/></x:mergeCells></x:worksheet>"""
    if not prefix:  # the same sheet, written the usual way (a default namespace)
        sheet = sheet.replace("xmlns:x=", "xmlns=").replace("<x:", "<").replace("</x:", "</")
        assert "x:" not in sheet
    path = write_package(tmp_path / "corners.xlsx", {"表": sheet.encode()},
                         strings=["第一行_x000D_第二行", "3件"])
    with open_book(path, reading) as book:
        cells = book.read_cells("表", ["A1", "B1", "B2", "C1", "C2", "D1", "E1", "F1", "G1", "H1", "I1",
                                       "A3", "B3", "E3"])
        assert cells == {
            "A1": RawCell("富文本"),  # runs concatenated, the phonetic run left out
            "B1": RawCell(4, formula="A2*2", has_cache=True),
            "B2": RawCell(6, formula="A3*2", has_cache=True),  # shared formula moved to B2
            "C1": RawCell("", formula='""', has_cache=True),  # cached empty string
            "C2": RawCell(None, formula="A1", has_cache=False),
            "D1": RawCell(datetime(2023, 5, 4), is_date=True),
            "E1": RawCell("3件"),
            "F1": RawCell(24.1982),  # a number format with 万元 is not a date
            "G1": RawCell(45000, is_date=True),  # built-in 31: yyyy"年"m"月"d"日"
            "H1": RawCell(None, error="#REF!"),
            "I1": RawCell(1000.0),
            "A3": RawCell(31),  # rows and cells without r attributes
            "B3": RawCell(32),
            "E3": RawCell("第一行\r第二行"),
        }
        assert book.merged_ranges("表") == ["A5:B5"]
        assert book.sheets == [SheetInfo("表")]
        assert book.custom_properties == {}


def test_strict_ooxml_namespaces(tmp_path, reading):
    """Excel's "Strict Open XML" save uses other namespace URIs throughout."""
    sheet = f'<worksheet xmlns="{MAIN}"><sheetData><row r="2"><c r="B2"><v>8</v></c></row></sheetData></worksheet>'
    path = write_package(tmp_path / "plain.xlsx", {"表": sheet.encode()},
                         workbook_extra="<definedNames><definedName name=\"gk_x\">表!$B$2</definedName></definedNames>")
    strict = tmp_path / "strict.xlsx"
    swaps = [(MAIN.encode(), b"http://purl.oclc.org/ooxml/spreadsheetml/main"),
             (REL.encode(), b"http://purl.oclc.org/ooxml/officeDocument/relationships")]
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(strict, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            for old, new in swaps:
                data = data.replace(old, new)
            dst.writestr(info, data)
    assert MAIN.encode() not in zipfile.ZipFile(strict).read("xl/workbook.xml")
    with open_book(strict, reading) as book:
        assert book.defined_names == {"gk_x": ("表", "B2")}
        assert book.read_cells("表", ["B2"]) == {"B2": RawCell(8)}


def test_name_targets_match_sheets_ignoring_case(tmp_path, reading):
    sheet = f'<worksheet xmlns="{MAIN}"><sheetData/></worksheet>'.encode()
    names = ('<definedNames><definedName name="gk_a">DATA!$B$2</definedName>'
             '<definedName name="gk_b">Other!$B$2</definedName>'
             '<definedName name="gk_c" localSheetId="-1">Data!$C$3</definedName>'
             '<definedName name="_xlnm.Print_Area" localSheetId="0">Data!$A$1:$D$9</definedName></definedNames>')
    path = write_package(tmp_path / "names.xlsx", {"Data": sheet}, workbook_extra=names)
    with open_book(path, reading) as book:
        assert book.defined_names == {"gk_a": ("Data", "B2")}
        assert book.broken_names == ["gk_b", "gk_c"]
        assert book.local_names == {}


def test_bad_cell_content_is_a_verdict_naming_the_cell(tmp_path, reading):
    sheet = f'<worksheet xmlns="{MAIN}"><sheetData><row r="4"><c r="B4"><v>12abc</v></c></row></sheetData></worksheet>'
    path = write_package(tmp_path / "bad.xlsx", {"表": sheet.encode()})
    with open_book(path, reading) as book, pytest.raises(Unreadable) as err:
        book.read_cells("表", ["B4"])
    assert err.value.code == "F3" and "B4" in err.value.detail and "表" in err.value.detail


# ------------------------------------------------------------------ the one-pass reader

ODD_SHEET = f"""<?xml version="1.0" encoding="UTF-8"?>
<worksheet xmlns="{MAIN}" xmlns:r="{REL}"><sheetData>
<row r="1" spans="1:4"><c r="A1" t="str"><f>"a&amp;b"</f><v>a&amp;b&#x4E2D;&#13;&lt;</v></c><c r="B1" s="2" t="n"><v>7</v></c><c r="C1" t="inlineStr"><is><t xml:space="preserve">甲\r\n乙</t></is></c><c r="D1" s="1"><v>45000</v></c></row>
<row r="2"><c s="2" r="B2" t="s"><v>1</v></c><c r="C2" t="b"><v>1</v></c><c r="D2" t="e"/><c r="E2" t="str"><v></v></c></row>
</sheetData><sheetProtection sheet='1'/></worksheet>"""
ODD_CELLS = {
    "A1": RawCell("a&b中\r<", formula='"a&b"', has_cache=True),
    "B1": RawCell(7),
    "C1": RawCell("甲\n乙"),  # a line break as stored (CR LF) is read as expat reads it
    "D1": RawCell(45000, is_date=True),
    "B2": RawCell("乙&丙"),
    "C2": RawCell(True),
    "E2": RawCell(""),
}
ODD_STRINGS = f"""<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}"><si><t>甲</t></si><si><r><t>乙</t></r><r><rPr><b/></rPr><t>&amp;丙</t></r><rPh sb="0" eb="1"><t>オツ</t></rPh></si></sst>"""


def _index_of(book, sheet):
    return book._sheets[sheet].index  # None: the sheet went the streaming way


@pytest.mark.parametrize("twist", [
    "", "no_r_after_value", "comment", "cdata", "pi", "prefixed", "no_r_after_blank", "nested_c", "latin1",
    "unknown_in_row"])
def test_one_pass_reads_like_streaming_and_steps_aside_when_unsure(tmp_path, reading, twist):
    """The one-pass reader answers exactly as the streaming parser does, and hands every
    part it cannot be sure of (comments, CDATA, processing instructions, prefixes, cells
    without r=, a non-UTF-8 encoding, unexpected elements) to the streaming parser."""
    sheet = ODD_SHEET
    cells = dict(ODD_CELLS)
    if twist == "comment":
        sheet = sheet.replace("<row r=\"2\">", "<!-- 注释 --><row r=\"2\">")
    elif twist == "cdata":
        sheet = sheet.replace("甲\r\n乙", "<![CDATA[甲<乙]]>")
        cells["C1"] = RawCell("甲<乙")
    elif twist == "pi":
        sheet = sheet.replace("<sheetData>", "<?mso-application progid=\"Excel.Sheet\"?><sheetData>")
    elif twist == "prefixed":
        sheet = sheet.replace("xmlns:r=", "xmlns:s=\"" + MAIN + "\" xmlns:r=").replace(
            '<c r="B1" s="2" t="n"><v>7</v></c>', '<s:c r="B1" s="2" t="n"><s:v>7</s:v></s:c>')
    elif twist == "no_r_after_value":  # the column follows from B2's
        sheet = sheet.replace('<c r="C2" t="b"><v>1</v></c>', '<c t="b"><v>1</v></c>')
    elif twist == "no_r_after_blank":  # the column follows from a blank's: streamed
        sheet = sheet.replace('<c r="E2" t="str"><v></v></c>', '<c t="str"><v></v></c>')
    elif twist == "nested_c":  # well-formed, not valid SpreadsheetML: whatever streaming makes of it
        sheet = sheet.replace('<c r="D2" t="e"/>', '<c r="D2"><c r="F9"><v>5</v></c></c>')
        cells["F2"] = RawCell(5)  # the inner cell, in the row it sits in
    elif twist == "latin1":
        sheet = sheet.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
        sheet = sheet.replace("甲\r\n乙", "caf\u00e9").replace('"a&amp;b"', '"x"')
        cells["A1"] = RawCell("a&b中\r<", formula='"x"', has_cache=True)
        cells["C1"] = RawCell("caf\u00e9")
    elif twist == "unknown_in_row":  # skipped by both readers
        sheet = sheet.replace("</row>\n<row r=\"2\">", "<extLst/></row>\n<row r=\"2\">")
    data = sheet.encode("latin-1" if twist == "latin1" else "utf-8")
    path = write_package(tmp_path / "odd.xlsx", {"表": data}, styles=(
        f'<styleSheet xmlns="{MAIN}"><cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="14"/>'
        f'<xf numFmtId="0"/></cellXfs></styleSheet>').encode(), strings=[])
    with zipfile.ZipFile(path) as z:  # the shared strings above, with a rich-text item
        items = {i.filename: z.read(i) for i in z.infolist()}
    items["xl/sharedStrings.xml"] = ODD_STRINGS.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in items.items():
            z.writestr(name, content)
    with open_book(path, reading) as book:
        got = book.read_cells("表", [*cells, "D2", "A9", "E9"])
        assert got == cells
        assert book.sheets[0].protected is True
        one_pass = _index_of(book, "表") is not None
        assert book.read_grid("表") == {parse_ref(ref): cell for ref, cell in cells.items()}
    assert one_pass is (reading.one_pass_max >= 0 and twist in ("", "no_r_after_value", "unknown_in_row"))


def test_parsed_parts_are_remembered_by_their_exact_bytes(tmp_path, reading):
    """workbook.xml, rels and styles are parsed once per batch, keyed by their bytes:
    two returns that differ in one defined name each get their own names."""
    sheet = f'<worksheet xmlns="{MAIN}"><sheetData><row r="2"><c r="B2"><v>8</v></c><c r="C2"><v>9</v></c></row></sheetData></worksheet>'.encode()
    a = write_package(tmp_path / "a.xlsx", {"表": sheet},
                      workbook_extra='<definedNames><definedName name="gk_x">表!$B$2</definedName></definedNames>')
    b = write_package(tmp_path / "b.xlsx", {"表": sheet},
                      workbook_extra='<definedNames><definedName name="gk_x">表!$C$2</definedName></definedNames>')
    for _ in range(2):
        for path, ref, value in ((a, "B2", 8), (b, "C2", 9)):
            with open_book(path, reading) as book:
                assert book.defined_names == {"gk_x": ("表", ref)}
                assert book.read_cells("表", [ref]) == {ref: RawCell(value)}
                book.defined_names["gk_y"] = ("表", "A1")  # a caller's change stays its own
    with open_book(a, reading) as book:
        assert book.defined_names == {"gk_x": ("表", "B2")}


def test_protection_is_looked_up_only_when_asked(tmp_path, monkeypatch, reading):
    sheet = f'<worksheet xmlns="{MAIN}"><sheetData/><sheetProtection sheet="1"/></worksheet>'.encode()
    path = write_package(tmp_path / "p.xlsx", {"甲": sheet, "乙": sheet})
    touched: list[str] = []
    real = ooxml._Zip._member  # every member read passes here before it is inflated
    monkeypatch.setattr(ooxml._Zip, "_member", lambda self, name: touched.append(name) or real(self, name))
    with open_book(path, reading) as book:
        infos = book.sheets
        assert [s.name for s in infos] == ["甲", "乙"]
        assert not any("worksheets" in name for name in touched)
        assert infos[1].protected is True
        assert [name for name in touched if "worksheets" in name] == ["xl/worksheets/sheet2.xml"]
        assert infos == [SheetInfo("甲", "visible", True), SheetInfo("乙", "visible", True)]


def test_one_pass_budget_per_book(tmp_path, reading):
    """A book indexes at most one_pass_budget bytes of sheets whole; the rest are streamed
    (and answer the same), so a workbook of many small sheets cannot fill the memory."""
    sheet = f'<worksheet xmlns="{MAIN}"><sheetData><row r="2"><c r="B2"><v>8</v></c></row></sheetData></worksheet>'.encode()
    path = write_package(tmp_path / "many.xlsx", {f"表{i}": sheet for i in range(4)})
    with open_book(path, replace(reading, one_pass_budget=2 * len(sheet))) as book:
        assert [book.read_cells(f"表{i}", ["B2"]) for i in range(4)] == [{"B2": RawCell(8)}] * 4
        indexed = [_index_of(book, f"表{i}") is not None for i in range(4)]
        assert indexed == ([True, True, False, False] if reading.one_pass_max >= 0 else [False] * 4)
        assert pickle.loads(pickle.dumps(book.sheets)) == book.sheets


# ------------------------------------------------------------------ a million rows

MILLION = 1_000_000


def million_rows(f) -> None:
    f.write(f'<worksheet xmlns="{MAIN}"><dimension ref="A1:B{MILLION}"/><sheetData>'.encode())
    step = 10_000
    for start in range(1, MILLION + 1, step):
        f.write("".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}" t="s"><v>0</v></c></row>'
                        for r in range(start, start + step)).encode())
    f.write(b'</sheetData><sheetProtection sheet="1"/><mergeCells count="1"><mergeCell ref="C1:D2"/>'
            b"</mergeCells></worksheet>")


@pytest.fixture(scope="module")
def million_path(tmp_path_factory) -> Path:
    return write_package(tmp_path_factory.mktemp("big") / "million.xlsx", {"大表": million_rows},
                         strings=["行"])


def test_million_rows_read_cells_stops_early(million_path, reading):
    assert zipfile.ZipFile(million_path).getinfo("xl/worksheets/sheet1.xml").file_size > 50_000_000
    with open_book(million_path, reading) as book:
        cells = book.read_cells("大表", ["A1", "B1", "A5", "B5"])
        assert cells == {"A1": RawCell(1), "B1": RawCell("行"), "A5": RawCell(5), "B5": RawCell("行")}
        scan = book.last_scan
        assert scan.stopped_early and scan.rows_seen == 6  # row 6 started, then the scan stopped
        assert scan.bytes_inflated <= 2 * 64 * 1024  # one or two 64 KB steps of a 60+ MB sheet

        book.read_grid("大表", max_rows=300, max_cols=2)
        assert book.last_scan.stopped_early and book.last_scan.rows_seen == 301


def test_million_rows_tail_and_limits(million_path, reading):
    with open_book(million_path, reading) as book:
        # mergeCells and sheetProtection sit after a million rows: found by the raw tail scan.
        assert book.merged_ranges("大表") == ["C1:D2"]
        assert book.sheets[0].protected is True
    with open_book(million_path, replace(reading, max_rows=1000)) as book, pytest.raises(Unreadable) as err:
        book.read_cells("大表", ["A5000"])
    assert err.value.code == "F6" and "1,000 行" in err.value.detail
    with pytest.raises(Unreadable) as err:  # the whole file is vetted at open (toolkit.workbook.gate)
        open_book(million_path, replace(reading, max_uncompressed_mb=10))
    assert err.value.code == "F6" and "10 MB" in err.value.detail


# ------------------------------------------------------------------ small pure functions


@pytest.mark.parametrize("code, is_date", [
    ("yyyy-mm-dd", True), ('yyyy"年"m"月"d"日"', True), ("[$-804]aaaa", True), ("h:mm", True),
    ("[h]:mm:ss", True), ("General", False), ("0.00", False), ("0.00E+00", False), ('0.00"万元"', False),
    ("#,##0_);[Red](#,##0)", False), ("[DBNum1][$-804]General", False), ('"年度"0', False), ("@", False),
])
def test_is_date_format(code, is_date):
    assert is_date_format(code) is is_date


@pytest.mark.parametrize("text, target", [
    ("'三、依申请公开'!$J$6", ("三、依申请公开", "J6")),
    ("填报说明!$B$3", ("填报说明", "B3")),
    ("Sheet1!$D$4:$B$4", ("Sheet1", "B4:D4")),
    ("'It''s'!A1", ("It's", "A1")),
    ("#REF!", None), ("Sheet1!#REF!", None), ("[1]Sheet1!$A$1", None), ("SUM(Sheet1!$A$1:$A$2)", None),
    ("Sheet1!$A$1,Sheet1!$B$1", None), ("Sheet1!$A:$A", None), ("Sheet1!$XFE$1", None),
])
def test_parse_name_target(text, target):
    assert parse_name_target(text) == target


def test_as_datetime_epochs():
    assert RawCell(1, is_date=True).as_datetime() == datetime(1900, 1, 1)
    assert RawCell(61, is_date=True).as_datetime() == datetime(1900, 3, 1)
    assert RawCell(44927.5, is_date=True).as_datetime() == datetime(2023, 1, 1, 12)
    assert RawCell(0, is_date=True, date1904=True).as_datetime() == datetime(1904, 1, 1)
    assert RawCell(-1, is_date=True).as_datetime() is None
    assert RawCell(True, is_date=True).as_datetime() is None
