"""Issue 3: a return laid out like the national tables but built without our template
(one sheet, other offsets, half-width brackets, wrapped headers, label slips) is read
by its labels and checked like any other."""

from __future__ import annotations

import random

import openpyxl
from figures import consistent
from test_locate import write_foreign_layout

from toolkit.formats import spec
from toolkit.outputs import check

FMT = spec.get("gov-2021")


def foreign_return(path, values):
    cells = write_foreign_layout(path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Sheet1"]
    for key, ref in cells.items():
        ws[ref] = values[key]
    ws["H1"] = "单位名称：示例市自然资源局"
    ws["H2"] = "年度"
    ws["I2"] = "2024年"
    wb.save(path)
    return cells


def test_foreign_layout_checks_clean(tmp_path):
    values = consistent(FMT, random.Random(3))
    foreign_return(tmp_path / "自建表格.xlsx", values)
    (report,) = check.read_reports([tmp_path / "自建表格.xlsx"])
    assert report.read_by == "labels"
    assert report.format == "gov-2021"
    assert report.status == "pass", [f.message for f in report.findings]
    assert report.agency == "示例市自然资源局" and report.year == 2024
    assert report.figures == {k: values[k] for k in FMT.figures}


def test_foreign_layout_findings_name_the_cells_of_that_file(tmp_path):
    values = consistent(FMT, random.Random(4))
    values["p3.open.total"] += 2
    cells = foreign_return(tmp_path / "自建表格.xlsx", values)
    (report,) = check.read_reports([tmp_path / "自建表格.xlsx"])
    assert [(f.sheet, f.cell, f.rule) for f in report.findings] == [("Sheet1", cells["p3.open.total"], "R3")]
    assert cells["p3.open.total"] == "M46"  # not the template's J7
