"""A published report as blocks (paragraphs and tables) of cells, and the grid that the
label path (toolkit.reading.locate) reads.

Forms that keep merged cells (Word, web pages, PDF ruling lines) give every cell its
spans and are laid out exactly, as a browser lays out a table.  Text forms lose the
spans (a cell spanning five columns is one line, as in the reference report): their
rows are *ragged*, and are aligned by two facts of the national tables:
1. figures are at the right end of a row, so rows are right-aligned to the table width;
2. a group head spans the columns of the labels under it (the format data says which:
   ``head_spans``), and a row holding one cell only is a title across the table.
A label a web page broke over cells ("社会公益" | "组织") is joined first (``_joined``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from toolkit.formats import spec
from toolkit.reading.locate import Grid, normalize_label
from toolkit.reading.values import classify_text

SHEET = "文档"  # the grid's one sheet name, for locate


@dataclass
class Cell:
    text: str
    where: dict  # {"page", "table", "row", "column"} or {"line"}: 1-based, for findings
    colspan: int = 1
    rowspan: int = 1


@dataclass
class Block:
    rows: list[list[Cell]]
    table: bool = True  # False: one paragraph, one row of one cell
    exact: bool = True  # False: spans unknown (text forms), rows are aligned


@dataclass
class Document:
    form: str  # pdf / docx / doc / html / mht / text / markdown
    blocks: list[Block] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the reader did, 中文

    def paragraph(self, text: str, where: dict) -> None:
        self.blocks.append(Block([[Cell(text, where)]], table=False))

    @property
    def tables(self) -> list[Block]:
        return [b for b in self.blocks if b.table]

    def lines(self) -> list[tuple[str, dict]]:
        """Every paragraph's text (title, narrative), in order."""
        return [(b.rows[0][0].text, b.rows[0][0].where) for b in self.blocks if not b.table]


@dataclass
class DocGrid:
    grid: Grid
    where: dict[tuple[int, int], dict]  # (row, col) -> the cell's place in the document
    width: dict[int, int]  # row -> width of the table holding it (0: a paragraph)
    ragged: set[int] = field(default_factory=set)  # rows of tables whose columns were aligned


def to_grid(doc: Document) -> DocGrid:
    """All blocks stacked top to bottom, one blank row between tables."""
    texts: dict[tuple[int, int], str] = {}
    merged: list[tuple[int, int, int, int]] = []
    where: dict[tuple[int, int], dict] = {}
    width: dict[int, int] = {}
    ragged: set[int] = set()
    row = 1
    for block in doc.blocks:
        if not block.table:
            placed = {(1, 1): block.rows[0][0]}
        else:
            placed = _exact(block.rows) if block.exact else _aligned(block.rows)
        w = max((c + cell.colspan - 1 for (_r, c), cell in placed.items()), default=1)
        for (r, c), cell in placed.items():
            at = (row + r - 1, c)
            if cell.text.strip():
                texts[at] = cell.text
            where[at] = cell.where
            if cell.colspan > 1 or cell.rowspan > 1:
                merged.append((c, at[0], c + cell.colspan - 1, at[0] + cell.rowspan - 1))
        n = len(block.rows)
        for r in range(row, row + n):
            width[r] = w if block.table else 0
        if block.table and not block.exact:
            ragged.update(range(row, row + n))
        row += n + (1 if block.table else 0)
    return DocGrid(Grid(texts, merged), where, width, ragged)


def _exact(rows: list[list[Cell]]) -> dict[tuple[int, int], Cell]:
    """Cells with spans placed as a browser does: each at the next column not covered
    by a cell from a row above."""
    placed: dict[tuple[int, int], Cell] = {}
    covered: set[tuple[int, int]] = set()
    for r, cells in enumerate(rows, start=1):
        c = 1
        for cell in cells:
            while (r, c) in covered:
                c += 1
            placed[(r, c)] = cell
            cell.where.setdefault("column", c)
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    covered.add((r + dr, c + dc))
            c += cell.colspan
    return placed


def _aligned(rows: list[list[Cell]]) -> dict[tuple[int, int], Cell]:
    """Ragged rows (module docstring): a row holding figures has its labels at the left
    and its figures at the right; a row of labels only (a header) is right-aligned with
    the spans of the format's heads."""
    spans = head_spans()
    rows = [_joined(cells) for cells in rows]
    span = [[spans.get(normalize_label(c.text), 1) for c in cells] for cells in rows]
    table_width = max((sum(s) for s in span), default=1)
    placed: dict[tuple[int, int], Cell] = {}
    for r, cells in enumerate(rows, start=1):
        if len(cells) == 1 and table_width > 1:  # a title across the table
            placed[(r, 1)] = Cell(cells[0].text, cells[0].where, colspan=table_width)
            continue
        labels = _label_count(cells)
        c = 1 if labels < len(cells) else table_width - sum(span[r - 1]) + 1
        for i, cell in enumerate(cells):
            if i == labels and labels < len(cells):
                c = max(c, table_width - (len(cells) - labels) + 1)
            placed[(r, c)] = Cell(cell.text, cell.where, colspan=span[r - 1][i])
            c += span[r - 1][i]
    return placed


JOIN_MAX = 3  # fragments one label may be broken into


def _joined(cells: list[Cell]) -> list[Cell]:
    """A label broken over cells made one again ("社会公益" | "组织": a line break in a
    header cell copied as a cell break).  Adjacent texts are joined when together they
    are one of the formats' texts and the first alone is none; else a header row holds
    more cells than columns, and every figure under it would be read one column off."""
    known, prefixes = format_texts(), _text_prefixes()
    out: list[Cell] = []
    i = 0
    while i < len(cells):
        first = normalize_label(cells[i].text)
        end = i + 1
        if first and first not in known and first in prefixes and _is_label(cells[i].text):
            for j in range(i + 1, min(i + JOIN_MAX, len(cells))):
                if not _is_label(cells[j].text):  # a figure is never part of a label
                    break
                joined = normalize_label("".join(c.text for c in cells[i:j + 1]))
                if joined in known:
                    end = j + 1
                    break
                if joined not in prefixes:
                    break
        if end > i + 1:
            out.append(Cell("".join(c.text.strip() for c in cells[i:end]), cells[i].where))
        else:
            out.append(cells[i])
        i = end
    return out


@cache
def _text_prefixes() -> frozenset[str]:
    return frozenset(t[:n] for t in format_texts() for n in range(1, len(t)))


def _label_count(cells: list[Cell]) -> int:
    """How many leading cells are labels: up to the last text that is not figure-like;
    all of them when no cell holds a figure (a header row)."""
    kinds = [_is_label(c.text) for c in cells]
    if not any(k is False for k in kinds):
        return len(cells)
    last = max((i for i, k in enumerate(kinds) if k), default=-1)
    return last + 1


def _is_label(text: str) -> bool | None:
    """True: a label; False: something a figure cell holds; None: empty (either)."""
    if not text.strip():
        return None
    return classify_text(text, "count").cls == "text"


@cache
def head_spans() -> dict[str, int]:
    """Normalised head text -> how many column labels sit under it (the most over all
    formats): 申请人情况 7, 法人或其他组织 5, 行政诉讼 10 …"""
    spans: dict[str, int] = {}
    for fmt in spec.formats().values():
        for part in fmt.parts:
            counts: dict[str, int] = {}
            for table in part.tables:
                for col in table.columns:
                    for head in col.path:
                        counts[head] = counts.get(head, 0) + 1
            for head, n in counts.items():
                key = normalize_label(head)
                spans[key] = max(spans.get(key, 1), n)
    return spans


@cache
def format_texts() -> frozenset[str]:
    """Every title, head and label of every format, normalised."""
    texts = set()
    for fmt in spec.formats().values():
        for part in fmt.parts:
            texts.add(part.title)
            texts.update(h.text for h in part.heads)
            texts.update(lab.text for t in part.tables for lab in (*t.rows, *t.columns) if lab.text)
    return frozenset(normalize_label(t) for t in texts)
