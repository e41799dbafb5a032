"""Broken, disguised and hostile returns: each gets its exact verdict (Unreadable code and
a 中文 detail naming the problem), nothing else is ever raised, inputs stay untouched."""

from __future__ import annotations

import io
import struct
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
import xlsxwriter
from conftest import soffice_convert
from figures import rewrite_zip, sha256
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.formats.catalogue import rule
from toolkit.workbook import ooxml
from toolkit.workbook.book import RawCell, open_book
from toolkit.workbook.limits import Limits, Unreadable

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


# Every test here runs on both reading paths (conftest.reading).
pytestmark = pytest.mark.usefixtures("reading")


# ------------------------------------------------------------------ helpers


def good_xlsx(path: Path, compression: int = zipfile.ZIP_DEFLATED) -> Path:
    """A small real return: two sheets, shared strings, a name, a merge."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("表")
    ws.write_string("A1", "收到申请数")
    ws.write_number("B1", 12)
    ws.merge_range("A3:C3", "合并")
    wb.add_worksheet("二").write_number("A1", 1)
    wb.define_name("gk_total", "='表'!$B$1")
    wb.close()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, zipfile.ZipFile(path, "w", compression) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info), compress_type=compression)
    return path


def read_everything(path: Path, limits: Limits | None = None) -> str:
    """What a batch does with a file: open it and read every part we ever read.
    Returns 'ok' or the verdict code; any other exception fails the test."""
    try:
        with open_book(path, limits) as book:
            book.custom_properties  # noqa: B018
            for sheet in book.sheets:
                book.read_grid(sheet.name)
                book.merged_ranges(sheet.name)
                book.read_cells(sheet.name, ["A1", "B1", "XFD1048576"])
        return "ok"
    except Unreadable as exc:
        assert exc.code in {"F1", "F2", "F3", "F4", "F5", "F6", "F7"}
        assert exc.detail and any("\u4e00" <= ch <= "\u9fff" for ch in exc.detail), exc.detail
        return exc.code


def verdict(path: Path, limits: Limits | None = None) -> Unreadable:
    with pytest.raises(Unreadable) as err:
        read_everything_raising(path, limits)
    return err.value


def read_everything_raising(path: Path, limits: Limits | None = None) -> None:
    with open_book(path, limits) as book:
        for sheet in book.sheets:
            book.read_grid(sheet.name)
            book.merged_ranges(sheet.name)


def set_declared_size(path: Path, member: str, size: int) -> None:
    """Make the zip lie about ``member``'s uncompressed size (central directory and local
    header), leaving the data alone."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    i = -1
    while True:
        i = data.find(b"PK\x01\x02", i + 1)
        assert i >= 0, member
        n = struct.unpack_from("<H", data, i + 28)[0]
        if bytes(data[i + 46:i + 46 + n]) == name:
            struct.pack_into("<I", data, i + 24, size)
            local = struct.unpack_from("<I", data, i + 42)[0]
            struct.pack_into("<I", data, local + 22, size)
            break
    path.write_bytes(bytes(data))


def ole2(streams: dict[str, bytes]) -> bytes:
    """A minimal OLE2 compound file (CFB v3, 512-byte sectors) holding ``streams``.
    Streams are padded to 4096 bytes so that none lives in the mini stream."""
    sec = 512
    end, free, fat_sect, nostream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    assert len(streams) <= 3
    fat = [fat_sect, end]  # sector 0: the FAT; sector 1: the directory
    body = b""
    entries = []
    for name, data in streams.items():
        data = data.ljust(4096, b"\0")
        n = -(-len(data) // sec)
        start = len(fat)
        fat += [start + k + 1 for k in range(n - 1)] + [end]
        body += data.ljust(n * sec, b"\0")
        entries.append((name, start, len(data)))
    fat += [free] * (sec // 4 - len(fat))

    def dirent(name: str, kind: int, right: int, child: int, start: int, size: int) -> bytes:
        raw = (name.encode("utf-16-le") + b"\0\0") if name else b""
        return (raw.ljust(64, b"\0") + struct.pack("<HBBIII", len(raw), kind, 1, nostream, right, child)
                + bytes(16) + bytes(4) + bytes(16) + struct.pack("<III", start, size, 0))

    dir_sector = dirent("Root Entry", 5, nostream, 1 if entries else nostream, end, 0)
    for k, (name, start, size) in enumerate(entries):
        right = k + 2 if k + 1 < len(entries) else nostream
        dir_sector += dirent(name, 2, right, nostream, start, size)
    dir_sector = dir_sector.ljust(sec, b"\0")
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16)
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + bytes(6)
              + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0)
              + struct.pack("<109I", 0, *[free] * 108))
    assert len(header) == sec
    return header + struct.pack(f"<{sec // 4}I", *fat) + dir_sector + body


def biff_record(rc: int, payload: bytes) -> bytes:
    return struct.pack("<HH", rc, len(payload)) + payload


BOF_GLOBALS = biff_record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0x0DBB, 0x07CC, 0, 0x06))


@pytest.fixture(scope="module")
def real_xls(tmp_path_factory) -> Path:
    """A real BIFF8 .xls, saved by LibreOffice from a small return."""
    tmp = tmp_path_factory.mktemp("xls")
    return soffice_convert(good_xlsx(tmp / "return.xlsx"), "xls", tmp / "out")


# ------------------------------------------------------------------ not a workbook


def test_empty_file(tmp_path, reading):
    p = tmp_path / "空.xlsx"
    p.write_bytes(b"")
    err = verdict(p, reading)
    assert (err.code, err.detail) == ("F1", "0 字节")
    assert "空的" in rule("F1").render(detail=err.detail)


def test_truncated_zip(tmp_path, reading):
    data = good_xlsx(tmp_path / "full.xlsx").read_bytes()
    p = tmp_path / "截断.xlsx"
    p.write_bytes(data[: len(data) // 2])
    err = verdict(p, reading)
    assert err.code == "F3" and "截断" in err.detail


def test_corrupt_member_data(tmp_path, reading):
    p = good_xlsx(tmp_path / "坏.xlsx")
    with zipfile.ZipFile(p) as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
    data = bytearray(p.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for k in range(start + 20, start + 60):
        data[k] ^= 0x5A
    p.write_bytes(bytes(data))
    err = verdict(p, reading)
    assert err.code == "F3" and "xl/worksheets/sheet1.xml" in err.detail


def test_corrupt_central_directory(tmp_path, reading):
    p = good_xlsx(tmp_path / "目录坏.xlsx")
    data = bytearray(p.read_bytes())
    cd = data.find(b"PK\x01\x02")
    data[cd:cd + 200] = b"\xff" * 200
    p.write_bytes(bytes(data))
    err = verdict(p, reading)
    assert err.code == "F3" and "压缩包" in err.detail


def test_csv_renamed(tmp_path, reading):
    p = tmp_path / "报表.xlsx"
    p.write_bytes("单位,收到申请数\n某某局,12\n某某办,3\n".encode("gb18030"))
    err = verdict(p, reading)
    assert (err.code, err.detail) == ("F2", "CSV 文本")
    assert "CSV" in rule("F2").render(detail=err.detail)


def test_html_renamed(tmp_path, reading):
    p = tmp_path / "报表.xlsx"
    p.write_text("<html><head><meta charset='utf-8'></head><body><table><tr><td>12</td></tr></table></body></html>",
                 encoding="utf-8")
    err = verdict(p, reading)
    assert (err.code, err.detail) == ("F2", "网页（HTML）")


def test_docx_renamed(tmp_path, reading):
    p = tmp_path / "报表.xlsx"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("_rels/.rels", '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                                  f'relationships"><Relationship Id="rId1" Type="{rel}" Target="word/document.xml"/>'
                                  "</Relationships>")
        z.writestr("word/document.xml", "<w:document xmlns:w='urn:w'/>")
    err = verdict(p, reading)
    assert (err.code, err.detail) == ("F2", "Word 文档")


def test_zip_of_workbooks(tmp_path, reading):
    p = tmp_path / "打包.xlsx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("某某局.xlsx", good_xlsx(tmp_path / "a.xlsx").read_bytes())
    err = verdict(p, reading)
    assert err.code == "F2" and "ZIP 压缩包" in err.detail and "解压" in err.detail


# ------------------------------------------------------------------ OLE2


def test_encrypted_ooxml(tmp_path, reading):
    p = tmp_path / "加密.xlsx"
    p.write_bytes(ole2({"EncryptionInfo": b"\x04\x00\x04\x00\x40\x00\x00\x00", "EncryptedPackage": b"\x00" * 64}))
    err = verdict(p, reading)
    assert err.code == "F4"
    assert rule("F4").render(detail=err.detail) == "文件已加密，请取消密码后重新报送"


def test_encrypted_xls_filepass(tmp_path, reading):
    stream = BOF_GLOBALS + biff_record(0x002F, struct.pack("<H", 1) + bytes(52)) + biff_record(0x000A, b"")
    p = tmp_path / "加密.xls"
    p.write_bytes(ole2({"Workbook": stream}))
    err = verdict(p, reading)
    assert err.code == "F4" and "加密" in err.detail


def test_other_ole2_is_f5(tmp_path, reading):
    p = tmp_path / "报表.xls"
    p.write_bytes(ole2({"WordDocument": b"\xec\xa5" + bytes(30), "1Table": bytes(16)}))
    err = verdict(p, reading)
    assert (err.code, err.detail) == ("F5", "Word 97-2003 文档")
    assert rule("F5").render(detail=err.detail) == "请用 WPS/Excel 另存为 .xlsx 后重新报送"


def test_corrupt_ole2(tmp_path, reading):
    p = tmp_path / "坏.xls"
    p.write_bytes(ole2({"Workbook": BOF_GLOBALS})[:600])
    err = verdict(p, reading)
    assert err.code == "F3" and "OLE2" in err.detail


@pytest.mark.libreoffice
def test_biff_xls_is_read(real_xls, reading):
    with open_book(real_xls, reading) as book:
        assert book.kind == "xls"
        assert [s.name for s in book.sheets] == ["表", "二"]
        assert book.defined_names == {"gk_total": ("表", "B1")}
        assert book.read_cells("表", ["A1", "B1", "C9"]) == {"A1": RawCell("收到申请数"), "B1": RawCell(12)}
        assert book.read_grid("表") == {(1, 1): RawCell("收到申请数"), (1, 2): RawCell(12), (3, 1): RawCell("合并")}
        assert book.merged_ranges("表") == ["A3:C3"]


@pytest.mark.libreoffice
def test_extension_lies(real_xls, tmp_path, reading):
    xls_as_xlsx = tmp_path / "其实是xls.xlsx"
    xls_as_xlsx.write_bytes(real_xls.read_bytes())
    xlsx_as_xls = tmp_path / "其实是xlsx.xls"
    xlsx_as_xls.write_bytes(good_xlsx(tmp_path / "g.xlsx").read_bytes())
    et = tmp_path / "wps.et"
    et.write_bytes(real_xls.read_bytes())
    for path, kind in ((xls_as_xlsx, "xls"), (xlsx_as_xls, "xlsx"), (et, "xls")):
        with open_book(path, reading) as book:
            assert book.kind == kind
            assert book.read_cells("表", ["B1"]) == {"B1": RawCell(12)}


# ------------------------------------------------------------------ zip bombs


def test_bomb_with_huge_declared_size_refused_before_inflating(tmp_path, monkeypatch, reading):
    p = good_xlsx(tmp_path / "炸弹.xlsx")
    set_declared_size(p, "xl/worksheets/sheet1.xml", 3_000_000_000)
    inflated = []
    real = ooxml.zipguard.zlib.decompressobj
    monkeypatch.setattr(ooxml.zipguard.zlib, "decompressobj",
                        lambda *a: inflated.append(a) or real(*a))
    with pytest.raises(Unreadable) as err:
        open_book(p, reading)  # refused at open, from the directory (toolkit.workbook.gate)
    assert inflated == []  # nothing inflated
    assert err.value.code == "F6" and "压缩炸弹" in err.value.detail and "xl/worksheets/sheet1.xml" in err.value.detail


def test_bomb_with_huge_ratio_refused_before_inflating(tmp_path, reading):
    sheet = f'<worksheet xmlns="{MAIN}"><sheetData/>'.encode() + b" " * 60_000_000 + b"</worksheet>"
    p = rewrite_zip(good_xlsx(tmp_path / "比例炸弹.xlsx"), {"xl/worksheets/sheet1.xml": sheet})
    err = verdict(p, reading)
    assert err.code == "F6" and "压缩比" in err.detail and "100:1" in err.detail


def test_bomb_with_lying_small_declared_size_caught_while_inflating(tmp_path, reading):
    sheet = f'<worksheet xmlns="{MAIN}"><sheetData/>'.encode() + b" " * 30_000_000 + b"</worksheet>"
    p = rewrite_zip(good_xlsx(tmp_path / "说谎.xlsx"), {"xl/worksheets/sheet1.xml": sheet})
    set_declared_size(p, "xl/worksheets/sheet1.xml", 1000)
    err = verdict(p, reading)
    assert err.code == "F6" and "实际大小超过" in err.detail and "1,000 字节" in err.detail


@pytest.mark.parametrize("member", ["xl/styles.xml", "xl/sharedStrings.xml", "xl/_rels/workbook.xml.rels",
                                    "xl/worksheets/sheet1.xml"])
def test_corrupt_deflate_in_a_lazily_read_part(tmp_path, member, reading):
    """A part read late (styles only when a styled number is read, shared strings, the
    sheet itself) with broken compressed data is F3, never a zlib error."""
    p = tmp_path / "损坏.xlsx"
    wb = xlsxwriter.Workbook(str(p))
    wb.add_worksheet("表").write_number("B1", 12, wb.add_format({"num_format": "0.00"}))
    wb.worksheets()[0].write_string("A1", "标签")
    wb.close()
    data = bytearray(p.read_bytes())
    info = zipfile.ZipFile(p).getinfo(member)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for k in range(start + 2, start + min(info.compress_size, 40)):
        data[k] ^= 0x5A
    p.write_bytes(bytes(data))
    with pytest.raises(Unreadable) as err:
        with open_book(p, reading) as book:
            book.read_cells("表", ["A1", "B1"])
    assert err.value.code == "F3" and member in err.value.detail


def test_file_too_large(tmp_path, reading):
    p = good_xlsx(tmp_path / "大.xlsx")
    err = verdict(p, replace(reading, max_file_mb=0.001))
    assert err.code == "F6" and "超过上限 0.001 MB" in err.detail


def test_deadline(tmp_path, reading):
    p = good_xlsx(tmp_path / "慢.xlsx")
    err = verdict(p, replace(reading, max_seconds=0))
    assert (err.code, err.detail) == ("F6", "处理时间超过 0 秒")


def test_too_many_zip_entries(tmp_path, reading):
    p = tmp_path / "多.xlsx"
    with zipfile.ZipFile(p, "w") as z:
        for k in range(50):
            z.writestr(f"junk/{k}.txt", b"")
    err = verdict(p, replace(reading, max_zip_entries=20))
    assert err.code == "F6" and "50 个文件" in err.detail


# ------------------------------------------------------------------ XML attacks

LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(b'<!ENTITY lol%d "%s">' % (k, (b"&lol%d;" % (k - 1) if k > 1 else b"&lol;") * 10)
                     for k in range(1, 10)))


def test_billion_laughs_in_shared_strings(tmp_path, reading):
    sst = LAUGHS + f']><sst xmlns="{MAIN}"><si><t>&lol9;</t></si></sst>'.encode()
    p = rewrite_zip(good_xlsx(tmp_path / "笑.xlsx"), {"xl/sharedStrings.xml": sst})
    with open_book(p, reading) as book, pytest.raises(Unreadable) as err:
        book.read_cells("表", ["A1"])
    assert err.value.code == "F7" and "xl/sharedStrings.xml" in err.value.detail and "实体" in err.value.detail


def test_billion_laughs_in_sheet(tmp_path, reading):
    sheet = LAUGHS + f']><worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>'.encode()
    p = rewrite_zip(good_xlsx(tmp_path / "笑.xlsx"), {"xl/worksheets/sheet1.xml": sheet})
    with open_book(p, reading) as book:
        for call in (lambda: book.read_cells("表", ["A1"]), lambda: book.merged_ranges("表")):
            with pytest.raises(Unreadable) as err:
                call()
            assert err.value.code == "F7" and "xl/worksheets/sheet1.xml" in err.value.detail


def test_external_entity_in_workbook(tmp_path, reading):
    wb = (b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
          + f'<workbook xmlns="{MAIN}"><sheets><sheet name="&x;" sheetId="1"/></sheets></workbook>'.encode())
    p = rewrite_zip(good_xlsx(tmp_path / "外部实体.xlsx"), {"xl/workbook.xml": wb})
    err = verdict(p, reading)
    assert err.code == "F7" and "xl/workbook.xml" in err.detail


def test_undeclared_entity_is_corrupt_not_expanded(tmp_path, reading):
    sheet = f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&x;</t></is></c></row></sheetData></worksheet>'.encode()
    p = rewrite_zip(good_xlsx(tmp_path / "未声明.xlsx"), {"xl/worksheets/sheet1.xml": sheet})
    err = verdict(p, reading)
    assert err.code == "F3" and "XML" in err.detail


# ------------------------------------------------------------------ macros


def test_xlsm_read_without_touching_the_macros(tmp_path, monkeypatch, reading):
    vba = tmp_path / "vbaProject.bin"
    vba.write_bytes(ole2({"VBA": b"Attribute VB_Name = \"Module1\"\r\nSub AutoOpen(): Shell \"calc\": End Sub"}))
    p = tmp_path / "宏.xlsm"
    wb = xlsxwriter.Workbook(str(p))
    wb.add_worksheet("表").write_number("B1", 12)
    wb.add_vba_project(str(vba))
    wb.close()
    assert "xl/vbaProject.bin" in zipfile.ZipFile(p).namelist()
    touched: list[str] = []
    real = ooxml._Zip._member  # every member read passes here before it is inflated
    monkeypatch.setattr(ooxml._Zip, "_member", lambda self, name: touched.append(name) or real(self, name))
    with open_book(p, reading) as book:
        assert book.kind == "xlsm"
        assert book.read_cells("表", ["B1"]) == {"B1": RawCell(12)}
        book.merged_ranges("表")
        book.custom_properties  # noqa: B018
    assert touched and not any("vba" in name for name in touched)


# ------------------------------------------------------------------ the batch goes on


def test_batch_gives_every_file_a_verdict_and_changes_none(tmp_path, reading):
    def put(data: bytes):
        return lambda p: (p.write_bytes(data), p)[1]

    corpus = {
        "good.xlsx": ("ok", good_xlsx),
        "empty.xlsx": ("F1", put(b"")),
        "cut.xlsx": ("F3", put(good_xlsx(tmp_path / "g1.xlsx").read_bytes()[:900])),
        "csv.xlsx": ("F2", put(b"a,b\n1,2\n")),
        "enc.xlsx": ("F4", put(ole2({"EncryptionInfo": b"", "EncryptedPackage": b""}))),
        "doc.xls": ("F5", put(ole2({"WordDocument": b""}))),
        "laughs.xlsx": ("F7", lambda p: rewrite_zip(good_xlsx(p), {"xl/sharedStrings.xml":
                                                       LAUGHS + b"]><sst><si><t>&lol9;</t></si></sst>"})),
        "good2.xlsx": ("ok", good_xlsx),
    }
    paths = {name: make(tmp_path / name) for name, (_, make) in corpus.items()}
    before = {name: sha256(p) for name, p in paths.items()}
    results = {name: read_everything(p, reading) for name, p in paths.items()}
    assert results == {name: expected for name, (expected, _) in corpus.items()}
    assert {name: sha256(p) for name, p in paths.items()} == before


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_bytes_always_get_a_verdict(tmp_path_factory, data, reading):
    """Flip, cut or splice bytes of a real return (stored, so the XML itself is hit):
    the result is a book or an Unreadable, never another exception."""
    base = tmp_path_factory.getbasetemp() / "fuzz"
    base.mkdir(exist_ok=True)
    seed = base / "seed.xlsx"
    if not seed.exists():
        good_xlsx(seed, zipfile.ZIP_STORED)
    raw = bytearray(seed.read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        op = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        at = data.draw(st.integers(0, len(raw) - 1))
        if op == "flip":
            raw[at] = data.draw(st.integers(0, 255))
        elif op == "cut":
            del raw[at:at + data.draw(st.integers(1, 64))]
        else:
            raw[at:at] = data.draw(st.sampled_from([b"<", b"&", b"<!DOCTYPE x>", b"\x00", b'"', b"<row>", b"\xff"]))
        if not raw:
            raw = bytearray(b"x")
    p = base / "mutant.xlsx"
    p.write_bytes(bytes(raw))
    assert read_everything(p, reading) in {"ok", "F1", "F2", "F3", "F4", "F5", "F6", "F7"}
