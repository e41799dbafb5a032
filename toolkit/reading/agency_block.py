"""The agency block of a return (单位名称, 年度, …): by its defined names, else by its
labels; checked against the template stamp (S3)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from toolkit.formats import spec
from toolkit.formats.findings import Finding
from toolkit.reading import locate
from toolkit.workbook.model import Book

_YEAR = re.compile(r"(19|20)\d\d")


def typed(book: Book, fmt: spec.Format, grids: Callable[[], Mapping[str, "locate.Grid"]]) -> dict[str, object]:
    """What was typed in each field (key -> raw value): by the fields' defined names, or
    by their labels when the workbook has none of them (``grids`` is called only then)."""
    places = {}
    for f in fmt.info.fields:
        target = book.defined_names.get(f.name.lower())
        if target:
            places[f.key] = (target[0], target[1].split(":")[0])
    if not places:
        return by_labels(grids(), fmt)
    sheets = {s.name for s in book.sheets}
    by_sheet: dict[str, list[str]] = {}
    for sheet, ref in places.values():
        by_sheet.setdefault(sheet, []).append(ref)
    cells = {sheet: book.read_cells(sheet, refs) for sheet, refs in by_sheet.items() if sheet in sheets}
    out: dict[str, object] = {}
    for key, (sheet, ref) in places.items():
        cell = cells.get(sheet, {}).get(ref)
        out[key] = cell.value if cell is not None else None
    return out


def agency_and_year(fields: Mapping[str, object], meta: Mapping[str, object], fmt: spec.Format
                    ) -> tuple[str | None, int | None, list[Finding]]:
    """Agency and year (as typed, else as stamped) and the S3 findings on them."""
    agency = text(fields.get("agency"))
    year = parse_year(fields.get("year"))
    stamped_agency, stamped_year = text(meta.get("agency")), parse_year(meta.get("year"))
    label = fmt.info.field
    said = []
    for key, typed_value, stamped in (("agency", agency, stamped_agency), ("year", year, stamped_year)):
        name = label(key).text
        if typed_value is None and stamped is None:
            said.append(f"未填写{name}")
        elif typed_value is None:  # cleared: the stamp still says who and when
            said.append(f"{name}一格是空的，已按模板下发时的“{stamped}”认定，请补填")
        elif stamped is not None and typed_value != stamped and (key != "year" or fmt.covers(typed_value)):
            # (a year of another format is F9's to say)
            said.append(f"{name}填为“{typed_value}”，与模板下发时的“{stamped}”不一致，请核实")
    findings = [Finding.of("S3", sheet=fmt.info.sheet, detail=d) for d in said]
    return agency or stamped_agency, year or stamped_year, findings


def by_labels(grids: Mapping[str, "locate.Grid"], fmt: spec.Format) -> dict[str, object]:
    """Agency block without names: the first non-empty cell right of a field's label,
    or the text after the label in the same cell (“单位名称：某某局”)."""
    wanted = {locate.normalize_label(f.text): f.key for f in fmt.info.fields}
    found: dict[str, object] = {}
    for grid in grids.values():
        for (row, col), cell_text in sorted(grid.texts.items()):
            norm = locate.normalize_label(cell_text)
            for label, key in wanted.items():
                if key in found or not norm.startswith(label):
                    continue
                rest = norm[len(label):].lstrip(":：")
                if rest:
                    found[key] = rest
                    continue
                right = [grid.texts[(row, c)] for c in range(col + 1, col + 8) if (row, c) in grid.texts]
                if right:
                    found[key] = right[0]
    return found


def text(value) -> str | None:
    if value is None:
        return None
    out = str(value).strip().strip("\u3000\u00a0")
    return out or None


def parse_year(value) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value) if 1990 < value < 2200 and float(value).is_integer() else None
    m = _YEAR.search(str(value))
    return int(m.group(0)) if m else None
