"""Find the figures of a returned workbook by the format's verbatim labels.

The reader's fallback when a return's defined names are missing or broken: the figures
were copied into another workbook, the workbook was rebuilt by hand, or the national
tables were built without our template.  Every label comes from ``toolkit.formats.spec``.

Tolerance rules
1. Texts are compared after ``normalize_label``: NFKC (full-width letters, digits,
   brackets and colons become half-width, so "(一)" reads as "（一）"), all white space
   removed (spaces, U+3000, no-break spaces, line breaks inside a cell, so "商业\\n企业"
   reads as "商业企业"), quotes of any kind removed, 〔〕【】[] read as (), the list marks
   、 . , read as one, trailing colons dropped.
2. Place does not matter: a part may be on any sheet under any name, at any row and
   column, all parts on one sheet or each on its own; blank rows and columns, extra
   columns (小计) and notes are ignored.  A part is read from the sheet holding most of
   its texts (title, heads, labels), and only if that sheet holds a quarter of them
   (``PART_MIN_SHARE``) — so an unrelated sheet with a stray 总计 reads as nothing.
3. A figure is where its row label's row meets its column label's column (the top-left
   cell when the label is merged).  A row without label (part 四) is the first row below
   the column labels that has something in them (within ``UNLABELLED_ROW_REACH`` rows),
   else the row right below them.
4. Repeated labels are told apart by the heads they sit under: a label is searched below
   and right of its innermost head that was found, within the head's span (its merge, or
   up to the next head of the part in its row for columns, in its column for rows), the
   nearest one winning; a label without heads, and each head, is searched below the
   part's title (anywhere when the title is missing).  A cell serves one label only.
5. Exact match first.  A label still missing may match a cell by similarity
   (difflib ratio >= ``FUZZY_MIN``, labels of ``FUZZY_MIN_LEN`` characters or more, so
   "总计" never matches "（七）总计"), best pairs first, never a cell whose text is itself a
   text of the format.  Each such match is reported in ``Located.notes``.
6. ``Located.score`` is the share of the format's labels found (a similar match counts
   as its ratio).  ``detect_format`` ranks formats by fit: per part, found labels /
   (labels + unexplained texts inside the located table), averaged over the parts, so a
   label the format lacks counts against it; no format when the best fit is below
   ``DETECT_MIN`` (one whole part alone fits 1/3).  Ties go to the format listed first:
   the reader lists them in its order of preference (stamp, then year; see
   toolkit.reading.identity), since a return holding only part 四, the same in 2019 and
   2021, cannot tell its format by labels.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any, Iterable, Mapping

from toolkit.common.a1 import parse_range, ref_of
from toolkit.formats.spec import Format, Label, Part

FUZZY_MIN = 0.8
FUZZY_MIN_LEN = 4
PART_MIN_SHARE = 0.25
DETECT_MIN = 0.25
UNLABELLED_ROW_REACH = 3

Cell = tuple[int, int]  # (row, col), 1-based
Box = tuple[int, int, int, int]  # (min_row, min_col, max_row, max_col)

_SPACE = re.compile(r"[\s\u200b\ufeff]+")
_MAP = str.maketrans({
    **dict.fromkeys("\"'`´“”‘’「」『』〝〞", None),
    **dict.fromkeys("〔【[{", "("),
    **dict.fromkeys("〕】]}", ")"),
    **dict.fromkeys(".,、", "、"),
})
_NUMERIC = re.compile(r"[-+]?[\d、]+%?")


def normalize_label(text: object) -> str:
    """The form two spellings of one label share (rule 1 of the module docstring)."""
    if text is None:
        return ""
    s = _SPACE.sub("", unicodedata.normalize("NFKC", str(text))).translate(_MAP)
    return s.rstrip(":")


@dataclass
class Grid:
    """One sheet's non-empty cell texts and merged ranges (min_col, min_row, max_col, max_row)."""

    texts: dict[Cell, str]
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    _idx: "_Index | None" = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def from_book(cls, book: Any, sheet: Any, max_rows: int = 300, max_cols: int = 40) -> "Grid":
        """From the Book interface: read_grid(sheet, max_rows, max_cols) and merged_ranges."""
        texts = {}
        for cell, raw in book.read_grid(sheet, max_rows=max_rows, max_cols=max_cols).items():
            value = getattr(raw, "value", raw)
            if value is not None and str(value) != "":
                texts[cell] = str(value)
        merged = []
        for ref in book.merged_ranges(sheet):
            try:
                r1, c1, r2, c2 = parse_range(ref)
                merged.append((c1, r1, c2, r2))
            except (TypeError, ValueError):
                continue  # a broken merge entry hides nothing we need
        return cls(texts, merged)

    def index(self) -> "_Index":
        if self._idx is None:
            self._idx = _Index(self)
        return self._idx


class _Index:
    """Normalised texts, computed once per grid and shared by every format tried."""

    def __init__(self, grid: Grid):
        self.raw = grid.texts
        self.norm: dict[Cell, str] = {}
        self.by_text: dict[str, list[Cell]] = {}
        for cell in sorted(grid.texts):
            norm = normalize_label(grid.texts[cell])
            if norm:
                self.norm[cell] = norm
                self.by_text.setdefault(norm, []).append(cell)
        self.boxes = {(r1, c1): (r1, c1, r2, c2) for c1, r1, c2, r2 in grid.merged}
        self.pool = [(c, t) for c, t in self.norm.items() if not _NUMERIC.fullmatch(t)]

    def box(self, cell: Cell) -> Box:
        return self.boxes.get(cell, (*cell, *cell))


@dataclass
class Located:
    cells: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (sheet, "D5")
    missing: dict[str, str] = field(default_factory=dict)  # key -> 中文 reason
    score: float = 0.0  # share of the format's labels found
    sheets: dict[str, str] = field(default_factory=dict)  # part key -> sheet
    notes: list[str] = field(default_factory=list)


@dataclass
class _Want:
    id: tuple
    text: str  # as the format spells it
    kind: str  # 标题 / 表头 / 行标签 / 列标签
    axis: str  # "row", "col" or "" (heads, titles)
    anchor: Box | None  # search below/right of this
    limit: Cell | None = None  # (last row, last col) of the anchor head's span; 0 = open
    norm: str = field(init=False)

    def __post_init__(self) -> None:
        self.norm = normalize_label(self.text)


@dataclass
class _Hit:
    cell: Cell
    box: Box
    ratio: float


def _distance(cell: Cell, want: _Want) -> int | None:
    """How far a cell is below/right of the want's anchor; None when it cannot be under it."""
    if want.anchor is None:
        return 0
    r, c = cell
    r0, c0, r1, c1 = want.anchor
    if r < r0 or c < c0:
        return None
    if want.limit and ((want.axis == "col" and 0 < want.limit[1] < c)
                       or (want.axis == "row" and 0 < want.limit[0] < r)):
        return None
    return max(0, r - r1) + max(0, c - c1)


def _find(wants: list[_Want], idx: _Index, taken: set[Cell], known: set[str],
          part: Part, notes: list[str]) -> dict[tuple, _Hit]:
    """Exact matches first, then the best similar matches for what is left (rule 5)."""
    hits: dict[tuple, _Hit] = {}
    for w in wants:
        best = None
        for cell in idx.by_text.get(w.norm, ()):
            d = _distance(cell, w) if cell not in taken else None
            if d is not None and (best is None or (d, cell) < best):
                best = (d, cell)
        if best is not None:
            taken.add(best[1])
            hits[w.id] = _Hit(best[1], idx.box(best[1]), 1.0)
    left = [w for w in wants if w.id not in hits and len(w.norm) >= FUZZY_MIN_LEN]
    if not left:
        return hits
    pairs = []
    matcher = SequenceMatcher(autojunk=False)
    for i, w in enumerate(left):
        matcher.set_seq2(w.norm)
        for cell, text in idx.pool:
            if cell in taken or text in known:
                continue
            d = _distance(cell, w)
            if d is None:
                continue
            matcher.set_seq1(text)
            if matcher.real_quick_ratio() < FUZZY_MIN or matcher.quick_ratio() < FUZZY_MIN:
                continue
            ratio = matcher.ratio()
            if ratio >= FUZZY_MIN:
                pairs.append((-ratio, d, cell, i))
    for neg, _d, cell, i in sorted(pairs):
        w = left[i]
        if cell in taken or w.id in hits:
            continue
        taken.add(cell)
        hits[w.id] = _Hit(cell, idx.box(cell), -neg)
        shown = _SPACE.sub("", idx.raw[cell])
        notes.append(f"第{part.number}部分的{w.kind}“{shown}”与格式“{w.text}”不一致，已按近似匹配读取")
    return hits


def _span(head: _Hit, heads: list[_Hit]) -> Cell:
    """Last (row, col) a head covers: its merge, else up to the next head of the part in its
    row (columns) or column (rows), so that an unmerged group head ends where the next one starts;
    0 when open-ended."""
    r0, c0, r1, c1 = head.box
    if r1 == r0:
        r1 = min((h.cell[0] for h in heads if h.cell[1] == c0 and h.cell[0] > r0), default=1) - 1
    if c1 == c0:
        c1 = min((h.cell[1] for h in heads if h.cell[0] == r0 and h.cell[1] > c0), default=1) - 1
    return r1, c1


def _labels(part: Part) -> list[tuple[str, Label]]:
    """(axis, label) of every labelled row and column of the part's tables."""
    return [(axis, lab) for t in part.tables
            for axis, labs in (("col", t.columns), ("row", t.rows)) for lab in labs if lab.text]


def _part_texts(part: Part) -> set[str]:
    texts = {part.title, *(h.text for h in part.heads), *(lab.text for _a, lab in _labels(part))}
    return {normalize_label(t) for t in texts} - {""}


def _choose_sheet(grids: Mapping[str, Grid], part: Part, texts: set[str]) -> str | None:
    best, best_key = None, None
    for i, (name, grid) in enumerate(grids.items()):
        key = (len(texts & grid.index().by_text.keys()), name == part.sheet, -i)
        if best_key is None or key > best_key:
            best, best_key = name, key
    need = max(2, math.ceil(PART_MIN_SHARE * len(texts)))
    return best if best_key is not None and best_key[0] >= need else None


def _label_name(label: Label) -> str:
    where = f"（位于“{' / '.join(label.path)}”下）" if label.path else ""
    return f"“{label.text}”{where}"


def _locate(grids: Mapping[str, Grid], fmt: Format) -> tuple[Located, float]:
    out = Located()
    known = set().union(*(_part_texts(p) for p in fmt.parts))
    taken: dict[str, set[Cell]] = {name: set() for name in grids}
    n_labels, found, fits = 0, 0.0, []
    for part in fmt.parts:
        labels = _labels(part)
        n_labels += len(labels)
        texts = _part_texts(part)
        name = _choose_sheet(grids, part, texts)
        if name is None:
            for f in fmt.part_figures(part.key):
                out.missing[f.key] = f"找不到第{part.number}部分“{part.title}”的表格"
            fits.append(0.0)
            continue
        out.sheets[part.key] = name
        idx, tk = grids[name].index(), taken[name]
        hits = _find([_Want(("title",), part.title, "标题", "", None)], idx, tk, known, part, out.notes)
        # Below the title, at any column: a title is often typed over the middle, unmerged.
        top = (hits[("title",)].box[0], 1, hits[("title",)].box[2], 1) if hits else None
        hits |= _find([_Want(("head", h.text), h.text, "表头", "", top) for h in part.heads],
                      idx, tk, known, part, out.notes)
        heads = [h for k, h in hits.items() if k[0] == "head"]
        wants = []
        for axis, lab in labels:
            head = next((hits[("head", t)] for t in reversed(lab.path) if ("head", t) in hits), None)
            anchor, limit = (head.box, _span(head, heads)) if head else (top, None)
            kind = "列标签" if axis == "col" else "行标签"
            wants.append(_Want((axis, lab), lab.text, kind, axis, anchor, limit))
        hits |= _find(wants, idx, tk, known, part, out.notes)

        part_found = sum(hits[(a, lab)].ratio for a, lab in labels if (a, lab) in hits)
        found += part_found
        figure_cells = _place_figures(fmt, part, name, hits, idx, out)
        fits.append(part_found / (len(labels) + _unexplained(hits, idx, texts, figure_cells))
                    if labels else 0.0)
    out.score = found / n_labels if n_labels else 0.0
    return out, sum(fits) / len(fits) if fits else 0.0


def _place_figures(fmt: Format, part: Part, sheet: str, hits: dict[tuple, _Hit],
                   idx: _Index, out: Located) -> set[Cell]:
    """Rule 3: put each figure where its row meets its column; reasons for the others."""
    unlabelled: dict[int, int] = {}  # id(table) -> row of its unlabelled row
    for table in part.tables:
        if any(not r.text for r in table.rows):
            cols = [hits[("col", c)] for c in table.columns if ("col", c) in hits]
            if cols:
                bottom = max(h.box[2] for h in cols)
                unlabelled[id(table)] = next(
                    (r for r in range(bottom + 1, bottom + 1 + UNLABELLED_ROW_REACH)
                     if any((r, h.cell[1]) in idx.raw for h in cols)), bottom + 1)
    table_of = {id(lab): t for t in part.tables for lab in t.rows}
    placed: set[Cell] = set()
    for f in fmt.part_figures(part.key):
        col = hits.get(("col", f.column_label))
        if f.row_label.text:
            row_hit = hits.get(("row", f.row_label))
            row = row_hit.cell[0] if row_hit else None
        else:
            row = unlabelled.get(id(table_of.get(id(f.row_label))))
        reasons = []
        if row is None and f.row_label.text:
            reasons.append(f"找不到行标签“{f.row_label.text}”")
        if col is None:
            reasons.append(f"找不到列标签{_label_name(f.column_label)}")
        if reasons:
            out.missing[f.key] = "；".join(reasons)
            continue
        placed.add((row, col.cell[1]))
        out.cells[f.key] = (sheet, ref_of(row, col.cell[1]))
    return placed


def _unexplained(hits: dict[tuple, _Hit], idx: _Index, texts: set[str], figures: set[Cell]) -> int:
    """Texts inside the located table that are neither the format's nor figures (rule 6)."""
    boxes = [h.box for k, h in hits.items() if k[0] != "title"]
    if not boxes:
        return 0
    r0, c0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    r1, c1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    claimed = {h.cell for h in hits.values()}
    return sum(1 for (r, c), t in idx.pool
               if r0 <= r <= r1 and c0 <= c <= c1 and t not in texts
               and (r, c) not in claimed and (r, c) not in figures)


def locate(grids: Mapping[str, Grid], fmt: Format) -> Located:
    """Where each figure of ``fmt`` is in these sheets (sheet name -> Grid), by labels."""
    return _locate(grids, fmt)[0]


def detect_format(grids: Mapping[str, Grid], formats: Iterable[Format]
                  ) -> tuple[Format | None, float, dict[str, float]]:
    """The format whose labels fit these sheets best (rule 6), its fit, and every format's
    fit by id; no format when the best fit is below ``DETECT_MIN``."""
    best, best_fit, fits = None, 0.0, {}
    for fmt in formats:
        fits[fmt.id] = fit = _locate(grids, fmt)[1]
        if fit > best_fit:
            best, best_fit = fmt, fit
    return (best if best_fit >= DETECT_MIN else None), best_fit, fits


def locate_each(grids: Mapping[str, Grid], formats: Iterable[Format]) -> dict[str, tuple[Located, float]]:
    """Every format's placing and fit (format id -> (Located, fit)), for a caller that
    chooses the format itself and keeps the placing (no second pass)."""
    return {fmt.id: _locate(grids, fmt) for fmt in formats}


def grids_from_book(book: Any, max_rows: int = 300, max_cols: int = 40,
                    skip: Iterable[str] = ()) -> dict[str, Grid]:
    """Every sheet of a Book that is not very hidden (the template's stamp) nor in skip."""
    skip = set(skip)
    return {s.name: Grid.from_book(book, s.name, max_rows, max_cols) for s in book.sheets
            if getattr(s, "state", "visible") != "veryHidden" and s.name not in skip}
