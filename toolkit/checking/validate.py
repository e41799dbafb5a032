"""Validation of a whole batch with the pandera schemas (schemas.py).

All returns of one format are stacked into one frame, one row per file and one column
per figure, and validated in one call per chunk (of the rows where a check fails: see
_failures): pandera names the failing cells, the catalogue names the rule, and this
module writes the arithmetic a person needs ("本行总计应为 12（自然人 5 + 商业企业 7），
填报为 13").  One wrong figure gives the findings a person would expect: a cell that is
not a number is reported once, and the sums over it are said to be not checkable rather
than wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from operator import attrgetter

import numpy as np
import pandas as pd
import pandera.pandas as pa

from toolkit.checking import schemas
from toolkit.formats import kinds, spec
from toolkit.formats.catalogue import _show, phrase, rule
from toolkit.formats.findings import Finding
from toolkit.reading.reader import ReadResult
from toolkit.reading.values import CLASS_RULES, CODE

_NUMBER = attrgetter("number")
BLANK_CODES = [CODE["blank"], CODE["whitespace"]]
UNFILLED = "R6.unfilled"  # every figure blank: the template came back untouched
CHUNK = 2000  # files per pandera call: memory stays flat in the batch size


@cache
def _schemas(format_id: str) -> tuple[pa.DataFrameSchema, pa.DataFrameSchema, pa.DataFrameSchema]:
    fmt = spec.get(format_id)
    return schemas.values_schema(fmt), schemas.figures_schema(fmt), schemas.sums_schema(fmt)


@cache
def _equations(format_id: str) -> dict[tuple[str, str], spec.Equation]:
    return {(eq.rule, eq.anchor): eq for eq in spec.get(format_id).equations}


@cache
def _touching(format_id: str) -> dict[str, str]:
    """figure key -> what a non-number there leaves unchecked, in words ("；本行总计、
    本列（七）总计暂无法核对"): agencies read it, so never the rules' IDs."""
    fmt = spec.get(format_id)
    touching: dict[str, list[str]] = {}
    for eq in fmt.equations:
        if eq.needs_last_year:
            continue
        what = rule(eq.rule).render_unchecked(**label_fields(fmt.figures[eq.anchor]))
        for key in eq.keys:
            said = touching.setdefault(key, [])
            if what not in said:
                said.append(what)
    return {key: phrase("unchecked", what="、".join(said)) for key, said in touching.items()}


def label_fields(figure: spec.Figure) -> dict[str, str]:
    """The words of a figure's place that messages use: {row}, {column}, {group}."""
    return dict(row=figure.row_label.text, column=figure.column_label.text,
                group=" ".join(figure.column_label.path))


def validate(results: Sequence[ReadResult], *, previous: dict[int, dict[str, float]] | None = None,
             previous_source: dict[int, str] | None = None) -> list[list[Finding]]:
    """Findings on the figures of each result (same order).  ``previous`` maps a result's
    position to last year's figures of the same agency (for R7/R8)."""
    out: list[list[Finding]] = [[] for _ in results]
    for format_id, positions in _groups(results).items():
        for start in range(0, len(positions), CHUNK):
            chunk = positions[start:start + CHUNK]
            _validate_chunk(format_id, results, chunk, out, previous or {}, previous_source or {})
    return out


def clean(results: Sequence[ReadResult], *, previous: dict[int, dict[str, float]] | None = None) -> list[bool]:
    """Which results validate() would give no finding, told by the schemas' own checks
    run on the batch frames (as _failures screens): no pandera call, no message.  A
    batch screens each small chunk as it is read and keeps only the rest for validate():
    pandera's cost is per call, and so it is paid once for a batch's failing files."""
    out = [True] * len(results)
    for format_id, positions in _groups(results).items():
        cls_frame, num_frame = frames(format_id, results, positions, previous or {})
        schemas_ = _schemas(format_id)
        # A template returned untouched is a finding (UNFILLED) even if a format let blanks pass.
        bad = cls_frame.isin(BLANK_CODES).all(axis=1).to_numpy().copy()
        for schema, frame in zip(schemas_, (cls_frame, num_frame, num_frame)):
            bad |= _failing_cells(schema, frame).any(axis=1)
        exact = {i for i, _ in _exact_numbers(format_id, results, positions, previous or {})}
        for i, failing in zip(positions, bad.tolist()):
            out[i] = not failing and i not in exact  # an exact whole number: summed as validate() sums it
    return out


def _groups(results: Sequence[ReadResult]) -> dict[str, list[int]]:
    """Positions of the checkable results, by format."""
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(results):
        if r.unreadable is None and r.format_id and r.checkable:
            groups.setdefault(r.format_id, []).append(i)
    return groups


def frames(format_id: str, results: Sequence[ReadResult], positions: list[int],
           previous: dict[int, dict[str, float]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The batch frames: value classes and numbers, one row per file."""
    fmt = spec.get(format_id)
    keys = list(fmt.figures)
    classes, numbers, code, nan = [], [], CODE, np.nan
    for i in positions:
        row = list(map(results[i].values.get, keys))
        classes.append([-1 if v is None else code[v.cls] for v in row])
        numbers.append([nan if v is None or v.number is None else v.number for v in row])
    index = pd.Index(positions, name="file")
    cls_frame = pd.DataFrame(np.array(classes, dtype=np.int8).reshape(len(positions), len(keys)),
                             index=index, columns=keys)
    num_frame = pd.DataFrame(np.array(numbers, dtype=np.float64).reshape(len(positions), len(keys)),
                             index=index, columns=keys)
    last_keys = [c for c in _schemas(format_id)[2].columns if c.startswith(schemas.LAST)]
    if previous and last_keys:
        last = pd.DataFrame(
            [[previous.get(i, {}).get(c[len(schemas.LAST):], np.nan) for c in last_keys] for i in positions],
            index=index, columns=last_keys, dtype="float64")
        num_frame = pd.concat([num_frame, last], axis=1)
    return cls_frame, num_frame


def _failures(schema: pa.DataFrameSchema, frame: pd.DataFrame, *, screen: bool = True):
    """(position, column, check) for every failing cell, as pandera reports them.

    pandera's cost is mostly per call and per column, not per row, so with ``screen``
    it is handed only the cells where one of the schema's checks fails (the same
    registered functions, schemas.py, run on the same frame, NaN passing as pandera
    lets it) and the columns those checks read to decide them: a chunk where every
    check holds gets no report because it would be empty.  The checks are row by row
    and cell by cell (an equation by its anchor), so the failure cases are the same."""
    if screen:
        bad = _failing_cells(schema, frame)
        rows = bad.any(axis=1)
        if not rows.any():
            return
        needed = _inputs(schema, set(frame.columns[bad.any(axis=0)]))
        frame = frame.loc[rows, [c for c in frame.columns if c in needed]]
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    else:
        return
    for row in cases.itertuples(index=False):
        check = schema.checks[int(row.check_number)] if row.schema_context == "DataFrameSchema" else None
        if check is None:  # column-level (dtype) problems cannot happen: frames are built typed
            raise RuntimeError(f"意外的校验失败：{row}")
        failing = row.failure_case if isinstance(row.failure_case, dict) else {row.column: row.failure_case}
        for column in failing:
            yield int(row.index), column, check


def _failing_cells(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> np.ndarray:
    """Cells where a check of ``schema`` fails (a boolean per cell)."""
    passing_na = frame.isna().to_numpy()
    bad = np.zeros(frame.shape, dtype=bool)
    for check in schema.checks:
        bad |= ~(getattr(schemas, check.name)(frame, **check.statistics).to_numpy(dtype=bool) | passing_na)
    return bad


def _inputs(schema: pa.DataFrameSchema, failing: set[str]) -> set[str]:
    """The columns the checks read to decide the ``failing`` cells: each cell itself, and
    for an equation anchored there, every term (schemas.equations)."""
    needed = set(failing)
    for check in schema.checks:
        for anchor, lhs, rhs in check.statistics.get("equations") or ():
            if anchor in failing:
                needed.update(schemas.term(token)[1] for token in (*lhs, *rhs))
    return needed


def _validate_chunk(format_id, results, positions, out, previous, previous_source) -> None:
    fmt = spec.get(format_id)
    values_schema, figures_schema, sums_schema = _schemas(format_id)
    cls_frame, num_frame = frames(format_id, results, positions, previous)
    exact = _exact_numbers(format_id, results, positions, previous)
    touching = _touching(format_id)

    def blocked(finding: Finding, key: str) -> Finding:
        finding.message += touching.get(key, "")
        return finding

    # A template returned untouched is one finding, not one per figure.
    unfilled = set(cls_frame.index[cls_frame.isin(BLANK_CODES).all(axis=1)])
    for i in unfilled:
        out[i].append(Finding.of(UNFILLED, detail=len(fmt.figures)))
    for i, key, _check in _failures(values_schema, cls_frame):
        if i in unfilled:
            continue
        r = results[i]
        v = r.values[key]
        sheet, cell = r.places[key]
        out[i].append(blocked(Finding.of(CLASS_RULES[v.cls], figure=fmt.figures[key], sheet=sheet, cell=cell,
                                         value=v.shown, expected=v.expected, detail=v.detail), key))

    # A number that breaks R6 (a negative or fractional count) is reported once; the sums
    # over it are not checkable, as over a cell that is not a number.
    sums_frame = _with_exact(num_frame, exact) if exact else num_frame.copy()
    for i, key, check in _failures(figures_schema, num_frame):
        if i in unfilled:
            continue
        r = results[i]
        sheet, cell = r.places[key]
        finding = Finding.of(check.statistics["rule"], figure=fmt.figures[key], sheet=sheet, cell=cell,
                             value=r.values[key].shown)
        if finding.severity == "error":
            sums_frame.at[i, key] = np.nan
            blocked(finding, key)
        out[i].append(finding)

    equations, rows = _equations(format_id), {}
    at = {i: n for n, i in enumerate(sums_frame.index)}
    table, columns = sums_frame.to_numpy(), list(sums_frame.columns)
    for i, key, check in _failures(sums_schema, sums_frame):
        if i in unfilled:
            continue
        r = results[i]
        sheet, cell = r.places[key]
        eq = equations[(check.statistics["rule"], key)]
        row = rows.get(i)
        if row is None:  # a plain dict: a file's figures are read term by term
            row = rows[i] = dict(zip(columns, table[at[i]].tolist()))
        out[i].append(_equation_finding(fmt, eq, row, fmt.figures[key], sheet, cell, row[key],
                                        previous_source.get(i)))
    order = _order(format_id)
    for i in positions:
        out[i].sort(key=lambda f: order.get(f.key, -1))  # template order: part, row, column


def _exact_numbers(format_id, results, positions, previous) -> dict[tuple[int, str], int]:
    """(position, column) -> figure, for the whole numbers a float does not hold exactly
    (values.EXACT); rare, so the float frames stay the fast path."""
    found = {}
    for i in positions:
        values = results[i].values
        if int not in set(map(type, map(_NUMBER, values.values()))):
            continue  # the common case, told at C speed
        for key, v in values.items():
            if isinstance(v.number, int):
                found[(i, key)] = v.number
        for key, number in previous.get(i, {}).items():
            if isinstance(number, int):
                found[(i, schemas.LAST + key)] = number
    return found


def _with_exact(num_frame: pd.DataFrame, exact: dict[tuple[int, str], int]) -> pd.DataFrame:
    """The numbers as Python objects, whole ones as ints, in the rows holding an exact
    figure, so that the equations over them are summed without rounding."""
    frame = num_frame.astype(object)
    for i in {i for i, _ in exact}:
        frame.loc[i] = [int(v) if isinstance(v, float) and v.is_integer() else v for v in frame.loc[i]]
    for (i, column), number in exact.items():
        frame.at[i, column] = number
    return frame


@cache
def _order(format_id: str) -> dict[str, int]:
    return {key: i for i, key in enumerate(spec.get(format_id).figures)}


def _term_name(fmt: spec.Format, eq: spec.Equation, term: spec.Term) -> str:
    # Keyed by strings: hashing the equation itself (tuples of terms) cost more than the name.
    return _term_name_of(fmt.id, eq.rule, eq.anchor, term.key, term.last_year)


@cache
def _term_name_of(format_id: str, rule: str, anchor: str, key: str, last_year: bool) -> str:
    fmt = spec.get(format_id)
    figure = fmt.figures.get(key)
    if figure is None:
        return key
    eq = _equations(format_id)[(rule, anchor)]
    rows = {fmt.figures[t.key].row for t in (*eq.lhs, *eq.rhs) if t.key in fmt.figures}
    # Terms along one row differ by column; along one column, by row.
    label = figure.column_label if len(rows) == 1 else figure.row_label
    return ("上年" if last_year else "") + label.short


def _term_value(row: dict, term: spec.Term) -> float:
    return row[(schemas.LAST if term.last_year else "") + term.key]


def _expr(fmt, eq, terms, row, *, all_terms: bool) -> str:
    parts = []
    for t in terms:
        v = _term_value(row, t)
        if v == 0 and not all_terms:
            continue
        op = " − " if t.sign < 0 else " + "
        parts.append((op, f"{_term_name(fmt, eq, t)} {_show(v)}"))
    if not parts:
        return "各项均为 0"
    text = "".join(op + s for op, s in parts)
    return text[3:] if text.startswith(" + ") else text.lstrip()


def _side_sum(row, terms) -> float:
    return sum(t.sign * _term_value(row, t) for t in terms)


def _solved(value, difference, coef):
    """The anchor's value that makes the equation hold: exact over whole numbers."""
    if isinstance(value, int) and isinstance(difference, int) and difference % coef == 0:
        return value - difference // coef
    return round(value - difference / coef, kinds.places())


def _equation_finding(fmt, eq: spec.Equation, row: dict, figure: spec.Figure, sheet, cell,
                      value, previous: str | None) -> Finding:
    left, right = _side_sum(row, eq.lhs), _side_sum(row, eq.rhs)
    coef = sum(t.sign for t in eq.lhs if t.key == eq.anchor and not t.last_year) - sum(
        t.sign for t in eq.rhs if t.key == eq.anchor and not t.last_year)
    expected = _solved(value, left - right, coef)
    # The arithmetic behind the expected value: the other terms, moved to the anchor's
    # far side (a term on the anchor's own side changes sign).
    anchor_left = any(t.key == eq.anchor and not t.last_year for t in eq.lhs)
    others = [
        spec.Term(t.key, -t.sign if on_left == anchor_left else t.sign, t.last_year)
        for on_left, side in ((True, eq.lhs), (False, eq.rhs))
        for t in side
        if t.key != eq.anchor or t.last_year
    ]
    fields = dict(
        expr=_expr(fmt, eq, others, row, all_terms=len(others) <= 4),
        lhs_expr=_expr(fmt, eq, eq.lhs, row, all_terms=True),
        rhs_expr=_expr(fmt, eq, eq.rhs, row, all_terms=True),
        lhs_sum=_show(left),
        rhs_sum=_show(right),
        previous=previous or "",
        **label_fields(figure),
    )
    return Finding.of(eq.rule, figure=figure, sheet=sheet, cell=cell, value=value, expected=expected, **fields)
