"""Test helpers: make templates, fill them as an agency would (openpyxl, by defined
name), and generate consistent random figures from the format's own equations."""

from __future__ import annotations

import random
from pathlib import Path

from openpyxl import load_workbook

from toolkit import spec


def fill(src: Path, values: dict[str, object], dest: Path | None = None, *, info: dict | None = None) -> Path:
    """Type ``values`` (figure key -> value as typed) into a copy of ``src`` through the
    defined names, the way an agency's macro or careful clerk would; save as ``dest``."""
    fmt = spec.get()
    wb = load_workbook(src)
    names = {name.lower(): dn for name, dn in wb.defined_names.items()}
    by_key = {f.key: f for fmt_ in spec.formats().values() for f in fmt_.figures.values()}
    fields = {f.key: f for f in fmt.info.fields}
    todo = [(by_key[k].name, v) for k, v in values.items()]
    todo += [(fields[k].name, v) for k, v in (info or {}).items()]
    for name, value in todo:
        sheet, ref = next(names[name.lower()].destinations)
        ws = wb[sheet]
        ws[ref.replace("$", "").split(":")[0]].value = value
    dest = dest or src
    wb.save(dest)
    return dest


def solved_keys(fmt: spec.Format) -> set[str]:
    """The figures ``solve`` computes: each equation's first left-hand term."""
    return {e.lhs[0].key for e in fmt.equations if not e.needs_last_year}


def consistent(fmt: spec.Format, rng: random.Random, high: int = 5) -> dict[str, float]:
    """Random figures satisfying every equation of ``fmt`` (this year's only)."""
    solved = solved_keys(fmt)
    values: dict[str, float] = {}
    for key, f in fmt.figures.items():
        if key in solved:
            continue
        if f.kind == "amount_wan":
            values[key] = round(rng.uniform(0, 100), 4)
        else:
            values[key] = float(rng.randint(0, high))
    return solve(fmt, values)


def solve(fmt: spec.Format, free: dict[str, float]) -> dict[str, float]:
    """Complete ``free`` figures so that every equation holds.

    Each equation is solved for its first left-hand term.  A solved figure that comes
    out negative zeroes the free terms it subtracts."""
    eqs = [e for e in fmt.equations if not e.needs_last_year]
    solved = solved_keys(fmt)
    values = {k: v for k, v in free.items() if k not in solved}
    pending = list(eqs)
    while pending:
        progressed = False
        for e in list(pending):
            target = e.lhs[0]
            terms = [t for t in (*e.lhs[1:], *e.rhs)]
            if not all(t.key in values for t in terms):
                continue
            total = sum(-t.sign * values[t.key] for t in e.lhs[1:]) + sum(t.sign * values[t.key] for t in e.rhs)
            if total < 0:
                for t in (*e.lhs[1:], *e.rhs):
                    contributes = -t.sign if t in e.lhs else t.sign
                    if contributes < 0 and t.key not in solved:
                        values[t.key] = 0.0
                total = sum(-t.sign * values[t.key] for t in e.lhs[1:]) + sum(t.sign * values[t.key] for t in e.rhs)
            values[target.key] = total
            pending.remove(e)
            progressed = True
        if not progressed:
            raise RuntimeError("equations cannot be solved in order")
    return values
