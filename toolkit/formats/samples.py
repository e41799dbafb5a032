"""Sample figures shipped with the toolkit: the seed report's real figures, used by the
demo and the tests (a user's machine has no ../shared)."""

from __future__ import annotations

from functools import cache
import yaml

from toolkit.common.resources import package_file
from toolkit.formats import kinds, spec


@cache
def _seed() -> dict:
    return yaml.safe_load(package_file("data", "seed_zhangshu_2023.yaml").read_text(encoding="utf-8"))


def seed_agency() -> tuple[str, int]:
    data = _seed()
    return data["agency"], data["year"]


def seed_format() -> str:
    """The id of the format the seed report is in."""
    return _seed()["format"]


def seed_figures() -> dict[str, object]:
    """Every figure of the seed report, keyed like spec figures, as the agency typed it."""
    data = _seed()
    fmt = spec.get(data["format"])
    return {key: data["figures"].get(key, data["others"]) for key in fmt.figures}


def type_figures(src, values: dict[str, object], dest=None, *, info: dict[str, object] | None = None):
    """Type figures into a copy of a template the way an agency does it: open it
    (openpyxl), put each value as typed into the cell its defined name points at, save.
    ``values``: figure key -> value as typed; ``info``: agency-block field key -> value."""
    from openpyxl import load_workbook

    wb = load_workbook(src)
    names = {name.lower(): dn for name, dn in wb.defined_names.items()}
    by_key = {f.key: f.name for fmt in spec.formats().values() for f in fmt.figures.values()}
    by_key.update({f"info.{f.key}": f.name for fmt in spec.formats().values() for f in fmt.info.fields})
    todo = [*values.items(), *((f"info.{k}", v) for k, v in (info or {}).items())]
    for key, value in todo:
        sheet, ref = next(names[by_key[key].lower()].destinations)
        wb[sheet][ref.replace("$", "").split(":")[0]].value = value
    dest = dest or src
    wb.save(dest)
    return dest


def consistent(fmt: spec.Format, rng, high: int = 5) -> dict[str, float]:
    """Random figures satisfying every equation of ``fmt`` (this year's only)."""
    solved = solved_keys(fmt)
    values: dict[str, float] = {}
    for key, f in fmt.figures.items():
        if key in solved:
            continue
        kind = kinds.kind(f.kind)
        if not kind.whole:
            values[key] = round(rng.uniform(0, 100), kind.places)
        else:
            values[key] = float(rng.randint(0, high))
    return solve(fmt, values)


def solved_keys(fmt: spec.Format) -> set[str]:
    """The figures ``solve`` computes: each equation's first left-hand term."""
    return {e.lhs[0].key for e in fmt.equations if not e.needs_last_year}


def solve(fmt: spec.Format, free: dict[str, float]) -> dict[str, float]:
    """Complete ``free`` figures so that every equation of ``fmt`` holds.

    Each equation is solved for its first left-hand term, in the order the terms become
    known.  A solved figure that would come out negative zeroes the free terms it
    subtracts first."""
    eqs = [e for e in fmt.equations if not e.needs_last_year]
    solved = solved_keys(fmt)
    values = {k: v for k, v in free.items() if k not in solved}

    def rest(e):
        return sum(-t.sign * values[t.key] for t in e.lhs[1:]) + sum(t.sign * values[t.key] for t in e.rhs)

    pending = list(eqs)
    while pending:
        ready = [e for e in pending if all(t.key in values for t in (*e.lhs[1:], *e.rhs))]
        if not ready:
            raise ValueError("the equations cannot be solved in order")
        for e in ready:
            if rest(e) < 0:
                for t in (*e.lhs[1:], *e.rhs):
                    subtracts = (-t.sign if t in e.lhs else t.sign) < 0
                    if subtracts and t.key not in solved:
                        values[t.key] = 0.0
            values[e.lhs[0].key] = rest(e)
            pending.remove(e)
    return values
