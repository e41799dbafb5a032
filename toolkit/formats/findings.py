"""Findings and per-file reports: the data every output (findings.json, annotated
copies, the summary, emails) is written from."""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from functools import cache
from itertools import repeat

from toolkit.formats.catalogue import ERROR, WARNING, rule

PASS, FAIL, UNREADABLE = "pass", "fail", "unreadable"
STATUS_ZH = {PASS: "通过", FAIL: "需修改", UNREADABLE: "无法读取"}


@dataclass
class Finding:
    rule: str
    severity: str
    message: str
    sheet: str | None = None
    cell: str | None = None  # A1 reference of the flagged cell
    part: str | None = None  # 二 / 三 / 四
    row: str | None = None  # row label, verbatim
    column: str | None = None  # column label, verbatim
    value: object = None  # as typed
    expected: object = None
    key: str | None = field(default=None, repr=False)  # figure key, internal
    # Where in a published document (PDF page/table, Word or web table/row/column, text
    # line), 1-based; None for a workbook, whose sheet and cell say where.
    location: dict | None = None

    @property
    def where_zh(self) -> str:
        """The location in words: 第2页 表1 第5行 第3列 / 第120行."""
        loc = self.location or {}
        words = {"page": "第{}页", "table": "表{}", "row": "第{}行", "column": "第{}列"}
        if "line" in loc:  # text: the line, and the cell's place in a markdown row
            return f"第{loc['line']}行" + (f" 第{loc['column']}列" if "column" in loc else "")
        return " ".join(w.format(loc[k]) for k, w in words.items() if k in loc)

    @classmethod
    def of(cls, rule_id: str, *, figure=None, sheet=None, cell=None, value=None,
           expected=None, **fields) -> "Finding":
        """A finding for ``rule_id``, its message rendered from the catalogue.

        ``figure`` (a spec.Figure) fills sheet, cell, part and labels; ``sheet``/``cell``
        override them where the figure was found elsewhere (label reading)."""
        r = rule(rule_id)
        part = row = column = key = None
        if figure is not None:
            key = figure.key
            part = figure.part_number
            row, column = figure.row_text, figure.column_text
            sheet = sheet or figure.sheet
            cell = cell or figure.cell
            fields.setdefault("label", figure.title)
        message = r.render(value=value, expected=expected, **fields)
        return cls(rule=rule_id, severity=r.severity, message=message, sheet=sheet,
                   cell=cell, part=part, row=row, column=column,
                   value=_jsonable(value), expected=_jsonable(expected), key=key)

    def to_json(self) -> dict:
        d = asdict(self)
        d.pop("key")
        return d


def _jsonable(value):
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):  # findings.json is strict JSON: no NaN, no Infinity
            return str(value).upper()
        return int(value) if value.is_integer() else float(value)
    return str(value)


class FigureValues(Mapping):
    """A return's valid figures, keyed like spec figures, held as one array of doubles in
    the format's order (a figure that is not a valid number is absent).  A batch of ten
    thousand returns keeps two million figures: as dicts they would not stay small."""

    __slots__ = ("_keys", "_index", "_values", "_exact")

    def __init__(self, format_id: str, numbers: Mapping[str, float | int]):
        self._keys, self._index = _layout(format_id)
        nan = math.nan
        self._values = array("d", map(numbers.get, self._keys, repeat(nan, len(self._keys))))
        # Whole numbers a double does not hold exactly (reading.values.EXACT) kept aside.
        self._exact = {k: v for k, v in numbers.items() if type(v) is not float and isinstance(v, int)
                       and float(v) != v} or None

    def __getitem__(self, key: str) -> float | int:
        value = self._values[self._index[key]]  # KeyError for a key of no figure
        if value != value:  # NaN: no valid number there
            raise KeyError(key)
        if self._exact and key in self._exact:
            return self._exact[key]
        return value

    def __iter__(self) -> Iterator[str]:
        return (k for k, v in zip(self._keys, self._values) if v == v)

    def __len__(self) -> int:
        return sum(v == v for v in self._values)

    def __repr__(self) -> str:
        return f"FigureValues({dict(self)!r})"


@cache
def _layout(format_id: str) -> tuple[tuple[str, ...], dict[str, int]]:
    from toolkit.formats.spec import get

    keys = tuple(get(format_id).figures)
    return keys, {k: i for i, k in enumerate(keys)}


@dataclass
class FileReport:
    path: str
    sha256: str | None = None
    agency: str | None = None
    year: int | None = None
    format: str | None = None
    read_by: str | None = None  # "names" | "labels" | None
    form: str | None = None  # a published report's form; None for a workbook
    imported: str | None = None  # the workbook its figures were written into
    findings: list[Finding] = field(default_factory=list)
    unreadable: bool = False
    figures: Mapping[str, float] = field(default_factory=dict, repr=False)  # valid numbers
    meta: dict = field(default_factory=dict, repr=False)  # template stamp, if any
    # A published report's figures as published (numbers, or the text when not a number):
    # what `import` writes into the national-format workbook.
    typed: dict = field(default_factory=dict, repr=False)
    locations: dict = field(default_factory=dict, repr=False)  # figure key -> place in the document

    @property
    def errors(self) -> int:
        return sum(f.severity == ERROR for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.severity == WARNING for f in self.findings)

    @property
    def status(self) -> str:
        if self.unreadable:
            return UNREADABLE
        return FAIL if self.errors else PASS

    def to_json(self) -> dict:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "agency": self.agency,
            "stamped_agency": self.meta.get("agency") or None,  # whom the template was made for
            "year": self.year,
            "format": self.format,
            "status": self.status,
            "errors": self.errors,
            "warnings": self.warnings,
            "read_by": self.read_by,
            "form": self.form,
            "imported": self.imported,
            "findings": [f.to_json() for f in self.findings],
        }
