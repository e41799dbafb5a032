"""One annotated copy: the return's own package with the marks patched in (marks.py,
comments.py, styles.py, feedback.py); every other part as the agency saved it."""

from __future__ import annotations

import re
from pathlib import Path

from toolkit.common.a1 import parse_range, parse_ref, ref_of
from toolkit.common.layout import FEEDBACK_SHEET
from toolkit.formats.catalogue import ERROR, SEVERITY_ZH
from toolkit.formats.findings import FileReport, Finding
from toolkit.outputs.annotate import comments, feedback, marks
from toolkit.outputs.annotate.package import (
    CT_COMMENTS,
    CT_VML,
    CT_WORKSHEET,
    REL_BASE,
    STRICT_MAIN,
    ContentTypes,
    Package,
    Rels,
    child,
    local,
    ns,
    serialize,
)
from toolkit.outputs.annotate.styles import Styles
from toolkit.workbook.limits import Limits

# Excel's own "bad" and "neutral" cell-style colours: the figure stays readable.
ERROR_COLOR, WARNING_COLOR = "FFFFC7CE", "FFFFEB9C"
ERROR_FONT, WARNING_FONT = "FF9C0006", "FF9C5700"
_OURS = comments.AUTHOR.encode()  # in a sheet (our formulas) or comments part: ours to clear
_SELECTED = re.compile(rb'tabSelected\s*=\s*["\'](1|true)["\']')


class _Book:
    """The parts of the workbook an annotation edits, parsed once."""

    def __init__(self, pkg: Package):
        self.pkg = pkg
        self.ct = ContentTypes(pkg)
        root_rels = Rels(pkg, "")
        main = [t for i, t in root_rels.of_type("officeDocument")]
        self.part = main[0] if main and pkg.has(main[0]) else "xl/workbook.xml"
        self.wb = pkg.xml(self.part)
        self.main = ns(self.wb)
        self.r_ns = REL_BASE[self.main == STRICT_MAIN]
        self.rels = Rels(pkg, self.part)
        self._shared: list[str] | None = None

    def rel_type(self, kind: str) -> str:
        return f"{self.r_ns}/{kind}"

    def sheets(self) -> list[tuple[object, str, str | None, str]]:
        """(element, name, part, relationship type suffix) in workbook order."""
        out = []
        types = {i: (t.rsplit("/", 1)[-1], tgt) for i, t, tgt, _ in self.rels.items()}
        for el in feedback.sheets(self.wb):
            kind, part = types.get(feedback.rid_of(el) or "", ("", None))
            out.append((el, el.get("name", ""), part if part and self.pkg.has(part) else None, kind))
        return out

    def shared(self) -> list[str]:
        if self._shared is None:
            self._shared = []
            for _, part in self.rels.of_type("sharedStrings"):
                if self.pkg.has(part):
                    root = self.pkg.xml(part)
                    self._shared = ["".join(t.text or "" for t in si.iter()
                                            if local(t) == "t" and local(t.getparent()) != "rPh")
                                    for si in root if local(si) == "si"]
        return self._shared


def patch(report: FileReport, src: Path, target: Path, limits: Limits | None = None) -> None:
    """Writes ``target``: ``src`` with the marks of ``report``'s findings."""
    pkg = Package(src, limits)
    try:
        book = _Book(pkg)
        styles_part = next((t for _, t in book.rels.of_type("styles")), None)
        styles = Styles(pkg, styles_part, book.main)
        name = _drop_old_feedback(book)
        dxf = {ERROR: styles.dxf(ERROR_COLOR, ERROR_FONT), "warning": styles.dxf(WARNING_COLOR, WARNING_FONT)}
        where = {}
        for el, sheet_name, part, kind in book.sheets():
            if part is None:
                continue
            here = [(i, f) for i, f in enumerate(report.findings) if f.sheet == sheet_name and f.cell]
            if kind != "worksheet":
                here = []
            where.update(_sheet(book, part, here, dxf))
        if styles_part is None:
            styles_part = "xl/styles.xml"
            book.rels.add(book.rel_type("styles"), styles_part)
            book.ct.override(styles_part, "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml")
        _feedback(book, report, where, styles, name)
        styles.save(styles_part)
        pkg.put(book.part, serialize(book.wb))
        book.rels.save()
        book.ct.save()
        pkg.write(target)
    finally:
        pkg.close()


def _drop_old_feedback(book: _Book) -> str:
    """Takes out our 校验结果 sheet of an earlier run; the name ours may take."""
    shared = None
    for _, part in book.rels.of_type("sharedStrings"):
        shared = book.pkg.read(part) if book.pkg.has(part) else None
    taken = False
    for el, name, part, _ in book.sheets():
        if name != FEEDBACK_SHEET:
            continue
        if part is not None and feedback.is_ours(book.pkg.read(part), shared):
            feedback.remove_sheet(book.wb, el)
            book.rels.drop(feedback.rid_of(el) or "")
            book.ct.drop(part)
            book.pkg.remove(part)
            sheet_rels = Rels(book.pkg, part)
            if book.pkg.has(sheet_rels.name):
                book.pkg.remove(sheet_rels.name)
        else:
            taken = True
    return FEEDBACK_SHEET + "（本次）" if taken else FEEDBACK_SHEET


def _merges(root) -> list[tuple[int, int, int, int, str]]:
    out = []
    holder = child(root, "mergeCells")
    for m in (holder if holder is not None else []):
        try:
            r1, c1, r2, c2 = parse_range(m.get("ref") or "")
        except ValueError:  # not a reference: nothing merged there
            continue
        out.append((r1, c1, r2, c2, ref_of(r1, c1)))
    return out


def _anchor(merges, ref: str) -> str:
    """The cell a finding's marks live on: its top-left cell when merged (ValueError when
    ``ref`` is no cell reference)."""
    row, col = parse_ref(ref)
    for r1, c1, r2, c2, top_left in merges:
        if r1 <= row <= r2 and c1 <= col <= c2:
            return top_left
    return ref_of(row, col)


def _line(f: Finding) -> str:
    return f"{feedback.title(f.rule)}（{SEVERITY_ZH.get(f.severity, f.severity)}）：{f.message}"


def _sheet(book: _Book, part: str, here: list[tuple[int, Finding]], dxf: dict) -> dict[int, tuple[str, str]]:
    """Clears our earlier marks on one sheet, marks ``here``; returns where each went."""
    pkg = book.pkg
    data = pkg.read(part)
    rels = Rels(pkg, part)
    comment_parts = [t for _, t in rels.of_type("comments") if pkg.has(t)]
    old_comments = any(_OURS in pkg.read(t) for t in comment_parts)
    selected = _SELECTED.search(data) is not None
    if not here and not old_comments and _OURS not in data and not selected:
        return {}
    root = pkg.xml(part)
    changed = marks.unselect(root)
    changed |= marks.strip_ours(root) > 0
    if not here and not old_comments and not changed:
        return {}
    groups: dict[str, list[Finding]] = {}
    where = {}
    merges = _merges(root) if here else []
    for i, f in here:
        try:
            ref = _anchor(merges, str(f.cell))
        except ValueError:  # not a cell reference
            continue
        groups.setdefault(ref, []).append(f)
        where[i] = (f.sheet, ref)
    found = marks.cells(root, set(groups))
    shared = book.shared() if any(c.get("t") == "s" for c in found.values()) else None
    marks.add(root, [(ref, marks.bound(ref, found.get(ref), shared),
                      dxf[ERROR if any(f.severity == ERROR for f in group) else "warning"])
                     for ref, group in groups.items()])
    _comments(book, part, root, rels, comment_parts, groups)
    if groups:
        marks.comments_at_end(root)
    pkg.put(part, serialize(root))
    rels.save()
    return where


def _comments(book: _Book, part: str, root, rels: Rels, comment_parts: list[str],
              groups: dict[str, list[Finding]]) -> None:
    pkg = book.pkg
    cpart = comment_parts[0] if comment_parts else None
    croot = pkg.xml(cpart) if cpart else None
    gone: set[str] = set()
    if croot is not None and any(_OURS in pkg.read(t) for t in comment_parts):
        gone = comments.strip_ours(croot)
    notes = []
    if groups:
        if croot is None:
            croot = comments.empty(book.main)
        for ref, group in groups.items():
            lines = [_line(f) for f in group]
            if comments.add(croot, ref, lines):  # a new comment: it needs a shape (0-based place)
                row, col = parse_ref(ref)
                notes.append((row - 1, col - 1, comments.line_count(lines)))
    gone_cells = set()
    for ref in gone:
        try:
            row, col = parse_ref(ref)
        except ValueError:
            continue
        gone_cells.add((row - 1, col - 1))
    vml_rid = marks.legacy_drawing(root)
    vml_part = rels.by_id(vml_rid) if vml_rid else None
    if croot is None:
        return
    if comments.is_empty(croot):  # nothing left: the parts go (they were ours)
        rels.drop(next(i for i, t in rels.of_type("comments") if t == cpart))
        pkg.remove(cpart)
        book.ct.drop(cpart)
        if vml_part and pkg.has(vml_part):
            vml = comments.vml_strip(pkg.read(vml_part), gone_cells)
            if comments.vml_has_shapes(vml):
                pkg.put(vml_part, vml)
            else:
                pkg.remove(vml_part)
                rels.drop(vml_rid)
                marks.drop_legacy_drawing(root)
        return
    if cpart is None:
        cpart = pkg.free_name("xl/comments{n}.xml")
        rels.add(book.rel_type("comments"), cpart)
        book.ct.override(cpart, CT_COMMENTS)
    pkg.put(cpart, serialize(croot))
    if vml_part and pkg.has(vml_part):
        vml = pkg.read(vml_part)
    else:
        vml_part = pkg.free_name("xl/drawings/vmlDrawing{n}.vml")
        blocks = set()
        for name in pkg.names:
            if name.lower().endswith(".vml") and pkg.has(name):
                blocks |= comments.vml_idmap_blocks(pkg.read(name))
        vml = comments.vml_new(max(blocks, default=0) + 1)
        vml_rid = rels.add(book.rel_type("vmlDrawing"), vml_part)
        marks.set_legacy_drawing(root, vml_rid, book.r_ns)
        book.ct.default("vml", CT_VML)
    vml = comments.vml_strip(vml, gone_cells)
    pkg.put(vml_part, comments.vml_add(vml, notes))


def _feedback(book: _Book, report: FileReport, where: dict, styles: Styles, name: str) -> None:
    box = styles.box("FF999999")
    # Sizes set, not inherited from the agency's default font: printed one page wide on
    # A4 landscape the sheet keeps at least 9 pt (BODY_PT, scale ~100 %).
    body = styles.font(size=feedback.BODY_PT)
    bold = styles.font(bold=True, size=feedback.BODY_PT)
    st = {
        "title": styles.xf(font=styles.font(bold=True, size=16), vertical="center"),
        "todo": styles.xf(font=styles.font(bold=True, color="FFC00000", size=feedback.BODY_PT), wrap=True),
        "bold": styles.xf(font=bold),
        "left": styles.xf(font=body, horizontal="left"),
        "header": styles.xf(font=bold, fill=styles.fill("FFDDEBF7"), border=box,
                            wrap=True, horizontal="center", vertical="center"),
        "box": styles.xf(font=body, border=box, wrap=True),
        "error": styles.xf(font=body, border=box, fill=styles.fill(ERROR_COLOR), wrap=True),
        "warning": styles.xf(font=body, border=box, fill=styles.fill(WARNING_COLOR), wrap=True),
        "link": styles.xf(border=box, font=styles.font(color="FF0563C1", underline=True, size=feedback.BODY_PT)),
    }
    todo = feedback.TODO_FAIL if report.errors else feedback.TODO_WARN
    part = book.pkg.free_name("xl/worksheets/sheet{n}.xml")
    book.pkg.put(part, feedback.sheet_xml(report, where, st, book.main, book.r_ns, todo))
    book.ct.override(part, CT_WORKSHEET)
    rid = book.rels.add(book.rel_type("worksheet"), part)
    feedback.insert_first(book.wb, rid, book.r_ns, name)

