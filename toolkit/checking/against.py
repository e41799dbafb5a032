"""Published against approved (P6, an error): `check 年报… --against 报表…` matches each
published report to its agency's approved return by 单位名称 (compared as labels are:
spaces and full/half width aside) and year, and names every figure that differs, with
both values.  The approved return is the one that passed the check (else the last one
read of that agency and year)."""

from __future__ import annotations

import math
from pathlib import Path

from toolkit.formats import spec
from toolkit.formats.findings import FileReport, Finding
from toolkit.reading.locate import normalize_label


def compare(reports: list[FileReport], approved: list[FileReport]) -> list[str]:
    """Adds P6 findings to the published reports; returns 中文 lines on what matched."""
    index: dict[tuple[str, int], FileReport] = {}
    for a in approved:
        if a.unreadable or not a.agency or a.year is None or a.form is not None:
            continue
        key = (normalize_label(a.agency), a.year)
        if key not in index or a.status == "pass" or index[key].status != "pass":
            index[key] = a
    lines, matched = [], 0
    for r in reports:
        if r.form is None or r.unreadable:
            continue
        name = Path(r.path).name
        a = index.get((normalize_label(r.agency or ""), r.year)) if r.agency and r.year else None
        if a is None:
            lines.append(f"{name}（{r.agency or '单位名称未读出'}，{r.year or '年度未读出'}）：没有找到对应的审定报表，未比对")
            continue
        if a.format != r.format:
            lines.append(f"{name}：审定的报表 {Path(a.path).name} 与年报格式不同，未比对")
            continue
        matched += 1
        r.findings += differences(r, a)
    lines.insert(0, f"与审定的报表比对：{matched} 份年报找到了对应的报表。")
    return lines


def differences(published: FileReport, approved: FileReport) -> list[Finding]:
    fmt = spec.get(published.format)
    source = f"{Path(approved.path).name}"
    out = []
    for key, figure in fmt.figures.items():
        want = approved.figures.get(key)
        if want is None:
            continue  # not a valid number in the approved return: nothing to compare with
        got = published.typed.get(key)
        if isinstance(got, (int, float)) and not isinstance(got, bool) and math.isclose(got, want, abs_tol=1e-9):
            continue
        found = Finding.of("P6", figure=figure, value=got if got is not None else "（空）", expected=want,
                           detail=source)
        found.location = published.locations.get(key)
        out.append(found)
    return out
