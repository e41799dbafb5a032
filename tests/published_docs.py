"""Test helpers: make published reports, in every form, from the format data and figures.

Each part's table is laid out as the format draws it (heads, labels, figures with their
merged areas, the template's own layout, which is the national table's); a report is a
title line, each part's title, then its table, as agencies publish them."""

from __future__ import annotations

import html as htmlmod
from dataclasses import dataclass
from pathlib import Path

from toolkit.formats import spec


@dataclass
class Box:
    text: str
    row: int
    col: int
    rows: int = 1
    cols: int = 1
    figure: bool = False


def show(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def part_boxes(fmt: spec.Format, part: spec.Part, values: dict) -> list[Box]:
    """Every cell of a part's table below its title, with its span (rows from 1)."""
    boxes: list[Box] = []

    def add(text, area: spec.Area, figure=False):
        boxes.append(Box(text, area.min_row, area.min_col, area.max_row - area.min_row + 1,
                         area.max_col - area.min_col + 1, figure))

    for head in part.heads:
        for area in head.areas:
            add(head.text, area)
    for table in part.tables:
        for lab in (*table.rows, *table.columns):
            if lab.text:
                add(lab.text, lab.area)
    for f in fmt.part_figures(part.key):
        add(show(values.get(f.key)), f.area, True)
    top = min(b.row for b in boxes)
    for b in boxes:
        b.row -= top - 1
    unique = {(b.row, b.col): b for b in boxes}
    return sorted(unique.values(), key=lambda b: (b.row, b.col))


def grid_rows(boxes: list[Box]) -> list[list[Box]]:
    n = max(b.row + b.rows - 1 for b in boxes)
    return [[b for b in boxes if b.row == r] for r in range(1, n + 1)]


def ragged_rows(boxes: list[Box]) -> list[list[str]]:
    """As Word's text export lists a table: a cell once, a cell merged down from the row
    above as an empty cell."""
    width = max(b.col + b.cols - 1 for b in boxes)
    out = []
    for r, row in enumerate(grid_rows(boxes), start=1):
        cells, c = [], 1
        starts = {b.col: b for b in row}
        while c <= width:
            if c in starts:
                cells.append(starts[c].text)
                c += starts[c].cols
                continue
            above = next((b for b in boxes if b.row < r <= b.row + b.rows - 1 and b.col == c), None)
            if above is not None:
                cells.append("")
                c += above.cols
            else:
                c += 1
        out.append(cells)
    return out


def title(agency: str, year: int) -> str:
    return f"{agency}{year}年政府信息公开工作年度报告"


def as_text(fmt, values, agency="某某县某某局", year=2023, *, narrative: str = "", edit=None) -> str:
    """The reference report's layout: a cell a line after a tab, rows apart.
    ``edit(part_key, rows) -> rows`` changes a table's rows as a report might."""
    lines = [title(agency, year), "", "一、总体情况", narrative or "本年度工作有序开展。", ""]
    for part in fmt.parts:
        lines.append(part.title)
        rows = ragged_rows(part_boxes(fmt, part, values))
        for cells in (edit(part.key, rows) if edit else rows):
            lines.extend("\t" + c for c in cells)
            lines.append("")
        lines.append("")
    return "\n".join(lines) + "\n"


def as_markdown(fmt, values, agency="某某县某某局", year=2023) -> str:
    lines = [f"# {title(agency, year)}", ""]
    for part in fmt.parts:
        lines += [f"## {part.title}", ""]
        rows = ragged_rows(part_boxes(fmt, part, values))
        width = max(len(r) for r in rows)
        for i, cells in enumerate(rows):
            lines.append("| " + " | ".join(c.replace("\n", "<br>") for c in cells) + " |")
            if i == 0:
                lines.append("|" + "---|" * width)
        lines.append("")
    return "\n".join(lines)


def as_html(fmt, values, agency="某某县某某局", year=2023, *, encoding="gbk", nbsp_blank=True) -> bytes:
    """A web page as Word saves one: rowspan/colspan, &nbsp; for blank cells, <o:p>."""
    out = [f'<html xmlns:o="urn:schemas-microsoft-com:office:office"><head>'
           f'<meta http-equiv="Content-Type" content="text/html; charset={encoding}">'
           f"<title>{title(agency, year)}</title></head><body>",
           f"<p class=MsoNormal>{title(agency, year)}<o:p></o:p></p>"]
    for part in fmt.parts:
        out.append(f"<p>{htmlmod.escape(part.title)}<o:p></o:p></p><table border=1>")
        for row in grid_rows(part_boxes(fmt, part, values)):
            out.append("<tr>")
            for b in row:
                span = (f' rowspan="{b.rows}"' if b.rows > 1 else "") + (f' colspan="{b.cols}"' if b.cols > 1 else "")
                text = htmlmod.escape(b.text) if b.text.strip() else ("&nbsp;" if nbsp_blank else "")
                out.append(f"<td{span}><p class=MsoNormal><span>{text}</span><o:p></o:p></p></td>")
            out.append("</tr>")
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out).encode(encoding, "xmlcharrefreplace")


def as_docx(fmt, values, dest: Path, agency="某某县某某局", year=2023, *, repeat_header=False,
            borders=True) -> Path:
    """A Word file with the national tables, merged cells merged (gridSpan, vMerge),
    columns as wide as the format draws them, rows kept whole on a page (a long table
    breaks between rows; ``repeat_header``: its first rows repeat on each page)."""
    import docx
    from docx.oxml import OxmlElement
    from docx.shared import Cm
    from openpyxl.utils import column_index_from_string

    document = docx.Document()
    section = document.sections[0]
    section.left_margin = section.right_margin = Cm(1.5)
    document.add_paragraph(title(agency, year))
    for part in fmt.parts:
        document.add_paragraph(part.title)
        boxes = part_boxes(fmt, part, values)
        n_rows = max(b.row + b.rows - 1 for b in boxes)
        n_cols = max(b.col + b.cols - 1 for b in boxes)
        table = document.add_table(rows=n_rows, cols=n_cols)
        if borders:
            table.style = "Table Grid"
        table.autofit = False
        widths = {column_index_from_string(k): w for k, w in part.widths.items()}
        scale = 18.0 / sum(widths.get(c, 8) for c in range(1, n_cols + 1))
        for c in range(1, n_cols + 1):
            table.columns[c - 1].width = Cm(widths.get(c, 8) * scale)  # the grid LibreOffice lays out by
            for cell in table.columns[c - 1].cells:
                cell.width = Cm(widths.get(c, 8) * scale)
        heads = min(b.row for b in boxes if b.figure) - 1  # rows above the first figure
        for i, row in enumerate(table.rows):
            pr = row._tr.get_or_add_trPr()
            pr.append(OxmlElement("w:cantSplit"))
            if repeat_header and i < heads:
                pr.append(OxmlElement("w:tblHeader"))
        for b in boxes:
            cell = table.cell(b.row - 1, b.col - 1)
            if b.rows > 1 or b.cols > 1:
                cell = cell.merge(table.cell(b.row + b.rows - 2, b.col + b.cols - 2))
            cell.text = b.text
    document.save(dest)
    return dest


def to_pdf(src: Path, outdir: Path) -> Path:
    """A real headless LibreOffice renders the document to PDF (a private profile)."""
    import shutil
    import subprocess

    soffice = shutil.which("soffice")
    if soffice is None:
        import os

        import pytest

        if os.environ.get("CI"):
            pytest.fail("CI 环境中找不到 LibreOffice（soffice）")
        pytest.skip("soffice not installed")
    outdir.mkdir(parents=True, exist_ok=True)
    subprocess.run([soffice, f"-env:UserInstallation=file://{outdir / 'lo-profile'}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(outdir), str(src)],
                   check=True, capture_output=True, timeout=180)
    return outdir / (src.stem + ".pdf")
