"""The template in a real headless LibreOffice: it opens, prints to PDF, and survives a
re-save as .xlsx with its 200 names and its protection (what happens when an agency
fills it in LibreOffice or a WPS that behaves alike)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import soffice_convert, soffice_or_skip
from openpyxl import load_workbook

from toolkit.formats import spec
from toolkit.template import writer as template

pytestmark = pytest.mark.libreoffice

FMT = spec.get("gov-2021")


@pytest.fixture(scope="module")
def soffice() -> str:
    return soffice_or_skip()


@pytest.fixture(scope="module")
def profile(tmp_path_factory) -> Path:
    # A private user profile per run, so parallel runs (and a desktop LibreOffice) do not
    # fight over the same lock file.
    return tmp_path_factory.mktemp("lo-profile")


@pytest.fixture(scope="module")
def template_path(tmp_path_factory) -> Path:
    # An ASCII file name: what LibreOffice gets from a user's shell is not the point here.
    return template.write_template(tmp_path_factory.mktemp("src") / "template.xlsx", FMT,
                                   agency="樟树市人力资源和社会保障局", year=2023)


def test_converts_to_pdf_one_page_per_visible_sheet(soffice, profile, template_path, tmp_path):
    pdf = soffice_convert(template_path, "pdf", tmp_path / "pdf", profile)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    pages = data.count(b"/Type /Page") - data.count(b"/Type /Pages")
    if pages <= 0:  # other spacing of the same key
        pages = data.count(b"/Type/Page") - data.count(b"/Type/Pages")
    # 填报说明 and parts 二, 三, 四 each fit one A4 page wide; _meta is not printed.
    assert pages == 1 + len(FMT.parts)


def test_resaved_as_xlsx_keeps_names_and_protection(soffice, profile, template_path, tmp_path):
    resaved = soffice_convert(template_path, "xlsx:Calc MS Excel 2007 XML", tmp_path / "xlsx", profile)
    wb = load_workbook(resaved)
    names = {n: list(dn.destinations) for n, dn in wb.defined_names.items()}
    for fig in FMT.figures.values():
        col, row = fig.area.ref.rstrip("0123456789"), fig.area.min_row
        assert names.get(fig.name) == [(fig.sheet, f"${col}${row}")], fig.name
    assert sum(1 for n in names if n in {f.name for f in FMT.figures.values()}) == 200
    for part in (*FMT.parts,):
        ws = wb[part.sheet]
        assert ws.protection.sheet, part.sheet
        assert ws[part.title_area.ref].value == part.title
    assert wb[FMT.info.sheet].protection.sheet
    for fig in FMT.figures.values():
        assert wb[fig.sheet][fig.cell].protection.locked is False, fig.key
    p3 = FMT.part("p3")
    label = p3.tables[0].rows[0]
    assert wb[p3.sheet][label.area.ref].protection.locked is True
    # The stamp survives too (the reader relies on it).
    assert template.META_SHEET in wb.sheetnames
    assert wb[template.META_SHEET].sheet_state != "visible"
    stamp = {r[0].value: r[1].value for r in wb[template.META_SHEET].iter_rows(max_col=2)}
    assert stamp["fingerprint"] == FMT.fingerprint
