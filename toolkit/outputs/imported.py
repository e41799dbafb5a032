"""A published report's figures written into the national-format workbook of its
format (`disclosure import`, and OUTDIR/imported/ of a check): the template as
`disclosure template` makes it, agency and year filled, every figure as published (a
number as a number; "251000元", "无" or a blank kept as they were, so a check of the
workbook flags them as it flagged the report), stamped with the file it came from
(custom property disclosure.imported_from).  The office can annotate it, aggregate it
or send it back for the agency to correct."""

from __future__ import annotations

import os
from pathlib import Path

from toolkit.common import ownership
from toolkit.common.layout import IMPORTED_DIR, IMPORTED_STAMP, imported_name
from toolkit.formats import spec
from toolkit.formats.findings import FileReport
from toolkit.formats.stamp import PROPERTY_PREFIX
from toolkit.template.writer import write_template


class NotImported(Exception):
    """中文: why no workbook was written."""


def write_imported(report: FileReport, dest: str | os.PathLike) -> Path:
    """The imported workbook of a read published report, written atomically to ``dest``."""
    if report.unreadable or not report.format:
        raise NotImported(f"{Path(report.path).name}：未能读出年报中的表格，无法导入")
    fmt = spec.get(report.format)
    year = report.year if report.year is not None and fmt.covers(report.year) else None
    values = {k: _cell(v) for k, v in report.typed.items() if k in fmt.figures}
    return write_template(dest, fmt, agency=report.agency, year=year, values=values,
                          extra_properties={IMPORTED_STAMP: Path(report.path).name})


def _cell(value):
    """Numbers stay numbers (int when whole); anything else is written as typed."""
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    return value


def import_all(reports: list[FileReport], outdir: str | os.PathLike) -> dict[str, Path]:
    """OUTDIR/imported/<name>_<form>.xlsx for every readable published report; sets
    ``report.imported`` (relative to OUTDIR).  Returns report path -> workbook."""
    folder = Path(outdir) / IMPORTED_DIR
    made: dict[str, Path] = {}
    taken: set[str] = set()
    for report in reports:
        if report.form is None or report.unreadable or not report.format:
            continue
        from toolkit.common.filenames import unique_name

        name = unique_name(imported_name(Path(report.path).name), taken)
        ownership.make_dirs(folder)
        made[report.path] = write_imported(report, folder / name)
        report.imported = f"{IMPORTED_DIR}/{name}"
    if folder.is_dir():  # workbooks of an earlier run not made now (only ours: stamped)
        keep = {p.name for p in made.values()}
        for old in folder.glob("*.xlsx"):
            if old.name not in keep and is_imported(old):
                ownership.remove(old)  # and only unchanged since we wrote it
    return made


def is_imported(path: Path) -> bool:
    """A workbook this module wrote (its stamp says where it was imported from)."""
    try:
        from toolkit.workbook.book import open_book

        with open_book(path) as book:
            return bool(book.custom_properties.get(PROPERTY_PREFIX + IMPORTED_STAMP))
    except Exception:  # noqa: BLE001 - anything unreadable is not ours
        return False
