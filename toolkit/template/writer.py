"""The template agencies fill: a Format (toolkit.formats.spec) rendered with xlsxwriter.

Every text and every place comes from the spec; the wording that is ours (填报说明,
validation prompts) from workbook_templates/instructions.yaml.  A locked template lets an
agency type only into the figure cells and the agency block; each figure cell has
in-cell validation by kind, a workbook-scoped defined name, and the format's equations
as conditional formatting (a disagreeing 总计 turns red while typing).  The template is
stamped (very hidden sheet ``_meta`` and custom document properties) so the reader can
tell our template, its version and tampering apart.

Sheet and workbook protection use Excel's legacy password hash: a guard against accidents,
not security.
"""

from __future__ import annotations

import io
import math
import numbers
import unicodedata
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import xlsxwriter

from toolkit import __version__
from toolkit.common import atomic, ownership
from toolkit.common.a1 import col_letter
from toolkit.formats import kinds, spec, stamp
from toolkit.formats.instructions import instructions
from toolkit.formats.instructions import lines as instruction_lines
from toolkit.template.formulas import absolute_ref, join_areas, live_checks
from toolkit.template.printing import page_header
from toolkit.template.protection import lock_structure

GENERATOR = stamp.GENERATOR
META_SHEET = stamp.SHEET
# Told to supervising offices in the README; it only stops accidental edits.
DEFAULT_PASSWORD = "gongkai"

FONT = {"font_name": "宋体", "font_size": 11}
LINE_PT = 14.5  # height of one line of 宋体 11 pt, in points
MIN_ROW_PT = 18.0
WIDE_CHAR = 2.0  # a CJK character is about two column-width units
RED = {"bg_color": "#FFC7CE", "font_color": "#9C0006"}
TO_FILL = {"bg_color": "#FFF2CC"}  # a figure cell not filled yet
PROTECT_OPTIONS = {"format_columns": True, "format_rows": True}  # widening a column is harmless


class TemplateError(ValueError):
    """Arguments that cannot make a template; the message is 中文."""


# ---------------------------------------------------------------------------- public API


def write_template(
    path: str | Path,
    fmt: spec.Format | None = None,
    *,
    agency: str | None = None,
    year: int | None = None,
    locked: bool = True,
    values: Mapping[str, object] | None = None,
    info: Mapping[str, object] | None = None,
    password: str = DEFAULT_PASSWORD,
    extra_properties: Mapping[str, str] | None = None,
) -> Path:
    """Write the template for ``fmt`` (the format for ``year``, else the newest) to
    ``path``, atomically.  ``agency`` and ``year``, when given, are filled in and locked;
    ``info`` pre-fills other agency-block fields by key (left editable); ``values``
    (figure key -> number) pre-fills figures.  ``locked=False`` leaves every sheet and
    the workbook unprotected but keeps the layout (used by the regional roll-up).
    ``extra_properties`` adds custom properties (``disclosure.<key>``), e.g. where an imported
    workbook's figures came from."""
    if fmt is None:
        fmt = spec.for_year(year) if year is not None else spec.get()
    data = render(fmt, agency=agency, year=year, locked=locked, values=values, info=info,
                  password=password, extra_properties=extra_properties)
    path = Path(path)
    atomic.write_bytes(path, data, kind=ownership.TEMPLATE)
    return path


def render(
    fmt: spec.Format,
    *,
    agency: str | None = None,
    year: int | None = None,
    locked: bool = True,
    values: Mapping[str, object] | None = None,
    info: Mapping[str, object] | None = None,
    password: str = DEFAULT_PASSWORD,
    extra_properties: Mapping[str, str] | None = None,
    instructions: bool = True,
) -> bytes:
    """The template as .xlsx bytes (see write_template).  ``instructions=False`` leaves
    the 填报说明 text out (a roll-up is nobody's return to fill in)."""
    agency = (agency.strip() or None) if isinstance(agency, str) else agency
    if year is not None and not fmt.covers(int(year)):
        raise TemplateError(f"{fmt.document}格式不适用于 {year} 年度（适用于 {fmt.years[0]} 年及以后）"
                            if fmt.years[1] >= 2099 else
                            f"{fmt.document}格式不适用于 {year} 年度（适用于 {fmt.years[0]}–{fmt.years[1]} 年）")
    if values:
        unknown = sorted(set(values) - set(fmt.figures))
        if unknown:
            raise TemplateError(f"格式 {fmt.id} 中没有这些数字格：{'、'.join(unknown)}")
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {
        "in_memory": True,
        "strings_to_numbers": False,
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "default_format_properties": dict(FONT),
    })
    r = _Renderer(wb, fmt, locked=locked, password=password, header=page_header(agency, year))
    r.info_sheet(agency, year, info or {}, instructions=instructions)
    for part in fmt.parts:
        r.part_sheet(part, values or {})
    r.meta_sheet(agency, year)
    r.names()
    r.properties(agency, year)
    for key, value in (extra_properties or {}).items():
        wb.set_custom_property(stamp.PROPERTY_PREFIX + key, str(value), "text")
    wb.close()
    data = buf.getvalue()
    return lock_structure(data, password) if locked else data


# ---------------------------------------------------------------------------- rendering


def _text_width(text: str) -> float:
    return sum(WIDE_CHAR if unicodedata.east_asian_width(ch) in "WF" else 1.1 for ch in text)


def _lines(text: str, width: float) -> int:
    usable = max(width - 1.0, 1.0)
    return sum(max(1, math.ceil(_text_width(line) / usable)) for line in text.split("\n"))


class _Renderer:
    def __init__(self, wb: xlsxwriter.Workbook, fmt: spec.Format, *, locked: bool, password: str,
                 header: str = ""):
        self.wb, self.fmt, self.locked, self.password = wb, fmt, locked, password
        self.header = header
        self.text = instructions()
        cell = {"border": 1, "text_wrap": True, "valign": "vcenter"}
        add = wb.add_format
        self.f_title = add({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter",
                            "text_wrap": True})
        self.f_head = add({**cell, "align": "center"})
        self.f_row = add({**cell, "align": "left"})
        self.f_figure = add({**cell, "align": "center", "locked": False})
        self.f_info_label = add({**cell, "align": "center", "bold": True})
        self.f_info_value = add({**cell, "align": "left", "locked": False})
        self.f_info_fixed = add({**cell, "align": "left", "bg_color": "#F2F2F2"})
        self.f_heading = add({"bold": True, "font_size": 12, "valign": "vcenter"})
        self.f_line = add({"text_wrap": True, "valign": "top", "align": "left"})
        self.f_sign = add({"valign": "bottom", "align": "left"})
        self.f_red = add(RED)
        self.f_to_fill = add(TO_FILL)

    # -- helpers ---------------------------------------------------------------

    def _sheet(self, name: str, widths: Mapping[str, float], orientation: str):
        ws = self.wb.add_worksheet(name)
        for letter, width in widths.items():
            ws.set_column(f"{letter}:{letter}", width)
        ws.hide_gridlines(2)
        ws.set_paper(9)  # A4
        ws.set_landscape() if orientation == "landscape" else ws.set_portrait()
        # One page per sheet: the widths and fonts of the format data are chosen so that
        # this prints at 9 pt or more on A4 (tests/template/test_print.py measures the PDF).
        ws.fit_to_pages(1, 1)
        ws.center_horizontally()
        ws.set_margins(left=0.4, right=0.4, top=0.55, bottom=0.45)
        ws.set_header(self.header, {"margin": 0.25})
        ws.set_footer("&C第 &P 页，共 &N 页", {"margin": 0.2})
        if self.locked:
            ws.protect(self.password, PROTECT_OPTIONS)
        return ws

    @staticmethod
    def _width(widths: Mapping[str, float], area: spec.Area) -> float:
        return sum(widths.get(col_letter(c), 8.43) for c in range(area.min_col, area.max_col + 1))

    def _place(self, ws, area: spec.Area, value, fmt, heights: dict[int, float] | None = None,
               widths: Mapping[str, float] | None = None) -> None:
        """Write ``value`` over ``area`` (merged when it spans cells) and record the row
        height its wrapped text needs."""
        r1, c1, r2, c2 = area.min_row - 1, area.min_col - 1, area.max_row - 1, area.max_col - 1
        if area.is_merged:
            ws.merge_range(r1, c1, r2, c2, "", fmt)
        if value is None or value == "":
            if not area.is_merged:
                ws.write_blank(r1, c1, None, fmt)
        elif isinstance(value, str):
            ws.write_string(r1, c1, value, fmt)
        else:
            ws.write_number(r1, c1, value, fmt)
        if heights is not None and widths is not None and isinstance(value, str) and value:
            rows = area.max_row - area.min_row + 1
            need = (_lines(value, self._width(widths, area)) * LINE_PT + 3) / rows
            for row in range(area.min_row, area.max_row + 1):
                heights[row] = max(heights.get(row, MIN_ROW_PT), need)

    @staticmethod
    def _set_heights(ws, heights: dict[int, float]) -> None:
        for row, height in heights.items():
            ws.set_row(row - 1, height)

    def _validation(self, kind: str) -> dict:
        words = self.text["validation"][kind]
        return {"input_title": words["input_title"], "input_message": words["input_message"],
                "error_title": words["error_title"], "error_message": words["error_message"],
                "error_type": "stop", "ignore_blank": True}

    # -- the 填报说明 sheet with the agency block -------------------------------

    def info_sheet(self, agency: str | None, year: int | None, prefill: Mapping[str, object],
                   *, instructions: bool = True) -> None:
        info, text = self.fmt.info, self.text
        widths = text["widths"]
        ws = self._sheet(info.sheet, widths, "portrait")
        heights: dict[int, float] = {}
        self._place(ws, info.title_area, info.title, self.f_title)
        heights[info.title_area.min_row] = 36
        given = {"agency": agency, "year": year}
        for field in info.fields:
            self._place(ws, field.label_area, field.text, self.f_info_label, heights, widths)
            fixed = given.get(field.key)
            value = fixed if fixed is not None else prefill.get(field.key)
            self._place(ws, field.area, value, self.f_info_fixed if fixed is not None else self.f_info_value,
                        heights, widths)
            if field.kind == "year" and fixed is None:
                lo, hi = self.fmt.years
                ws.data_validation(field.area.min_row - 1, field.area.min_col - 1, field.area.max_row - 1,
                                   field.area.max_col - 1,
                                   {"validate": "integer", "criteria": "between", "minimum": lo,
                                    "maximum": hi, **self._validation("year")})
        # The 填报说明 text, below the block, across its width.
        last_col = max(info.title_area.max_col, *(f.area.max_col for f in info.fields))
        row = max(f.area.max_row for f in info.fields) + 2
        if not instructions:
            self._set_heights(ws, heights)
            ws.print_area(0, 0, row - 3, last_col - 1)
            return
        self._place(ws, spec.Area(1, row, last_col, row), text["heading"], self.f_heading)
        for line in instruction_lines(self.fmt, year):
            row += 1
            self._place(ws, spec.Area(1, row, last_col, row), line, self.f_line, heights, widths)
        self._set_heights(ws, heights)
        ws.print_area(0, 0, row - 1, last_col - 1)
        ws.activate()

    # -- one sheet per part ----------------------------------------------------

    def part_sheet(self, part: spec.Part, values: Mapping[str, object]) -> None:
        ws = self._sheet(part.sheet, part.widths, part.orientation)
        w, heights = part.widths, {}
        self._place(ws, part.title_area, part.title, self.f_title)
        heights[part.title_area.min_row] = 30
        for head in part.heads:
            for area in head.areas:
                self._place(ws, area, head.text, self.f_head, heights, w)
        figures = self.fmt.part_figures(part.key)
        figure_cells = {(f.area.min_row, f.area.min_col) for f in figures}
        for table in part.tables:
            for label in table.columns:
                self._place(ws, label.area, label.text, self.f_head, heights, w)
            for label in table.rows:
                # A row without text (part 四) must not overwrite the figure drawn there.
                if label.text and (label.area.min_row, label.area.min_col) not in figure_cells:
                    self._place(ws, label.area, label.text, self.f_row, heights, w)
        for fig in figures:
            value = values.get(fig.key)
            if isinstance(value, Decimal):
                value = float(value)
            elif isinstance(value, numbers.Number) and not isinstance(value, bool):
                value = value if isinstance(value, int) else float(value)
                if isinstance(value, int) and float(value) != value:
                    value = str(value)  # a double would round it; its digits read back exactly
            elif value is not None and not isinstance(value, str):
                value = str(value)
            self._place(ws, fig.area, value, self.f_figure)
        self._set_heights(ws, heights)
        self._validations(ws, figures)
        self._live_checks(ws, part, figures)
        # Frozen headers and print titles: the rows above the figures when the part is one
        # table; just the title when it stacks several tables (part 二).
        top = min(f.area.min_row for f in figures)
        left = min(f.area.min_col for f in figures)
        header_rows = top - 1 if len(part.tables) == 1 else part.title_area.max_row
        freeze_cols = left - 1 if len(part.tables) == 1 else 0
        ws.freeze_panes(header_rows, freeze_cols)
        ws.repeat_rows(0, header_rows - 1)
        last_row = max(f.area.max_row for f in figures)
        last_col = max(part.last_col, *(f.area.max_col for f in figures))
        if part is self.fmt.parts[-1]:  # the signatures offices ask for, on the last page
            last_row += 2
            self._place(ws, spec.Area(1, last_row, last_col, last_row), self.text["signature"], self.f_sign)
            ws.set_row(last_row - 1, 30)
        ws.print_area(0, 0, last_row - 1, last_col - 1)

    def _validations(self, ws, figures: list[spec.Figure]) -> None:
        by_kind: dict[str, list[spec.Figure]] = {}
        for fig in figures:
            by_kind.setdefault(fig.kind, []).append(fig)
        for kind_id, figs in by_kind.items():
            options, kind = self._validation(kind_id), kinds.kind(kind_id)
            if not kind.whole:
                # Custom formulas are relative to their range: one validation per cell.
                for fig in figs:
                    a, ref = fig.area, fig.cell
                    sign = "" if kind.signed else f",{ref}>=0"
                    ws.data_validation(a.min_row - 1, a.min_col - 1, a.max_row - 1, a.max_col - 1, {
                        **options, "validate": "custom",
                        "value": f"=AND(ISNUMBER({ref}){sign},ROUND({ref},{kind.places})={ref})"})
                continue
            if kind.signed:
                options.update(validate="integer", criteria="between", minimum=-(2**31 - 1), maximum=2**31 - 1)
            else:
                options.update(validate="integer", criteria=">=", value=0)
            first = figs[0].area
            options["multi_range"] = " ".join(a.range for a in join_areas([f.area for f in figs]))
            ws.data_validation(first.min_row - 1, first.min_col - 1, first.max_row - 1, first.max_col - 1,
                               options)

    def _live_checks(self, ws, part: spec.Part, figures: list[spec.Figure]) -> None:
        """The format's equations as conditional formatting: the anchor turns red when its
        equation fails.  Equations that need last year's figures cannot be checked here."""
        for areas, formula in live_checks(self.fmt, part.key):
            a = areas[0]
            ws.conditional_format(a.min_row - 1, a.min_col - 1, a.max_row - 1, a.max_col - 1, {
                "type": "formula", "criteria": "=" + formula, "format": self.f_red,
                "multi_range": " ".join(x.range for x in join_areas(areas))})
        # Pale yellow until filled (after the red rules, which win).
        first = figures[0].area
        ws.conditional_format(first.min_row - 1, first.min_col - 1, first.max_row - 1, first.max_col - 1, {
            "type": "blanks", "format": self.f_to_fill,
            "multi_range": " ".join(a.range for a in join_areas([f.area for f in figures]))})

    # -- stamp, names, properties ----------------------------------------------

    def meta_sheet(self, agency: str | None, year: int | None) -> None:
        ws = self.wb.add_worksheet(stamp.SHEET)
        for i, (key, value) in enumerate(stamp.sheet_rows(self._stamp(agency, year))):
            ws.write_string(i, 0, key)
            if value:
                ws.write_string(i, 1, value)
        ws.very_hidden()
        if self.locked:
            ws.protect(self.password)

    def _stamp(self, agency: str | None, year: int | None) -> dict[str, str]:
        return stamp.make(self.fmt.id, self.fmt.fingerprint, __version__, agency, year)

    def names(self) -> None:
        for fig in self.fmt.figures.values():
            self.wb.define_name(fig.name, "=" + absolute_ref(fig.sheet, fig.area, whole=False))
        for field in self.fmt.info.fields:
            self.wb.define_name(field.name, "=" + absolute_ref(self.fmt.info.sheet, field.area, whole=False))

    def properties(self, agency: str | None, year: int | None) -> None:
        values = self._stamp(agency, year)
        self.wb.set_properties({
            "title": f"{self.fmt.title}报表",
            "subject": self.fmt.document,
            "author": GENERATOR,
            "company": agency or "",
            "comments": f"由 {GENERATOR} {__version__} 生成；格式 {self.fmt.id}",
        })
        for name, value in stamp.properties(values).items():
            self.wb.set_custom_property(name, value, "text")
