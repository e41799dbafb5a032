"""The template stamp is one contract (toolkit.formats.stamp): what the writer stamps, the
reader (through the Book) and mailing (through openpyxl) read back alike, from the
custom properties or, when those are gone, from the very hidden sheet."""

from __future__ import annotations

from openpyxl import load_workbook

from toolkit import __version__
from toolkit.formats import spec, stamp
from toolkit.mailing.sources import read_stamp as mail_stamp
from toolkit.reading.identity import read_stamp as reader_stamp
from toolkit.template.writer import write_template
from toolkit.workbook.book import open_book


def _reader(path):
    book = open_book(path)
    try:
        return reader_stamp(book)
    finally:
        book.close()


def test_written_and_read_alike_from_properties_or_sheet(tmp_path):
    fmt = spec.get("gov-2019")
    path = write_template(tmp_path / "模板.xlsx", fmt, agency="某某局", year=2020)
    want = stamp.make(fmt.id, fmt.fingerprint, __version__, "某某局", 2020)
    from_props = {k: want[k] for k in stamp.PROPERTY_KEYS}
    assert _reader(path) == from_props
    assert mail_stamp(path) == from_props

    wb = load_workbook(path)  # the properties gone (a tool that drops them): the sheet still says it
    assert [tuple(c.value for c in row) for row in wb[stamp.SHEET].iter_rows(max_col=2)] == [
        (k, v or None) for k, v in stamp.sheet_rows(want)]
    wb.custom_doc_props.props.clear()
    wb.save(tmp_path / "无属性.xlsx")
    assert _reader(tmp_path / "无属性.xlsx") == want
    assert mail_stamp(tmp_path / "无属性.xlsx") == want


def test_unstamped_workbook_has_no_stamp(tmp_path):
    path = write_template(tmp_path / "模板.xlsx", spec.get("gov-2021"))
    wb = load_workbook(path)
    del wb[stamp.SHEET]
    wb.custom_doc_props.props.clear()
    wb.save(path)
    assert _reader(path) == {} and mail_stamp(path) == {}
