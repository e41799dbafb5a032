"""Roster coverage: who on the 单位名单 returned nothing (未报送), who returned more than
one file (重复报送: all listed, one used), and which files come from agencies not on the
roster (名单外).

Matching: a file belongs to the roster entry whose name equals the file's agency name
after toolkit.common.agency.normalize_agency (NFKC, no white space).  A file whose agency could
not be read (unreadable file, blank 单位名称) is matched by its file name instead: the
longest roster name contained in the file name; failing that it is 无法识别单位.

Which file is used when an agency returned several: toolkit.outputs.choice (USED_RULE),
the one rule every command shares; its reason is kept per agency (``why``).

Duplicates are a fact of the returns, not of the roster: ``duplicates`` finds the files of
one agency without a roster too (same agency name, typed or stamped, or the same bytes),
so that every count adds each agency once, as `disclosure aggregate` does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from toolkit.common.agency import normalize_agency
from toolkit.formats.findings import STATUS_ZH, FileReport
from toolkit.outputs.choice import USED_RULE, rank

_MAX_LISTED = 50  # names listed per line in CLI output before "等 N 个"


@dataclass
class AgencyCoverage:
    """One roster entry and the files that came from it (newest first)."""

    entry: object  # toolkit.reading.roster.RosterEntry (name, contact, email, code)
    reports: list[FileReport] = field(default_factory=list)
    by_filename: set[str] = field(default_factory=set)  # paths matched by file name only
    why: str = ""  # why the first report is the one used (choice.rank), "" for one file

    @property
    def name(self) -> str:
        return self.entry.name

    @property
    def used(self) -> FileReport | None:
        return self.reports[0] if self.reports else None

    @property
    def status(self) -> str:
        if not self.reports:
            return "未报送"
        return "重复报送" if len(self.reports) > 1 else "已报送"


@dataclass
class Coverage:
    agencies: list[AgencyCoverage]  # roster order
    outside: list[FileReport]  # agency read, not on the roster (名单外)
    unidentified: list[FileReport]  # no agency read, file name matches no roster name

    @property
    def missing(self) -> list[AgencyCoverage]:
        return [a for a in self.agencies if not a.reports]

    @property
    def submitted(self) -> list[AgencyCoverage]:
        return [a for a in self.agencies if a.reports]

    @property
    def duplicates(self) -> list[AgencyCoverage]:
        return [a for a in self.agencies if len(a.reports) > 1]

    def unused(self) -> set[str]:
        """Paths of files superseded by a newer return of the same agency."""
        return {r.path for a in self.duplicates for r in a.reports[1:]}

    def lines(self) -> list[str]:
        """中文 lines for the command line."""
        n = len(self.agencies)
        out = [f"单位名单共 {n} 个单位：已报送 {len(self.submitted)} 个，未报送 {len(self.missing)} 个"
               f"，重复报送 {len(self.duplicates)} 个；名单外文件 {len(self.outside)} 个"
               + (f"，无法识别单位的文件 {len(self.unidentified)} 个。" if self.unidentified else "。")]
        if self.missing:
            out.append(f"未报送（{len(self.missing)} 个）：" + _listing(a.name for a in self.missing))
        out += duplicate_lines([Duplicate(a.name, a.reports, a.why) for a in self.duplicates]
                               + duplicates(self.outside))
        if self.outside:
            out.append(f"名单外（{len(self.outside)} 个文件）：" + _listing(
                f"{_name(r)}（单位名称：{r.agency}）" for r in self.outside))
        if self.unidentified:
            out.append(f"无法识别单位（{len(self.unidentified)} 个文件）：" + _listing(
                f"{_name(r)}（{STATUS_ZH.get(r.status, r.status)}）" for r in self.unidentified))
        return out


@dataclass
class Duplicate:
    """Several files of one agency found among the returns, the one used first."""

    agency: str
    reports: list[FileReport]
    why: str = ""  # choice.rank's reason for the first

    @property
    def used(self) -> FileReport:
        return self.reports[0]

    def lines(self) -> list[str]:
        """One line per file and one for the reason: an agency's files read down the
        screen, each whole, however long their names."""
        used, rest = self.reports[0], self.reports[1:]
        return [f"  {self.agency}：{len(self.reports)} 个文件",
                f"    采用 {_name(used)}（{_when(used)}）",
                *(f"    未采用 {_name(r)}（{_when(r)}）" for r in rest),
                *([f"    理由：{self.why}"] if self.why else [])]


def duplicates(reports: list[FileReport], received: dict[str, str] | None = None) -> list[Duplicate]:
    """Agencies that returned more than one file, found from the files alone: the same
    agency name (typed or in the template stamp, as normalize_agency reads it) or the
    same bytes.  Files whose agency is unknown are matched by bytes only."""
    parent = list(range(len(reports)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[tuple[str, str], int] = {}
    for i, r in enumerate(reports):
        keys = {("name", n) for n in (normalize_agency(r.agency), normalize_agency(r.meta.get("agency"))) if n}
        if r.sha256:
            keys.add(("bytes", r.sha256))
        for key in keys:
            j = first.setdefault(key, i)
            parent[root(i)] = root(j)
    groups: dict[int, list[FileReport]] = {}
    for i, r in enumerate(reports):
        groups.setdefault(root(i), []).append(r)
    out = []
    for members in groups.values():
        if len(members) > 1:
            ranked, why = rank(members, path=lambda r: r.path, status=lambda r: r.status,
                               sha256=lambda r: r.sha256, received=received)
            name = next((r.agency or r.meta.get("agency") for r in ranked if r.agency or r.meta.get("agency")),
                        _name(ranked[0]))
            out.append(Duplicate(str(name), ranked, why))
    return out


def unused_files(reports: list[FileReport], cov: "Coverage | None" = None) -> set[str]:
    """Paths of the files not used because the same agency's preferred file is used:
    by the roster when there is one (it also matches by file name), else by the files."""
    if cov is not None:
        return cov.unused() | {r.path for d in duplicates(cov.outside) for r in d.reports[1:]}
    return {r.path for d in duplicates(reports) for r in d.reports[1:]}


def duplicate_lines(dups: list[Duplicate]) -> list[str]:
    """中文 lines for the command line: which file of each agency is used."""
    if not dups:
        return []
    return [f"重复报送（{len(dups)} 个单位，{USED_RULE}）：", *(line for d in dups for line in d.lines())]


def coverage(reports: list[FileReport], roster_entries: list, received: dict[str, str] | None = None) -> Coverage:
    """Matches the batch against the roster (see the module notes).  ``received``: sha256
    -> when the mail that brought those bytes was received (from the ledger)."""
    agencies = [AgencyCoverage(e) for e in roster_entries]
    by_name: dict[str, AgencyCoverage] = {}
    for a in agencies:
        by_name.setdefault(normalize_agency(a.name), a)  # a name listed twice: first wins
    names = sorted(by_name, key=len, reverse=True)  # longest first for file-name matching
    outside, unidentified = [], []
    for report in reports:
        agency = normalize_agency(report.agency)
        if agency:
            if agency in by_name:
                by_name[agency].reports.append(report)
            else:
                outside.append(report)
            continue
        stem = normalize_agency(Path(report.path).stem)
        match = next((n for n in names if n and n in stem), None)
        if match is None:
            unidentified.append(report)
        else:
            by_name[match].reports.append(report)
            by_name[match].by_filename.add(report.path)
    for a in agencies:
        a.reports, a.why = rank(a.reports, path=lambda r: r.path, status=lambda r: r.status,
                                sha256=lambda r: r.sha256, received=received)
    return Coverage(agencies, outside, unidentified)


def _mtime(report: FileReport) -> float:
    try:
        return os.stat(report.path).st_mtime
    except OSError:
        return 0.0


def _name(report: FileReport) -> str:
    return Path(report.path).name


def _when(report: FileReport) -> str:
    t = _mtime(report)
    stamp = datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M") if t else "时间未知"
    return f"修改于 {stamp}，{STATUS_ZH.get(report.status, report.status)}"


def _listing(items) -> str:
    items = list(items)
    shown = "、".join(items[:_MAX_LISTED])
    return shown + (f" 等 {len(items)} 个" if len(items) > _MAX_LISTED else "")
