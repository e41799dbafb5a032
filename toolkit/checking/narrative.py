"""Text against table (P4, a warning): each figure part 一 of a published report states
in words (reading.published.wording.claims, patterns from the format data) against the
sum of the figures the format data names.  Nothing is judged when a figure is not a
valid number (its own finding says why)."""

from __future__ import annotations

from toolkit.formats import spec
from toolkit.formats.findings import Finding


def findings(format_id: str, claims: list[dict], numbers: dict[str, float]) -> list[Finding]:
    fmt = spec.get(format_id)
    out, seen = [], set()
    for claim in claims:
        keys = [k for k in claim["figures"] if k in fmt.figures]
        if not keys or any(k not in numbers for k in keys):
            continue
        table = sum(numbers[k] for k in keys)
        if table == claim["n"] or (claim["name"], claim["n"]) in seen:
            continue
        seen.add((claim["name"], claim["n"]))
        found = Finding.of("P4", figure=fmt.figures[keys[0]], value=claim["n"], expected=table,
                           label=claim["name"], detail=claim["words"])
        found.location = claim["where"]
        out.append(found)
    return out
