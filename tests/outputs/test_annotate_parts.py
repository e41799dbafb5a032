"""Annotated copies patch the return's own XML: returns saved by LibreOffice, by
xlsxwriter with a picture, a text box and formulas with cached values, and in Strict Open
XML keep every part the marks do not touch byte for byte; the copy opens in a real
LibreOffice (converted to PDF), re-checks to the same findings and, fixed, re-checks
clean.  Also: the mark outranks the template's conditional formats and is bound to the
flagged value; an agency's own comment stays, theirs first."""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from pathlib import Path

import openpyxl
import pytest
from conftest import soffice_convert
from lxml import etree

from toolkit.formats import samples, spec
from toolkit.outputs import check
from toolkit.outputs.annotate import AUTHOR, MARK, TAG
from toolkit.template import writer

FMT = spec.get("gov-2021")
FIG = FMT.figures
WRONG = {"p3.received.natural": 1, "p3.open.business": "无"}  # seed: received 0 0 … total 0
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT = {  # Transitional -> Strict namespaces (ISO/IEC 29500-1 Strict)
    MAIN: "http://purl.oclc.org/ooxml/spreadsheetml/main",
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships":
        "http://purl.oclc.org/ooxml/officeDocument/relationships",
    "http://schemas.openxmlformats.org/drawingml/2006/main": "http://purl.oclc.org/ooxml/drawingml/main",
    "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing":
        "http://purl.oclc.org/ooxml/drawingml/spreadsheetDrawing",
    "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes":
        "http://purl.oclc.org/ooxml/officeDocument/docPropsVTypes",
    "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties":
        "http://purl.oclc.org/ooxml/officeDocument/customProperties",
    "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties":
        "http://purl.oclc.org/ooxml/officeDocument/extendedProperties",
}


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def png() -> bytes:
    """A 4x4 red PNG (a stand-in for a scanned seal)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\0" + b"\xff\0\0" * 4 for _ in range(4))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def seed_values() -> dict:
    return {**samples.seed_figures(), **WRONG}


def xlsxwriter_return(path: Path, monkeypatch) -> Path:
    """The template as xlsxwriter writes it, filled, plus what openpyxl would lose: a
    picture and a text box on 填报说明, and two totals as formulas with cached values."""
    real_names = writer._Renderer.names

    def names(self):
        info = self.wb.get_worksheet_by_name(FMT.info.sheet)
        info.insert_image("F2", "seal.png", {"image_data": io.BytesIO(png())})
        info.insert_textbox("F8", "本单位已核对（盖章）", {"width": 200, "height": 40})
        figure = self.wb.add_format({"locked": False, "border": 1, "align": "center"})
        for key, cells in (("p4.cases.review_total", "p4.cases.review_upheld:p4.cases.review_pending"),):
            fig = FIG[key]
            first, last = (FIG[k].cell for k in cells.split(":"))
            self.wb.get_worksheet_by_name(fig.sheet).write_formula(fig.cell, f"=SUM({first}:{last})", figure, 0)
        real_names(self)

    monkeypatch.setattr(writer._Renderer, "names", names)
    agency, year = samples.seed_agency()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(writer.render(FMT, agency=agency, year=year, values=seed_values()))
    return path


def openpyxl_return(path: Path) -> Path:
    agency, year = samples.seed_agency()
    path.parent.mkdir(parents=True, exist_ok=True)
    writer.write_template(path, FMT, agency=agency, year=year)
    return samples.type_figures(path, seed_values())


def libreoffice_return(path: Path) -> Path:
    """Filled with openpyxl, then opened and saved as .xlsx by a real LibreOffice."""
    filled = openpyxl_return(path.parent / "filled" / path.name)
    return soffice_convert(filled, "xlsx", path.parent)


def strict(src: Path, dest: Path) -> Path:
    """The same package in Strict Open XML.  LibreOffice cannot save Strict (its "Office
    Open XML" filter writes Transitional too), so the namespaces are rewritten here."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith((".xml", ".rels")):
                for old, new in STRICT.items():
                    data = data.replace(old.encode(), new.encode())
                if info.filename == "xl/workbook.xml":
                    data = data.replace(b"<workbook ", b'<workbook conformance="strict" ', 1)
            zout.writestr(info, data)
    return dest


def set_value(path: Path, sheet: str, ref: str, value: float) -> None:
    """Types a number into one cell by editing the sheet's XML (works for Strict too,
    which openpyxl cannot open): the cell keeps its style, becomes a plain number."""
    files = parts(path)
    wb = etree.fromstring(files["xl/workbook.xml"])
    rid = next(s for s in wb.iter() if s.get("name") == sheet).get(
        next(k for k in next(s for s in wb.iter() if s.get("name") == sheet).attrib if k.endswith("}id")))
    rels = etree.fromstring(files["xl/_rels/workbook.xml.rels"])
    part = "xl/" + next(r.get("Target") for r in rels if r.get("Id") == rid).lstrip("/").removeprefix("xl/")
    root = etree.fromstring(files[part])
    main = root.tag[1:].split("}")[0]
    c = next(c for c in root.iter(f"{{{main}}}c") if c.get("r") == ref)
    for k in ("t",):
        c.attrib.pop(k, None)
    for old in list(c):
        c.remove(old)
    etree.SubElement(c, f"{{{main}}}v").text = repr(value)
    files[part] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, data in files.items():
            zf.writestr(n, data)


def seen(report) -> list[tuple]:
    return [(f.rule, f.severity, f.sheet, f.cell, f.value) for f in report.findings]


def touched(original: dict[str, bytes], copy: dict[str, bytes]) -> set[str]:
    return {n for n in original if copy.get(n) != original[n]}


def sheet_parts(files: dict[str, bytes]) -> dict[str, str]:
    """sheet name -> part name."""
    wb = etree.fromstring(files["xl/workbook.xml"])
    rels = {r.get("Id"): r.get("Target") for r in etree.fromstring(files["xl/_rels/workbook.xml.rels"])}
    out = {}
    for s in wb.iter():
        if s.tag.endswith("}sheet"):
            rid = next(v for k, v in s.attrib.items() if k.endswith("}id"))
            out[s.get("name")] = "xl/" + rels[rid].lstrip("/").removeprefix("xl/")
    return out


def round_trip(src: Path, tmp: Path, *, expect_kept: tuple[str, ...] = ()) -> None:
    """The Must-show sequence for one return."""
    first = check.run([src], tmp / "out1")
    (report,) = first.reports
    assert {f.rule for f in report.findings} >= {"R3", "R6.nil"}, seen(report)
    copy = first.annotated[str(src)] if str(src) in first.annotated else first.annotated[report.path]

    a, b = parts(src), parts(copy)
    marked = {f.sheet for f in report.findings if f.cell}
    where = sheet_parts(a)
    allowed = {"[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml"}
    for name in marked:
        allowed |= {where[name], where[name].replace("worksheets/", "worksheets/_rels/") + ".rels"}
    allowed |= {p for p in where.values() if re.search(rb"tabSelected=\"(1|true)\"", a[p])}
    assert touched(a, b) <= allowed, touched(a, b) - allowed
    for name in expect_kept:  # pictures, drawings, shared strings, properties: present, same bytes
        assert b[name] == a[name], name
    assert not any(n.lower().startswith("xl/calcchain") for n in set(a) - set(b))

    pdf = soffice_convert(copy, "pdf", tmp / "pdf")
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 5000

    again = check.run([copy], tmp / "out2")
    (re_report,) = again.reports
    assert seen(re_report) == seen(report)

    fixed = tmp / "fixed.xlsx"
    fixed.write_bytes(copy.read_bytes())
    seed = samples.seed_figures()
    for key in WRONG:
        set_value(fixed, FIG[key].sheet, FIG[key].cell, float(seed[key]))
    done = check.run([fixed], tmp / "out3")
    (clean,) = done.reports
    assert clean.status == "pass" and clean.errors == 0, seen(clean)


@pytest.mark.libreoffice
def test_xlsxwriter_return_with_picture_textbox_and_formulas(tmp_path, monkeypatch):
    src = xlsxwriter_return(tmp_path / "in" / "樟树市人社局.xlsx", monkeypatch)
    a = parts(src)
    assert any(n.startswith("xl/media/") for n in a) and any(n.startswith("xl/drawings/drawing") for n in a)
    fig = FIG["p4.cases.review_total"]
    assert re.search(rb'<c r="' + fig.cell.encode() + rb'"[^>]*><f>SUM\([^<]+\)</f><v>0</v>', a[sheet_parts(a)[fig.sheet]])
    kept = tuple(n for n in a if n.startswith(("xl/media/", "xl/drawings/", "docProps/", "xl/theme/"))
                 or n == "xl/sharedStrings.xml")
    round_trip(src, tmp_path, expect_kept=kept)
    copy = parts(tmp_path / "out1" / "annotated" / "樟树市人社局_校验意见.xlsx")
    # The formula and its cached value are the agency's.
    assert re.search(rb'<c r="' + fig.cell.encode() + rb'"[^>]*><f>SUM\([^<]+\)</f><v>0</v>', copy[sheet_parts(copy)[fig.sheet]])


@pytest.mark.libreoffice
def test_libreoffice_saved_return(tmp_path):
    src = libreoffice_return(tmp_path / "in" / "樟树市人社局.xlsx")
    a = parts(src)
    kept = tuple(n for n in a if n.startswith(("docProps/", "xl/theme/")) or n == "xl/sharedStrings.xml")
    round_trip(src, tmp_path, expect_kept=kept)


@pytest.mark.libreoffice
def test_strict_open_xml_return(tmp_path, monkeypatch):
    transitional = xlsxwriter_return(tmp_path / "t" / "樟树市人社局.xlsx", monkeypatch)
    src = strict(transitional, tmp_path / "in" / "樟树市人社局.xlsx")
    assert b"purl.oclc.org/ooxml/spreadsheetml/main" in parts(src)["xl/workbook.xml"]
    kept = tuple(n for n in parts(src) if n.startswith(("xl/media/", "xl/drawings/", "docProps/")))
    round_trip(src, tmp_path, expect_kept=kept)
    copy = parts(tmp_path / "out1" / "annotated" / "樟树市人社局_校验意见.xlsx")
    # Every part we wrote speaks Strict: no Transitional namespace crept in.
    for name, data in copy.items():
        if name.endswith((".xml", ".rels")) and name != "[Content_Types].xml":
            assert MAIN.encode() not in data and b"schemas.openxmlformats.org/officeDocument/2006/relationships" \
                not in data, name


def _rules_on(root, ref: str) -> list[etree._Element]:
    """Every conditional-format rule whose range covers cell ``ref``."""
    def covers(sqref: str) -> bool:
        def rc(a):
            m = re.fullmatch(r"\$?([A-Z]+)\$?(\d+)", a)
            return int(m.group(2)), sum((ord(ch) - 64) * 26 ** i for i, ch in enumerate(reversed(m.group(1))))
        r, c = rc(ref)
        for area in sqref.split():
            lo, _, hi = area.partition(":")
            (r1, c1), (r2, c2) = rc(lo), rc(hi or lo)
            if r1 <= r <= r2 and c1 <= c <= c2:
                return True
        return False
    return [rule for cf in root if cf.tag.endswith("}conditionalFormatting") and covers(cf.get("sqref"))
            for rule in cf if rule.tag.endswith("}cfRule")]


@pytest.mark.libreoffice
def test_mark_outranks_template_formats_and_is_bound_to_the_value(tmp_path):
    """On a flagged total (the template's live check and to-fill formats cover it too) and
    a flagged blank, our rule has the highest priority (1 is highest), stops the others,
    and holds only while the cell holds what was flagged."""
    src = openpyxl_return(tmp_path / "in" / "甲.xlsx")
    samples.type_figures(src, {"p2.licensing.decisions": None})  # a blank
    (report,) = check.run([src], tmp_path / "out").reports
    total, blank = FIG["p3.received.total"], FIG["p2.licensing.decisions"]
    flagged = {(f.rule, f.cell) for f in report.findings}
    assert ("R6.blank", blank.cell) in flagged and ("R3", total.cell) in flagged, flagged
    copy = parts(tmp_path / "out" / "annotated" / "甲_校验意见.xlsx")
    for fig, bound in ((total, rf"AND\(ISNUMBER\({total.cell}\),{total.cell}=0\)"),  # total 0, items sum to 1
                       (blank, rf"LEN\({blank.cell}\)=0")):
        root = etree.fromstring(copy[sheet_parts(copy)[fig.sheet]])
        priorities = [int(r.get("priority")) for r in root.iter() if r.tag.endswith("}cfRule")]
        assert len(priorities) == len(set(priorities))  # still one order over all rules
        rules = _rules_on(root, fig.cell)
        assert len(rules) >= 2  # ours, and the template's live check or to-fill rule
        top = min(rules, key=lambda r: int(r.get("priority")))
        formula = top[0].text
        assert TAG in formula and top.get("stopIfTrue") == "1" and top.get("type") == "expression"
        assert re.fullmatch(rf"AND\({bound},{re.escape(TAG)}\)", formula), formula
        assert sum(TAG in (r[0].text or "") for r in rules) == 1
    # The mark's look: the catalogue's red for errors, over the template's yellow.
    wb = openpyxl.load_workbook(tmp_path / "out" / "annotated" / "甲_校验意见.xlsx")
    ours = [r for cf in wb[total.sheet].conditional_formatting for r in cf.rules
            if any(TAG in f for f in r.formula)]
    assert {wb._differential_styles.styles[r.dxfId].fill.bgColor.rgb for r in ours} == {"FFFFC7CE"}

    # Evaluated by a real LibreOffice: each mark of ours holds on the copy, and no longer
    # once the clerk has typed the right figure into the flagged cell.
    copy_path = tmp_path / "out" / "annotated" / "甲_校验意见.xlsx"
    assert set(evaluate_marks(copy_path, tmp_path / "e1").values()) == {True}
    fixed = tmp_path / "fixed.xlsx"
    fixed.write_bytes(copy_path.read_bytes())
    set_value(fixed, blank.sheet, blank.cell, 0.0)
    set_value(fixed, total.sheet, total.cell, 1.0)
    after = evaluate_marks(fixed, tmp_path / "e2")
    assert after[(blank.sheet, blank.cell)] is False and after[(total.sheet, total.cell)] is False
    assert sum(after.values()) == len(after) - 2  # the other marks still hold


def evaluate_marks(path: Path, tmp: Path) -> dict[tuple[str, str], bool]:
    """(sheet, cell) -> the value of our mark's formula, computed by LibreOffice: each
    formula is copied into a spare cell of a probe copy, which LibreOffice recalculates."""
    wb = openpyxl.load_workbook(path)
    probes = {}
    for ws in wb.worksheets:
        for i, (cf, rule) in enumerate((cf, r) for cf in ws.conditional_formatting for r in cf.rules
                                       if any(TAG in f for f in r.formula)):
            ws.cell(200 + i, 40).value = "=" + rule.formula[0]
            probes[(ws.title, str(cf.sqref))] = (ws.title, ws.cell(200 + i, 40).coordinate)
    tmp.mkdir(parents=True, exist_ok=True)
    wb.save(tmp / "probe.xlsx")
    done = openpyxl.load_workbook(soffice_convert(tmp / "probe.xlsx", "xlsx", tmp / "lo"), data_only=True)
    return {key: done[sheet][ref].value for key, (sheet, ref) in probes.items()}


def test_agency_comment_stays_beside_ours(tmp_path):
    src = openpyxl_return(tmp_path / "in" / "甲.xlsx")
    total, other = FIG["p3.received.total"], FIG["p3.open.total"]
    wb = openpyxl.load_workbook(src)
    wb[total.sheet][total.cell].comment = openpyxl.comments.Comment("含两件转办申请", "王科员")
    wb[other.sheet][other.cell].comment = openpyxl.comments.Comment("已与上年核对", "王科员")
    wb.save(src)
    (report,) = check.run([src], tmp_path / "out").reports
    copy = tmp_path / "out" / "annotated" / "甲_校验意见.xlsx"
    ws = openpyxl.load_workbook(copy)[total.sheet]
    mine = ws[total.cell].comment
    assert mine.author == "王科员"
    lines = mine.text.splitlines()
    assert lines[0] == "含两件转办申请" and lines[1] == MARK and len(lines) > 2  # theirs first, then ours
    assert ws[other.cell].comment.text == "已与上年核对"  # not flagged: untouched
    flagged = {f.cell for f in report.findings if f.sheet == total.sheet}
    for cell in flagged - {total.cell}:
        assert ws[cell].comment.author == AUTHOR
    vml = [d for n, d in parts(copy).items() if n.endswith(".vml")]
    assert sum(len(re.findall(rb'ClientData[^>]*ObjectType="Note"', d)) for d in vml) == len(flagged | {other.cell})

    # The copy comes back fixed: re-annotating removes only our part of their comment.
    fixed = tmp_path / "back.xlsx"
    fixed.write_bytes(copy.read_bytes())
    for key in ("p3.received.natural",):
        set_value(fixed, FIG[key].sheet, FIG[key].cell, 0.0)
    (again,) = check.run([fixed], tmp_path / "out2").reports
    still = {f.cell for f in again.findings if f.sheet == total.sheet}
    assert total.cell not in still and still  # the total is right now; "无" is still there
    ws = openpyxl.load_workbook(tmp_path / "out2" / "annotated" / "back_校验意见.xlsx")[total.sheet]
    assert (ws[total.cell].comment.text, ws[total.cell].comment.author) == ("含两件转办申请", "王科员")
    assert ws[other.cell].comment.text == "已与上年核对"
    for cell in flagged - {total.cell}:
        if cell in still:
            assert ws[cell].comment.author == AUTHOR and ws[cell].comment.text.count(MARK) == 1
        else:
            assert ws[cell].comment is None


@pytest.mark.libreoffice
def test_annotated_copy_in_print(tmp_path):
    """校验结果 prints on A4 landscape, one page wide, its header row on every page, the
    flagged figure's row and column labels in words, at 9 pt or more; the flagged
    sheets print their comments at the end (paper shows no hover)."""
    src = openpyxl_return(tmp_path / "in" / "甲.xlsx")
    (report,) = check.run([src], tmp_path / "out").reports
    path = tmp_path / "out" / "annotated" / "甲_校验意见.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize in (9, "9")
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) in ((1, 0), ("1", "0"))
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$8:$8"
    flagged = {f.sheet for f in report.findings if f.cell}
    for name in flagged:
        assert wb[name].page_setup.cellComments == "atEnd"

    pdf = soffice_convert(path, "pdf", tmp_path / "pdf")
    import subprocess
    first = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-bbox", str(pdf), "-"],
                           capture_output=True, text=True, check=True).stdout
    page = re.search(r'<page width="([\d.]+)" height="([\d.]+)"', first)
    assert float(page.group(1)) > float(page.group(2))  # landscape
    words = re.findall(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)<', first)
    text = "".join(w for _, _, w in words)
    total = FIG["p3.received.total"]
    assert total.row_label.text in text and "校验结果" in text
    heights = sorted(float(b) - float(a) for a, b, w in words if re.search(r"[\u4e00-\u9fff]", w))
    assert heights[len(heights) // 2] >= 9, heights[len(heights) // 2]  # printed size, median word
