"""Excel formulas derived from the format's equations: the template's live checks
(conditional formats that turn a disagreeing total red while the agency types)."""

from __future__ import annotations

from xlsxwriter.utility import quote_sheetname

from toolkit.common.a1 import ref_of
from toolkit.formats import spec


def absolute_ref(sheet: str, area: spec.Area, *, whole: bool = True, other_sheet: bool = True,
                 relative: bool = False) -> str:
    """``'sheet'!$B$7`` (``$B$7:$D$7`` with ``whole`` and a merged area; no ``$`` with
    ``relative``; no sheet with ``other_sheet=False``)."""
    absolute = not relative
    ref = ref_of(area.min_row, area.min_col, absolute)
    if whole and area.is_merged:
        ref += ":" + ref_of(area.max_row, area.max_col, absolute)
    return f"{quote_sheetname(sheet)}!{ref}" if other_sheet else ref


def join_areas(areas: list[spec.Area]) -> list[spec.Area]:
    """Runs of adjacent single cells (down a column or along a row) joined as ranges."""
    out: list[spec.Area] = []
    run: list[spec.Area] = []

    def flush() -> None:
        if run:
            out.append(spec.Area(run[0].min_col, run[0].min_row, run[-1].max_col, run[-1].max_row))

    for a in areas:
        if run and not a.is_merged and not run[-1].is_merged and (
            (a.min_col == run[-1].min_col and a.min_row == run[-1].min_row + 1
             and all(x.min_col == a.min_col for x in run))
            or (a.min_row == run[-1].min_row and a.min_col == run[-1].min_col + 1
                and all(x.min_row == a.min_row for x in run))
        ):
            run.append(a)
            continue
        flush()
        run = [a]
    flush()
    return out


def _runs(fmt: spec.Format, terms: list[spec.Term]) -> list[tuple[str, spec.Area]]:
    """The cells of ``terms`` as (sheet, area), adjacent cells of one sheet joined."""
    out: list[tuple[str, spec.Area]] = []
    i = 0
    while i < len(terms):
        sheet = fmt.figures[terms[i].key].sheet
        j = i
        while j < len(terms) and fmt.figures[terms[j].key].sheet == sheet:
            j += 1
        out.extend((sheet, a) for a in join_areas([fmt.figures[t.key].area for t in terms[i:j]]))
        i = j
    return out


def _formula(fmt: spec.Format, eq: spec.Equation, ref) -> str:
    """TRUE when ``eq`` fails with all its figures filled in; ``ref(sheet, area)`` spells
    each reference."""

    def side(terms: tuple[spec.Term, ...]) -> str:
        plus = [t for t in terms if t.sign > 0]
        minus = [t for t in terms if t.sign < 0]
        expr = f"SUM({','.join(ref(s, a) for s, a in _runs(fmt, plus))})" if plus else "0"
        if minus:
            expr += f"-SUM({','.join(ref(s, a) for s, a in _runs(fmt, minus))})"
        return expr

    # Only when every figure of the equation is a number (COUNT = n), as the batch check:
    # a blank or a word in one of them makes the sum not checkable, not wrong.
    terms = [*eq.lhs, *eq.rhs]
    every = ",".join(ref(s, a) for s, a in _runs(fmt, terms))
    n = len({t.key for t in terms})
    return f"AND(COUNT({every})={n},ROUND({side(eq.lhs)}-({side(eq.rhs)}),4)<>0)"


def equation_formula(fmt: spec.Format, eq: spec.Equation, sheet: str, *, relative: bool = False) -> str:
    """Excel formula (without “=”) that is TRUE when ``eq`` fails, e.g.
    ``AND(COUNT($J$5,$D$5:$I$5)=7,ROUND(SUM($J$5)-(SUM($D$5:$I$5)),4)<>0)``; references on ``sheet`` are unqualified,
    and relative to the anchor with ``relative``."""
    return _formula(fmt, eq, lambda s, a: absolute_ref(s, a, other_sheet=s != sheet, relative=relative))


def live_checks(fmt: spec.Format, part_key: str) -> list[tuple[list[spec.Area], str]]:
    """The conditional formats of a part: (anchor areas, formula without “=”).  Equations
    of one rule whose formulas are the same up to a shift (R3 on every row, R4 on every
    column…) share one rule with relative references, written for the first anchor; this
    keeps the file small and quick to write."""
    groups: dict[tuple, list[spec.Equation]] = {}
    for eq in fmt.equations:
        anchor = fmt.figures[eq.anchor]
        if eq.needs_last_year or anchor.part != part_key:
            continue
        a = anchor.area

        def offset(s: str, area: spec.Area, a=a) -> str:
            return f"{s}!R[{area.min_row - a.min_row}]C[{area.min_col - a.min_col}]:" \
                   f"R[{area.max_row - a.min_row}]C[{area.max_col - a.min_col}]"

        shape = (eq.rule, anchor.sheet, a.is_merged, _formula(fmt, eq, offset))
        groups.setdefault(shape, []).append(eq)
    out = []
    for (_, sheet, merged, _), eqs in groups.items():
        anchors = sorted((fmt.figures[e.anchor].area for e in eqs), key=lambda x: (x.min_row, x.min_col))
        first = anchors[0]
        # Excel reads a rule's relative references from the top-left of its ranges.
        shared = len(anchors) > 1 and not merged and all(
            x.min_row >= first.min_row and x.min_col >= first.min_col for x in anchors)
        if shared:
            eq = min(eqs, key=lambda e: (fmt.figures[e.anchor].area.min_row, fmt.figures[e.anchor].area.min_col))
            out.append((anchors, equation_formula(fmt, eq, sheet, relative=True)))
        else:
            out.extend(([fmt.figures[e.anchor].area], equation_formula(fmt, e, sheet)) for e in eqs)
    return out
