"""pandera schemas derived from a Format.

Three schemas per format, each over a batch frame with one row per returned file and
one column per figure key, run in this order:

- ``values``: the class of what was typed (values.py) — R6.blank, R6.nil, R6.unit …
- ``figures``: each number — R6.negative, R6.fraction, R6.decimals;
- ``sums``: the format's equations R1, R3, R4, R5 (and R7, R8 over ``last.<key>``
  columns when last year's figures are joined in), over the numbers that passed.

Every check is a registered DataFrame-level check that returns a boolean frame of the
input's shape, so pandera's failure cases name the failing cells; each carries its rule
ID as a statistic, so the schemas serialise to YAML (schemas/*.yaml, committed, tested to
match what this module builds) and a failure maps back to the catalogue.
"""

from __future__ import annotations

from importlib.resources.abc import Traversable
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.api.extensions import register_check_method

from toolkit.common.resources import data_dir
from toolkit.formats import kinds, spec
from toolkit.reading.values import ACCEPTED, CLASS_RULES, CODE

# The committed schemas: schemas/ (the data package toolkit.checking.schemadata).
SCHEMAS_DIR = data_dir("toolkit.checking.schemadata", "schemas")
TOLERANCE = kinds.tolerance()  # float noise, far below the last decimal any figure keeps
LAST = "last."


def _by_column(df: pd.DataFrame, columns: list[str], holds) -> pd.DataFrame:
    """True everywhere but in ``columns``, where ``holds`` (numbers -> booleans) decides.
    Built in numpy: setting many columns of a frame one by one costs more than the check."""
    ok = np.ones(df.shape, dtype=bool)
    mask = df.columns.isin(columns)
    if mask.any():
        values = df.to_numpy(dtype="float64")[:, mask]
        with np.errstate(invalid="ignore"):
            ok[:, mask] = holds(values)
    return pd.DataFrame(ok, index=df.index, columns=df.columns)


@register_check_method(statistics=["rule", "classes"], supported_types=pd.DataFrame)
def value_classes(df, *, rule, classes):
    """Each cell's value class (its code in values.CLASSES; -1 where the figure was
    not found) must be one of ``classes``."""
    codes = [CODE[name] for name in classes] + [-1]
    return pd.DataFrame(np.isin(df.to_numpy(), codes), index=df.index, columns=df.columns)


@register_check_method(statistics=["rule", "columns"], supported_types=pd.DataFrame)
def non_negative(df, *, rule, columns):
    return _by_column(df, columns, lambda v: ~(v < 0))


@register_check_method(statistics=["rule", "columns"], supported_types=pd.DataFrame)
def whole_numbers(df, *, rule, columns):
    return _by_column(df, columns, lambda v: np.isnan(v) | (np.floor(v) == v))


@register_check_method(statistics=["rule", "columns", "places"], supported_types=pd.DataFrame)
def max_decimals(df, *, rule, columns, places):
    return _by_column(df, columns, lambda v: np.isnan(v) | (np.round(v * 10**places, 6) % 1 == 0))


def term(token: str) -> tuple[int, str]:
    """An equation's term as the schemas write it ("-p3.open.total") -> (sign, column)."""
    return (-1, token[1:]) if token.startswith("-") else (1, token)


def _side(values: np.ndarray, where: dict[str, int], tokens: list[str]) -> np.ndarray | None:
    """Signed sum of the columns named by ``tokens``; NaN where any of them is NaN."""
    total = np.zeros(len(values), dtype=values.dtype)
    for token in tokens:
        sign, column = term(token)
        if column not in where:
            return None  # e.g. last year's figures not joined: the equation is not checkable
        total += sign * values[:, where[column]]
    return total


@register_check_method(statistics=["rule", "equations"], supported_types=pd.DataFrame)
def equations(df, *, rule, equations):
    """Each equation [anchor, lhs, rhs] holds wherever all its terms are numbers; where
    it fails, its anchor cell is the failing cell.  A sum over a cell that is not a
    number is not checkable, so it never fails here.

    A frame of Python objects (validate.py builds one when a figure is a whole number
    beyond what a float holds exactly) is summed in exact integers."""
    exact = any(dtype == object for dtype in df.dtypes)
    values = df.to_numpy(dtype=object if exact else "float64")
    where = {c: i for i, c in enumerate(df.columns)}
    ok = np.ones(values.shape, dtype=bool)
    for anchor, lhs, rhs in equations:
        left, right = _side(values, where, lhs), _side(values, where, rhs)
        if left is None or right is None or anchor not in where:
            continue
        with np.errstate(invalid="ignore"):
            # NaN (incomplete) compares False; bool() over an object frame's results
            bad = np.asarray(np.abs(left - right) > TOLERANCE, dtype=bool)
        ok[:, where[anchor]] &= ~bad
    return pd.DataFrame(ok, index=df.index, columns=df.columns)


def _token(term: spec.Term) -> str:
    return ("-" if term.sign < 0 else "") + (LAST if term.last_year else "") + term.key


def _columns(fmt: spec.Format, dtype) -> dict[str, pa.Column]:
    """One column per figure; ``dtype`` None accepts floats or exact Python ints.  Not
    required: validate.py hands pandera only the columns its checks need."""
    return {
        f.key: pa.Column(dtype, nullable=True, required=False, title=f.title, description=f"{f.sheet}!{f.area.range} {f.name}")
        for f in fmt.figures.values()
    }


def values_schema(fmt: spec.Format) -> pa.DataFrameSchema:
    checks = [pa.Check.value_classes(rule="R6", classes=list(ACCEPTED))]
    return pa.DataFrameSchema(
        _columns(fmt, "int8"),
        checks=checks,
        name=f"{fmt.id}.values",
        title=f"{fmt.title}（{fmt.document}）：数字格填写的内容",
        description="每格一个值类别（toolkit/values.py 中 CLASSES 的序号，-1 为未找到）；类别到规则：" + "，".join(
            f"{cls}→{rule}" for cls, rule in CLASS_RULES.items()),
        strict=False,
    )


def _last_year_columns(fmt: spec.Format) -> dict[str, pa.Column]:
    keys = sorted({t.key for eq in fmt.equations for t in (*eq.lhs, *eq.rhs) if t.last_year})
    return {LAST + key: pa.Column(None, nullable=True, required=False,
                                  title=f"上年：{fmt.figures[key].title}" if key in fmt.figures else f"上年：{key}")
            for key in keys}


def figures_schema(fmt: spec.Format) -> pa.DataFrameSchema:
    """Each number on its own: R6.negative, R6.fraction, R6.decimals."""
    by_kind: dict[str, list[str]] = {}
    for f in fmt.figures.values():
        by_kind.setdefault(f.kind, []).append(f.key)
    table = [(kind, by_kind[kind.id]) for kind in kinds.kinds().values() if kind.id in by_kind]
    checks = [
        pa.Check.non_negative(rule="R6.negative", columns=[k for kind, keys in table if not kind.signed for k in keys]),
        pa.Check.whole_numbers(rule="R6.fraction", columns=[k for kind, keys in table if kind.whole for k in keys]),
        *(pa.Check.max_decimals(rule="R6.decimals", columns=keys, places=kind.places)
          for kind, keys in table if not kind.whole),
    ]
    return pa.DataFrameSchema(
        _columns(fmt, float),
        checks=checks,
        name=f"{fmt.id}.figures",
        title=f"{fmt.title}（{fmt.document}）：每个数字",
        strict=False,
    )


def sums_schema(fmt: spec.Format) -> pa.DataFrameSchema:
    """The format's equations (R1, R3, R4, R5; R7, R8 over ``last.`` columns).  Run on
    the numbers that passed the figures schema: a sum over a negative or fractional
    count is not checkable, as over a cell that is not a number."""
    rules: dict[str, list] = {}
    for eq in fmt.equations:
        rules.setdefault(eq.rule, []).append(
            [eq.anchor, [_token(t) for t in eq.lhs], [_token(t) for t in eq.rhs]]
        )
    return pa.DataFrameSchema(
        {**_columns(fmt, None), **_last_year_columns(fmt)},
        checks=[pa.Check.equations(rule=rule, equations=eqs) for rule, eqs in rules.items()],
        name=f"{fmt.id}.sums",
        title=f"{fmt.title}（{fmt.document}）：合计与勾稽关系",
        strict=False,
    )


def schema_path(fmt: spec.Format, which: str) -> Traversable:
    return SCHEMAS_DIR / f"{fmt.id}.{which}.yaml"


BUILDERS = {"values": values_schema, "figures": figures_schema, "sums": sums_schema}


def write_all() -> list[Path]:
    """Regenerate schemas/*.yaml from the formats (run after editing workbook_templates/)."""
    if not isinstance(SCHEMAS_DIR, Path):
        raise SystemExit("schemas/ 只能在源代码目录中重新生成（python -m toolkit.checking.schemas）")
    written = []
    for fmt in spec.formats().values():
        for which, build in BUILDERS.items():
            path = schema_path(fmt, which)
            path.parent.mkdir(exist_ok=True)
            path.write_text(build(fmt).to_yaml(), encoding="utf-8")
            written.append(path)
    return written


if __name__ == "__main__":  # python -m toolkit.checking.schemas
    for p in write_all():
        print(p)
