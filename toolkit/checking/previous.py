"""Last year's return of each agency, for the cross-year rules R7 and R8.

A this-year return is matched to last year's by agency: first by the template stamp
(``meta['agency']``, written when the template was issued), then by the 单位名称 the
agency typed; names are compared through :func:`agency.normalize_agency`, so “某某 局”
and “某某局” are one agency.  Unreadable last-year files cannot be used and are said so;
an agency without a previous return is listed, never failed.

The validator joins :meth:`PreviousMatch.figures_for` as ``last.<figure key>`` columns;
an equation whose last-year figure is absent (e.g. R8 against a 2019-format return, whose
part 二 has no 现行有效件数) is simply not checkable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from toolkit.common.agency import normalize_agency
from toolkit.formats import spec
from toolkit.formats.findings import FileReport

BY_META, BY_NAME = "meta", "name"


@dataclass
class Choice:
    """Why one last-year file was used for a this-year return."""

    report: FileReport
    previous: FileReport
    how: str  # BY_META | BY_NAME
    passed_over: list[FileReport] = field(default_factory=list)  # other candidates


@dataclass
class PreviousMatch:
    choices: dict[str, Choice]  # this-year report.path -> choice
    unmatched: list[FileReport]  # this-year reports with no usable previous return
    unusable: list[FileReport]  # last-year files that could not be read
    ignored: list[tuple[FileReport, FileReport]] = field(default_factory=list)
    # (this-year report, last-year candidate) left aside: not of an earlier year

    def merged(self, other: "PreviousMatch") -> "PreviousMatch":
        """This match and one of another chunk of the same batch (same last year)."""
        return PreviousMatch(choices={**self.choices, **other.choices},
                             unmatched=[*self.unmatched, *other.unmatched],
                             unusable=self.unusable,
                             ignored=[*self.ignored, *other.ignored])

    def previous_for(self, report: FileReport) -> FileReport | None:
        choice = self.choices.get(report.path)
        return choice.previous if choice else None

    def figures_for(self, report: FileReport) -> dict[str, float]:
        """Last year's valid figures, keyed like this year's figures ('p3.carry_forward.natural').

        Only keys this year's format also has: across formats a shared key means the same
        figure (gov-2019.yaml), and a key of last year's format alone is of no use."""
        prev = self.previous_for(report)
        if prev is None:
            return {}
        keys = _format_keys(report.format)
        return {k: v for k, v in prev.figures.items() if keys is None or k in keys}

    def source_for(self, report: FileReport) -> str:
        """Last year's file name, for messages (“上年报表 xxx.xlsx”); '' when unmatched."""
        prev = self.previous_for(report)
        return Path(prev.path).name if prev else ""

    def lines_zh(self) -> list[str]:
        lines = [f"上年报表：{len(self.choices)} 个单位找到上年报表，"
                 f"{len(self.unmatched)} 个单位没有上年报表（不影响本年校验结果）。"]
        for choice in self.choices.values():
            if choice.passed_over:
                others = "、".join(Path(p.path).name for p in choice.passed_over)
                lines.append(f"  {_who(choice.report)}：有多份上年报表，采用 "
                             f"{Path(choice.previous.path).name}（{_year_zh(choice.previous)}），"
                             f"未采用 {others}")
        for report in self.unmatched:
            lines.append(f"  没有上年报表：{_who(report)}（{Path(report.path).name}）")
        for report, candidate in self.ignored:
            lines.append(f"  {Path(candidate.path).name} 的年度（{_year_zh(candidate)}）"
                         f"不早于 {Path(report.path).name}（{_year_zh(report)}），未作为上年报表")
        for prev in self.unusable:
            lines.append(f"  上年报表 {Path(prev.path).name} 无法读取，不能用于跨年核对")
        return lines


def _format_keys(format_id: str | None) -> set[str] | None:
    if format_id is None or format_id not in spec.formats():
        return None
    return set(spec.get(format_id).figures)


def _who(report: FileReport) -> str:
    return report.agency or report.meta.get("agency") or Path(report.path).stem


def _year_zh(report: FileReport) -> str:
    return f"{report.year}年度" if report.year else "年度不明"


def _names(report: FileReport) -> list[tuple[str, str]]:
    """(how, normalised name) in the order they are trusted: stamp, then typed."""
    out = []
    for how, name in ((BY_META, report.meta.get("agency")), (BY_NAME, report.agency)):
        key = normalize_agency(name)
        if key and key not in (n for _, n in out):
            out.append((how, key))
    return out


def _rank(candidate: FileReport, year: int | None) -> tuple:
    """Sort key, best first: the year before this one, then the newest year, then name."""
    exact = year is not None and candidate.year == year - 1
    return (not exact, -(candidate.year or 0), Path(candidate.path).name)


def match_previous(reports: list[FileReport], last_year: list[FileReport]) -> PreviousMatch:
    usable = [r for r in last_year if not r.unreadable]
    unusable = [r for r in last_year if r.unreadable]
    index: dict[str, list[FileReport]] = {}
    for prev in usable:
        for _, name in _names(prev):
            index.setdefault(name, []).append(prev)

    choices: dict[str, Choice] = {}
    unmatched: list[FileReport] = []
    ignored: list[tuple[FileReport, FileReport]] = []
    for report in reports:
        found: list[FileReport] = []
        how = BY_META
        for how, name in _names(report):
            found = [p for p in index.get(name, []) if p.path != report.path]
            if found:
                break
        # A return of this year (or later) is not last year's, whatever its name says.
        earlier = [p for p in found
                   if report.year is None or p.year is None or p.year < report.year]
        ignored.extend((report, p) for p in found if p not in earlier)
        if not earlier:
            unmatched.append(report)
            continue
        earlier.sort(key=lambda p: _rank(p, report.year))
        choices[report.path] = Choice(report, earlier[0], how, earlier[1:])
    return PreviousMatch(choices, unmatched, unusable, ignored)
