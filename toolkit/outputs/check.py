"""`disclosure check` end to end: the batch (checking.batch), then the outputs.

OUTDIR after a run (names in common.layout):
  findings.json                     the stable interface (README), written LAST (findings_json.py)
  imported/<name>_<form>.xlsx       a published report's figures in its format's workbook
                                    (imported.py); its annotated copy is made from this
  annotated/<name>_校验意见.xlsx     one per file with findings (annotate.py)
  汇总.xlsx                          the summary (summary.py)
A run first removes findings.json, so a run killed midway leaves nothing a rerun or
`disclosure mail` would trust; every output is written atomically (common.atomic).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from toolkit.checking.batch import _outputs, check_files, collect, read_reports  # noqa: F401  (the API of a check)
from toolkit.checking.others import sort_out
from toolkit.checking.pool import default_workers
from toolkit.common import lock, ownership
from toolkit.common.display import encodable
from toolkit.common.layout import (
    ANNOTATED_DIR,
    FINDINGS_JSON,
    IMPORTED_DIR,
    OUTBOX,
    SUMMARY_NAME,
)
from toolkit.common.paths import absolute
from toolkit.formats import spec
from toolkit.formats.findings import FileReport
from toolkit.outputs import findings_json
from toolkit.workbook.limits import Limits


@dataclass
class Batch:
    reports: list[FileReport]
    outdir: Path | None = None
    previous: object = None  # previous.PreviousMatch when --previous was given
    coverage: object = None  # coverage.Coverage when --roster was given
    annotated: dict[str, Path] = field(default_factory=dict)  # report.path -> copy
    summary: Path | None = None
    progress: object = None  # status.Progress from the ledger, when one is kept
    others: list = field(default_factory=list)  # others.Other: files not checked, with a verdict
    against: list[str] | None = None  # 中文 lines of the published-vs-approved match (--against)

    @property
    def duplicates(self) -> list:
        """Agencies with more than one file (coverage.Duplicate), with or without a roster."""
        from toolkit.outputs.coverage import Duplicate, duplicates

        if self.coverage is not None:
            return ([Duplicate(a.name, a.reports, a.why) for a in self.coverage.duplicates]
                    + duplicates(self.coverage.outside))
        return duplicates(self.reports)

    def unused(self) -> set[str]:
        """Paths of files another file of the same agency replaces."""
        from toolkit.outputs.coverage import unused_files

        return unused_files(self.reports, self.coverage)

    @property
    def ok(self) -> bool:
        """Every file used passes (`check` exits 0): a file its agency replaced with a
        newer one (unused()) is shown, but no longer needs fixing."""
        unused = self.unused()
        return all(r.status == "pass" for r in self.reports if r.path not in unused)


def run(paths: Iterable[str | os.PathLike], outdir: str | os.PathLike | None, *,
        workers: int | None = None, roster: str | os.PathLike | None = None,
        previous: Iterable[str | os.PathLike] | None = None, limits: Limits | None = None,
        expect: spec.Format | None = None, annotate: bool = True,
        progress: Callable[[int, int], None] | None = None, ledger=None,
        against: Iterable[str | os.PathLike] | None = None) -> Batch:
    """Check every return under ``paths``; write findings.json, annotated copies and
    汇总.xlsx into ``outdir`` (none when ``outdir`` is None); record the verdicts in
    ``ledger`` (a toolkit.ledger.Ledger) when given; compare published reports with the
    approved returns under ``against`` (checking.against)."""
    outdir = Path(outdir) if outdir is not None else None
    with lock.locked(outdir) if outdir is not None else contextlib.nullcontext():
        if outdir is not None:
            prepare(outdir)
            ownership.remove(outdir / FINDINGS_JSON)
        return _run(paths, outdir, workers=workers, roster=roster, previous=previous, limits=limits,
                    expect=expect, annotate=annotate, progress=progress, ledger=ledger, against=against)


def prepare(outdir: Path) -> None:
    """Before anything is read: OUTDIR writable, and no output of ours would replace a
    file we did not make (ownership.Refused otherwise); temporaries of a killed run of
    ours swept from our own folders only."""
    ownership.writable_folder(outdir)
    for name in (FINDINGS_JSON, SUMMARY_NAME):
        ownership.claim(outdir / name)
    for folder in (outdir, outdir / ANNOTATED_DIR, outdir / IMPORTED_DIR, outdir / OUTBOX):
        ownership.sweep(folder)


def _run(paths, outdir, *, workers, roster, previous, limits, expect, annotate, progress, ledger,
         against) -> Batch:
    last_year = None
    if previous:
        last_year = read_reports(list(previous), workers=workers, limits=limits)
    files = collect(paths, exclude=outdir)
    extra, others = sort_out(paths, files, _outputs(outdir))
    files += extra
    reports, match = check_files(files, workers=workers, limits=limits, expect=expect,
                                 last_year=last_year, progress=progress)
    batch = Batch(reports=reports, outdir=outdir, previous=match, others=others)
    if against:
        from toolkit.checking.against import compare

        batch.against = compare(reports, read_reports(list(against), workers=workers, limits=limits))

    if roster is not None:
        from toolkit.outputs.coverage import coverage
        from toolkit.reading.roster import read_roster

        entries = read_roster(roster)
        received = ledger.received(r.sha256 for r in batch.reports if r.sha256) if ledger is not None else None
        batch.coverage = coverage(batch.reports, entries, received)
        if ledger is not None:
            ledger.record_roster(entries)
    if ledger is not None:
        from toolkit.outputs.status import progress

        record(ledger, batch)
        if ledger.agencies():
            batch.progress = progress(ledger)
    if outdir is not None:
        write_outputs(batch, annotate=annotate, workers=workers, limits=limits)
    return batch


def record(ledger, batch: Batch) -> int:
    """The check's verdicts and findings into the ledger, in one transaction.  A file's
    agency is its roster name when the roster matched it; files an agency replaced are
    recorded as not used."""
    agency_of, unused, why = {}, batch.unused(), {}
    if batch.coverage is not None:
        for a in batch.coverage.agencies:
            agency_of.update(dict.fromkeys((r.path for r in a.reports), a.name))
            if a.used is not None and a.why:
                why[a.used.path] = a.why
    # A path that is not UTF-8 is stored with \udcxx escapes (SQLite text is UTF-8).
    verdicts = [dict(path=encodable(str(absolute(r.path))), sha256=r.sha256, agency=agency_of.get(r.path, r.agency),
                     status=r.status, errors=r.errors, warnings=r.warnings, used=r.path not in unused,
                     why=why.get(r.path),
                     findings=[f.to_json() for f in r.findings]) for r in batch.reports]
    return ledger.record_check(encodable(str(absolute(batch.outdir))) if batch.outdir else None, verdicts)


def write_outputs(batch: Batch, *, annotate: bool = True, workers: int | None = None,
                  limits: Limits | None = None) -> None:
    """Imported workbooks, annotated copies and 汇总.xlsx, then findings.json.  The copies
    are made in worker processes while this process writes 汇总.xlsx with the names they
    will have; in the rare case a copy could not be made, 汇总.xlsx is written again."""
    from toolkit.outputs.annotate.batch import annotating
    from toolkit.outputs.imported import import_all

    outdir = batch.outdir
    imported = import_all(batch.reports, outdir)
    if not annotate:
        batch.summary = _summary(batch, None)
        findings_json.write(batch)
        return
    # A published report is annotated through its imported workbook.
    shadows = [replace(r, path=str(imported[r.path])) if r.path in imported else r for r in batch.reports]
    back = {str(p): original for original, p in imported.items()}
    with annotating(shadows, outdir, workers=default_workers(workers), limits=limits) as pending:
        planned = {back.get(k, k): v for k, v in pending.planned.items()}
        batch.summary = _summary(batch, planned)
        made = pending.result()
    made.paths = {back.get(k, k): v for k, v in made.paths.items()}
    made.skipped = {back.get(k, k): v for k, v in made.skipped.items()}
    batch.annotated = made.paths
    if made.for_summary() != planned:
        batch.summary = _summary(batch, made.for_summary())
    findings_json.write(batch)


def _summary(batch: Batch, annotated: dict | None) -> Path:
    from toolkit.outputs.summary import write_summary

    return write_summary(batch.reports, batch.outdir, coverage=batch.coverage, annotated=annotated,
                         progress=batch.progress)
