"""Word (.docx) through python-docx: paragraphs and tables in body order, merged cells
expanded from the XML (w:gridSpan across, w:vMerge down), as Word lays them out."""

from __future__ import annotations

from pathlib import Path

from toolkit.reading.published.document import Block, Cell, Document

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def read_docx(path: Path, form: str = "docx") -> Document:
    import docx  # python-docx

    body = docx.Document(str(path)).element.body
    doc = Document(form)
    _walk(body, doc)
    return doc


def _walk(el, doc: Document) -> None:
    """Paragraphs and tables in order, also those in content controls and in text boxes
    (LibreOffice puts a table wider than the page in a frame); a text box's fallback
    copy (mc:Fallback) is not read twice."""
    for child in el.iterchildren():
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag == W + "tbl":
            doc.blocks.append(Block(_rows(child, len(doc.tables) + 1)))
        elif tag == W + "p":
            boxes = [b for b in child.iter(W + "txbxContent") if not _in_fallback(b, child)]
            if boxes:
                for box in boxes:
                    _walk(box, doc)
                continue
            text = _text(child)
            if text.strip():
                doc.paragraph(text.strip(), {"paragraph": len(doc.blocks) + 1})
        elif tag and not tag.endswith("}sectPr"):
            _walk(child, doc)


def _in_fallback(el, stop) -> bool:
    for a in el.iterancestors():
        if a is stop:
            return False
        if isinstance(a.tag, str) and a.tag.endswith("}Fallback"):
            return True
    return False


def _text(el) -> str:
    return "".join(t.text or "" for t in el.iter(W + "t", W + "tab", W + "br")
                   if t.tag == W + "t") if el is not None else ""


def _cell_text(tc) -> str:
    return "\n".join(_text(p) for p in tc.iterchildren(W + "p"))


def _rows(tbl, table_no: int) -> list[list[Cell]]:
    """Rows of cells with spans; a vMerge continuation is no cell of its own (it adds a
    row to the cell above that starts the merge)."""
    grid: list[list[tuple[int, int, object, str | None]]] = []  # (col, span, tc, vmerge)
    for tr in tbl.iterchildren(W + "tr"):
        col, row = 1, []
        before = tr.find(f"{W}trPr/{W}gridBefore")
        if before is not None:
            col += int(before.get(W + "val", "0") or 0)
        for tc in tr.iterchildren(W + "tc"):
            pr = tc.find(W + "tcPr")
            span, vmerge = 1, None
            if pr is not None:
                gs = pr.find(W + "gridSpan")
                if gs is not None:
                    span = max(1, int(gs.get(W + "val", "1") or 1))
                vm = pr.find(W + "vMerge")
                if vm is not None:
                    vmerge = vm.get(W + "val") or "continue"
            row.append((col, span, tc, vmerge))
            col += span
        grid.append(row)
    rows: list[list[Cell]] = []
    for r, row in enumerate(grid):
        cells = []
        for col, span, tc, vmerge in row:
            if vmerge == "continue":
                continue
            down = 1
            if vmerge == "restart":
                while r + down < len(grid) and any(
                        c == col and v == "continue" for c, _s, _t, v in grid[r + down]):
                    down += 1
            cells.append(Cell(_cell_text(tc), {"table": table_no, "row": r + 1, "column": col},
                              colspan=span, rowspan=down))
        rows.append(cells)
    return rows
