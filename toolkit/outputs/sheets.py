"""What every sheet of 汇总.xlsx shares: the styles, text written as text, rows tall
enough for their wrapped text, and a page setup that prints on A4 at a readable size.

Printed size: the sheets use a 10 pt font and column widths chosen so that a sheet's
width fits an A4 landscape page at 90 % or more (9 pt or more on paper); a sheet is never
shrunk further to fit: it continues on the next page with its header rows repeated."""

from __future__ import annotations

import math
import unicodedata
from functools import lru_cache

from toolkit.common.display import shown
from toolkit.formats import kinds

FONT_PT = 10
MIN_SCALE = 90  # percent: 10 pt prints at 9 pt or more
PRINTABLE_UNITS = 118  # column-width units that fit A4 landscape (margins 1.5 cm) at 100 %
LINE_PT = 13.5  # one line of 10 pt text, in points
STATUS_COLORS = {"pass": "#C6EFCE", "fail": "#FFC7CE", "unreadable": "#D9D9D9", "missing": "#FCE4D6"}


class Styles:
    def __init__(self, wb):
        border = {"border": 1, "border_color": "#999999"}
        self.title = wb.add_format({"bold": True, "font_size": 14, "valign": "vcenter"})
        self.note = wb.add_format({"italic": True, "font_color": "#595959", "text_wrap": True, "valign": "top"})
        self.header = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "text_wrap": True,
                                     "align": "center", "valign": "vcenter", **border})
        self.text = wb.add_format({"valign": "top", **border})
        self.wrap = wb.add_format({"valign": "top", "text_wrap": True, **border})
        self.int = wb.add_format({"valign": "top", "num_format": "0", **border})
        self.figure = {k.id: wb.add_format({"valign": "top", "num_format": k.number_format, **border})
                       for k in kinds.kinds().values()}
        self.link = wb.add_format({"valign": "top", "font_color": "#0563C1", "underline": 1,
                                   "text_wrap": True, **border})
        self.total = wb.add_format({"bold": True, "num_format": "0", "top": 2, **border})
        self.figure_total = {k.id: wb.add_format({"bold": True, "num_format": k.number_format, "top": 2,
                                                  **border}) for k in kinds.kinds().values()}
        self.total_text = wb.add_format({"bold": True, "top": 2, "text_wrap": True, "valign": "top", **border})
        self.status = {s: wb.add_format({"valign": "top", "bg_color": c, "text_wrap": True, **border})
                       for s, c in STATUS_COLORS.items()}


def put(ws, row: int, col: int, value, fmt=None) -> None:
    """Text as text, never a formula, number or link; no text, an empty cell."""
    text = "" if value is None else shown(value)[:32000]
    if text:
        ws.write_string(row, col, text, fmt)
    else:
        ws.write_blank(row, col, None, fmt)


def number(ws, row: int, col: int, value: float | int, fmt) -> None:
    """A figure as a number, or as its digits where a spreadsheet number (a double)
    would round it."""
    if isinstance(value, int) and float(value) != value:
        ws.write_string(row, col, str(value), fmt)
    else:
        ws.write_number(row, col, value, fmt)


@lru_cache(maxsize=8192)
def text_lines(text: str, width: float) -> int:
    """Lines ``text`` takes in a wrapped cell ``width`` units wide (a 中文 character is
    two units)."""
    usable = max(width - 1.0, 1.0)
    return sum(max(1, math.ceil(sum(2.0 if unicodedata.east_asian_width(c) in "WF" else 1.05 for c in line)
                                / usable)) for line in str(text).split("\n"))


def fit_row(ws, row: int, cells: list[tuple[object, float]], minimum: float = 18) -> None:
    """A row tall enough for every wrapped text in it: ``cells`` are (text, width)."""
    lines = max([text_lines(str(t), w) for t, w in cells if t] or [1])
    ws.set_row(row, max(minimum, LINE_PT * lines + 4))


def page(ws, header_row: int | None, *, header: str = "", landscape: bool = True) -> None:
    """A4, readable: fit to one page wide unless that would print under MIN_SCALE; the
    header rows repeat on every page; every page says what it is and its page number."""
    ws.set_paper(9)
    ws.set_landscape() if landscape else ws.set_portrait()
    ws.set_margins(left=0.6, right=0.6, top=0.8, bottom=0.7)
    if header_row is not None:
        ws.repeat_rows(0, header_row)
    ws.set_header(f"&L{escape(header)}&R&A", {"margin": 0.3})
    ws.set_footer("&C第 &P 页，共 &N 页", {"margin": 0.3})
    ws.fit_to_pages(1, 0)


def escape(text: str) -> str:
    """Text for an Excel page header: & starts a code there."""
    return str(text).replace("&", "&&")
