"""PDF through pdfplumber: tables by their ruling lines, cells with the spans their
boxes cover; text outside tables as paragraphs, top to bottom.  A page without ruling
lines is read by word positions (pdfplumber's text strategy), without spans.

A table broken across pages is joined again: a table that opens a page and has the
columns of the table that closed the previous page continues it.  Its leading rows that
repeat the first table's header are dropped; a label cell merged down over the break
(empty on the new page) is extended; a row broken over the pages (its figure cells
empty on the new page) gets its words back.
A PDF with no text at all is a scan (P1)."""

from __future__ import annotations

from pathlib import Path

from toolkit.reading.locate import normalize_label
from toolkit.reading.published.document import Block, Cell, Document, _is_label, format_texts
from toolkit.workbook.limits import Limits, Unreadable

MAX_PAGES = 200
Table = dict[tuple[int, int], Cell]  # (row, col) from 1 -> the cell starting there


def read_pdf(path: Path, limits: Limits) -> Document:
    import pdfplumber

    try:
        pdf = pdfplumber.open(str(path))
    except Exception as exc:  # noqa: BLE001 - pdfminer raises many kinds on a broken file
        raise Unreadable("F3", "PDF 文件已损坏") from exc
    with pdf:
        if len(pdf.pages) > MAX_PAGES:
            raise Unreadable("F6", f"PDF 有 {len(pdf.pages)} 页，超过 {MAX_PAGES} 页")
        items, chars = _items(pdf, limits.deadline())
    if chars == 0:
        raise Unreadable("P1", f"共 {len(pdf.pages)} 页，没有一个文字")
    doc = Document("pdf")
    for item in _grouped(items):
        if isinstance(item, tuple):
            doc.paragraph(item[1], {"page": item[0]})
            continue
        if isinstance(item, Block):
            for row in item.rows:
                for cell in row:
                    cell.where["table"] = len(doc.tables) + 1
            doc.blocks.append(item)
            continue
        xs = _edges([c[0] for _p, t, _s in item for row in t.rows for c in row.cells if c]
                    + [t.bbox[2] for _p, t, _s in item])
        table_no = len(doc.tables) + 1
        whole: Table | None = None
        for page_no, t, by_text in item:
            chunk = _table(t, page_no, xs)
            for cell in chunk.values():
                cell.where["table"] = table_no
            if whole is None:
                whole = chunk
            else:
                _continue(whole, chunk)
        doc.blocks.append(_block(whole))
    return doc


def _items(pdf, deadline) -> tuple[list, int]:
    """Per page, top to bottom: (page, "line", text) and (page, "table", pdfplumber table,
    read by text positions?)."""
    items, chars = [], 0
    for page_no, page in enumerate(pdf.pages, start=1):
        deadline.check()  # where no timer can stop a page (limits.time_limit), between pages
        chars += len(page.chars)
        found = page.find_tables()
        if not found and page.chars:  # no ruling lines: rows and cells by word positions
            items += _word_rows(page, page_no)
            continue
        boxes = [t.bbox for t in found]
        here = [(t.bbox[1], (page_no, "table", t, False)) for t in found]
        outside = page.filter(lambda o, boxes=boxes: not _inside(o, boxes))
        here += [(ln["top"], (page_no, "line", ln["text"].strip(), False))
                 for ln in outside.extract_text_lines() if ln["text"].strip()]
        items += [x for _top, x in sorted(here, key=lambda h: h[0])]
    return items, chars


def _word_rows(page, page_no: int) -> list:
    """A page without ruling lines: each text line a row, each word (words are apart by
    spaces) a cell; a line of one word is a paragraph.  Header lines are dropped (the
    columns they span cannot be known without lines): such tables are read by position
    where that is certain (wording.by_position says so), else their figures are missing."""
    lines: list[list[dict]] = []
    for w in sorted(page.extract_words(), key=lambda w: (round(w["top"]), w["x0"])):
        if lines and abs(lines[-1][0]["top"] - w["top"]) <= 3:
            lines[-1].append(w)
        else:
            lines.append([w])
    out = []
    for words in lines:
        words.sort(key=lambda w: w["x0"])
        if len(words) == 1:
            out.append((page_no, "line", words[0]["text"], False))
        else:
            out.append((page_no, "words", words, True))
    return out


def _grouped(items: list) -> list:
    """Paragraphs as (page, text); tables as lists of (page, table, by_text), a table that
    opens a page joined to the one that closed the page before when their left and right
    edges agree (the same table, broken by the page)."""
    out: list = []
    for i, (page_no, kind, payload, by_text) in enumerate(items):
        if kind == "line":
            out.append((page_no, payload))
            continue
        if kind == "words":
            if all(_is_label(w["text"]) for w in payload):
                continue  # a header line: without ruling lines its spans cannot be known
            if out and isinstance(out[-1], Block):
                out[-1].rows.append(_word_cells(payload, page_no, len(out[-1].rows) + 1))
            else:
                out.append(Block([_word_cells(payload, page_no, 1)], exact=False))
            continue
        prev = items[i - 1] if i else None
        if (prev is not None and prev[1] == "table" and prev[0] == page_no - 1 and out
                and isinstance(out[-1], list)
                and abs(prev[2].bbox[0] - payload.bbox[0]) < 3 and abs(prev[2].bbox[2] - payload.bbox[2]) < 3):
            out[-1].append((page_no, payload, by_text))
        else:
            out.append([(page_no, payload, by_text)])
    return out


def _word_cells(words: list[dict], page_no: int, row: int) -> list[Cell]:
    return [Cell(w["text"], {"page": page_no, "row": row, "column": c}) for c, w in enumerate(words, start=1)]


def _inside(obj, boxes) -> bool:
    x = (obj.get("x0", 0) + obj.get("x1", 0)) / 2
    y = (obj.get("top", 0) + obj.get("bottom", 0)) / 2
    return any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for b in boxes)


def _table(t, page_no: int, xs: list[float]) -> Table:
    """pdfplumber's table as cells placed on column and row boundaries (``xs``: the
    column edges of the whole table, over all its pages)."""
    cells = [c for row in t.rows for c in row.cells if c is not None]
    ys = _edges([c[1] for c in cells] + [max(c[3] for c in cells)])
    texts = t.extract()
    out: Table = {}
    for r, row in enumerate(t.rows):
        for j, box in enumerate(row.cells):
            if box is None:
                continue
            c0 = _index(xs, box[0]) + 1
            r0 = _index(ys, box[1]) + 1
            colspan = max(1, _index(xs, box[2]) + 1 - c0)
            rowspan = max(1, _index(ys, box[3]) + 1 - r0)
            text = texts[r][j] if r < len(texts) and j < len(texts[r]) else ""
            out[(r0, c0)] = Cell(text or "", {"page": page_no, "row": r0, "column": c0}, colspan, rowspan)
    return out


def _edges(values: list[float], tolerance: float = 2.0) -> list[float]:
    """Cell edges that differ by less than a line's width are one edge."""
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > tolerance:
            out.append(v)
    return out


def _index(edges: list[float], x: float) -> int:
    return min(range(len(edges)), key=lambda i: abs(edges[i] - x))


def _width(table: Table) -> int:
    return max((c + cell.colspan - 1 for (_r, c), cell in table.items()), default=0)


def _block(table: Table, exact: bool = True) -> Block:
    n = max((r for r, _c in table), default=0)
    rows = [[table[(r, c)] for c in sorted(c for rr, c in table if rr == r)] for r in range(1, n + 1)]
    return Block(rows, exact=exact)


def _continue(prev: Table, more: Table) -> None:
    """Append ``more`` (the same table on the next page) to ``prev``, in place."""
    rows = max(r for r, _c in prev)
    more = dict(more)
    # 1. leading rows repeating the table's header
    header = _row_texts(prev, 1)
    skip = 0
    while skip < max(r for r, _c in more) and _row_texts(more, skip + 1) == _row_texts(prev, skip + 1) \
            and any(header):
        skip += 1
    more = {(r - skip, c): cell for (r, c), cell in more.items() if r > skip}
    # 2. a row broken over the pages: its figure cells are empty on the new page
    last = {c: cell for (r, c), cell in prev.items() if r == rows}
    top = {c: cell for (r, c), cell in more.items() if r == 1}
    figures = [c for c, cell in last.items() if _is_label(cell.text) is False]
    if top and figures and all(not top[c].text.strip() for c in figures if c in top):
        for c, cell in top.items():
            if c in last:
                last[c].text += cell.text
            elif cell.rowspan > 1:  # a cell merged down goes on below the broken row
                cell.rowspan -= 1
                more[(2, c)] = cell
        more = {(r - 1, c): cell for (r, c), cell in more.items() if r > 1}
    # 3. a label cell merged down over the break: extend it (with the rest of its words)
    covering = {}
    for (r, c), cell in prev.items():
        if r + cell.rowspan - 1 == rows and cell.text.strip() and _is_label(cell.text):
            covering[c] = cell
    for (r, c), cell in list(more.items()):
        if r == 1 and c in covering and (not cell.text.strip() or (
                _is_label(cell.text) and normalize_label(cell.text) not in format_texts())):
            covering[c].text += cell.text.strip()
            covering[c].rowspan += cell.rowspan
            del more[(r, c)]
    for (r, c), cell in more.items():
        prev[(rows + r, c)] = cell


def _row_texts(table: Table, r: int) -> list[str]:
    return [table[k].text for k in sorted(k for k in table if k[0] == r)]
