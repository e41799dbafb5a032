"""Text forms: the layout of the reference report (text taken from a Word file) and
markdown tables.

Reference layout: a table cell is a line of its own starting with a tab; a line without
tab right after a cell line continues that cell (a line break inside the cell, as
"商业\\n企业"); a blank line ends a table row; any other line is a paragraph.
Markdown: ``| a | b |`` lines, the ``|---|`` separator dropped.
Both lose merged cells: blocks are ragged (document.py aligns them)."""

from __future__ import annotations

import re

from toolkit.reading.published.document import Block, Cell, Document

_MD_HEADING = re.compile(r"^#+\s*")
_MD_ROW = re.compile(r"^\s*\|(.*)\|\s*$")
_MD_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


def read_text(text: str, form: str = "text") -> Document:
    doc = Document(form)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    rows: list[list[Cell]] = []
    row: list[Cell] = []
    md: list[list[Cell]] = []

    def end_row():
        nonlocal row
        if row:
            rows.append(row)
            row = []

    def end_table():
        nonlocal rows
        end_row()
        if rows:
            doc.blocks.append(Block(rows, exact=False))
            rows = []

    def end_md():
        nonlocal md
        if md:
            rows.extend(md)
            md = []
            end_table()

    prev_cell = False
    for n, line in enumerate(lines, start=1):
        m = _MD_ROW.match(line)
        if m and "\t" not in line[:1]:
            end_table()
            if not _MD_RULE.match(line):
                md.append([Cell(_md_cell(t), {"line": n, "column": c})
                           for c, t in enumerate(_split_md(m.group(1)), start=1)])
            prev_cell = False
            continue
        end_md()
        if line.startswith("\t"):
            row.append(Cell(line[1:], {"line": n}))
            prev_cell = True
        elif not line.strip():
            end_row()
            prev_cell = False
        elif prev_cell and row:
            row[-1].text += "\n" + line
        else:
            end_table()
            doc.paragraph(_MD_HEADING.sub("", line.strip()) if form == "markdown" else line.strip(),
                          {"line": n})
            prev_cell = False
    end_md()
    end_table()
    return doc


def _split_md(inner: str) -> list[str]:
    return re.split(r"(?<!\\)\|", inner)


def _md_cell(text: str) -> str:
    text = re.sub(r"<br\s*/?>", "\n", text.replace("\\|", "|"))
    return text.strip(" ").replace("**", "")
