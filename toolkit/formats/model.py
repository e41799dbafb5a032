"""The national format as objects: a Format of Parts (tables of row and column Labels
under Heads), the Figures where they meet (key, sheet, cell, kind, defined name), the
agency block (Info), and the consistency Equations.  Built by toolkit.formats.spec from the
data in workbook_templates/; re-exported there, which is where the rest of the toolkit
takes them from."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from importlib.resources.abc import Traversable

from toolkit.common.a1 import parse_range, ref_of


@dataclass(frozen=True)
class Area:
    """A cell or merged range, 1-based, inclusive."""

    min_col: int
    min_row: int
    max_col: int
    max_row: int

    @classmethod
    def parse(cls, ref: str) -> "Area":
        r1, c1, r2, c2 = parse_range(ref)
        return cls(c1, r1, c2, r2)

    @property
    def ref(self) -> str:
        """A1 reference of the top-left cell."""
        return ref_of(self.min_row, self.min_col)

    @property
    def range(self) -> str:
        start = self.ref
        if self.is_merged:
            return f"{start}:{ref_of(self.max_row, self.max_col)}"
        return start

    @property
    def is_merged(self) -> bool:
        return (self.min_col, self.min_row) != (self.max_col, self.max_row)


@dataclass(frozen=True)
class Head:
    key: str
    text: str
    areas: tuple[Area, ...]


@dataclass(frozen=True)
class Label:
    """A row or a column label of a table."""

    key: str
    text: str
    area: Area
    path: tuple[str, ...]  # texts of the heads it sits under, outermost first
    short: str  # how the format refers to it in arithmetic ("一"); defaults to text
    kind: str | None = None


@dataclass(frozen=True)
class Figure:
    key: str  # "p3.received.total"
    part: str
    part_number: str  # 二 / 三 / 四
    row: str
    column: str
    sheet: str
    area: Area  # the cell (merged across when the column label spans columns)
    kind: str
    name: str  # workbook-scoped defined name
    row_label: Label
    column_label: Label

    @property
    def cell(self) -> str:
        return self.area.ref

    @property
    def row_text(self) -> str:
        """The row's label with the groups it sits in, as a reader would say it."""
        return " ".join((*self.row_label.path, self.row_label.text)).strip()

    @property
    def column_text(self) -> str:
        return " ".join((*self.column_label.path, self.column_label.text)).strip()

    @property
    def title(self) -> str:
        """Name used in messages: row and column, e.g. “（一）予以公开 / 自然人”."""
        row = self.row_label.text
        return f"{row} / {self.column_text}" if row else self.column_text


@dataclass(frozen=True)
class Term:
    key: str  # figure key
    sign: int  # +1 or -1
    last_year: bool = False


@dataclass(frozen=True)
class Equation:
    """sum(lhs) == sum(rhs) for one row or column; ``anchor`` is flagged when it fails."""

    rule: str
    anchor: str
    lhs: tuple[Term, ...]
    rhs: tuple[Term, ...]

    @property
    def needs_last_year(self) -> bool:
        return any(t.last_year for t in (*self.lhs, *self.rhs))

    @property
    def keys(self) -> tuple[str, ...]:
        """This year's figures the equation reads."""
        return tuple(t.key for t in (*self.lhs, *self.rhs) if not t.last_year)


@dataclass(frozen=True)
class InfoField:
    """A fill-in cell of the agency block (单位名称, 年度, …)."""

    key: str
    text: str
    label_area: Area
    area: Area
    name: str
    kind: str = "text"


@dataclass(frozen=True)
class Info:
    sheet: str
    title: str
    title_area: Area
    fields: tuple[InfoField, ...]

    def field(self, key: str) -> InfoField:
        return next(f for f in self.fields if f.key == key)


def figure_key(part: str, row: str, column: str) -> str:
    """A figure's key, "p3.received.total": the one spelling of it."""
    return f"{part}.{row}.{column}"


@dataclass(frozen=True)
class Table:
    rows: tuple[Label, ...]
    columns: tuple[Label, ...]

    def keys(self, part: str) -> list[list[str]]:
        """The table's figure keys, a row of keys per row."""
        return [[figure_key(part, r.key, c.key) for c in self.columns] for r in self.rows]


@dataclass(frozen=True)
class Part:
    key: str
    number: str
    sheet: str
    title: str
    title_area: Area
    orientation: str
    widths: dict[str, float]
    heads: tuple[Head, ...]
    tables: tuple[Table, ...]

    @property
    def last_col(self) -> int:
        return self.title_area.max_col


@dataclass
class Format:
    id: str
    document: str
    title: str
    years: tuple[int, int]
    name_prefix: str
    parts: tuple[Part, ...]
    figures: dict[str, Figure]  # in template order: part, table, row, column
    equations: tuple[Equation, ...]
    key_figures: tuple[str, ...]
    roles: dict[str, tuple[str, ...]]  # role -> figure keys (the format data's `roles`)
    source: Traversable
    info: Info
    figures_by_name: dict[str, Figure] = field(repr=False, default_factory=dict)

    def part(self, key: str) -> Part:
        return next(p for p in self.parts if p.key == key)

    def part_figures(self, part_key: str) -> list[Figure]:
        return [f for f in self.figures.values() if f.part == part_key]

    def covers(self, year: int) -> bool:
        return self.years[0] <= year <= self.years[1]

    @cached_property
    def fingerprint(self) -> str:
        """Digest of the locked layout: every fixed text with its place, every figure cell
        with its name.  Stamped into templates so the reader can tell tampering apart.
        Worked out once per format: every return read compares its stamp with it."""
        items = []
        for part in self.parts:
            items.append([part.sheet, part.title_area.range, part.title])
            for head in part.heads:
                items.extend([part.sheet, a.range, head.text] for a in head.areas)
            for table in part.tables:
                for label in (*table.rows, *table.columns):
                    items.append([part.sheet, label.area.range, label.text])
        items.extend([f.sheet, f.area.range, f.name] for f in self.figures.values())
        items.extend([self.info.sheet, f.area.range, f.name, f.text] for f in self.info.fields)
        blob = json.dumps(items, ensure_ascii=False, sort_keys=False).encode()
        return hashlib.sha256(blob).hexdigest()[:16]
