"""A batch of returns: find the files, read them (in a worker pool when there are many),
validate them a chunk at a time.  What is written afterwards is outputs.check's job."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from toolkit.checking import narrative
from toolkit.checking.pool import default_workers, pooled
from toolkit.checking.validate import clean, validate
from toolkit.common import ownership
from toolkit.common.layout import (
    ANNOTATED_DIR,
    ANNOTATED_MARK,
    IMPORTED_DIR,
    OUTBOX,
    SUMMARY_NAME,
)
from toolkit.common.oserrors import why
from toolkit.formats import spec
from toolkit.formats.findings import FigureValues, FileReport, Finding
from toolkit.reading.localfile import not_a_file
from toolkit.reading.published.forms import form_of
from toolkit.reading.published.read import read_published
from toolkit.reading.reader import ReadResult, read_return
from toolkit.reading.values import ACCEPTED
from toolkit.workbook.limits import Limits

SUFFIXES = (".xlsx", ".xlsm", ".xls", ".et")
# Published reports (read by toolkit.reading.published); a file's content decides its form.
PUBLISHED_SUFFIXES = (".pdf", ".docx", ".doc", ".wps", ".html", ".htm", ".mht", ".mhtml", ".txt", ".md")
POOL_THRESHOLD = 8  # fewer files than this are read in-process: a pool costs more
SCREEN = 200  # results screened at a time while the workers read on (check_files)
WAITING = 200  # failing files validated together (pandera's cost is per call, not per file)



def collect(paths: Iterable[str | os.PathLike], *, exclude: Path | None = None) -> list[Path]:
    """Return files named by ``paths`` (folders recursively), in a stable order, each
    once however it was named (relative, absolute, through ``..`` or a link: one file).

    In a folder: Office lock files (~$…) and hidden files are skipped, and so is what the
    toolkit wrote itself (``walk``); ``exclude`` (this run's OUTDIR) needs no special
    case: it is ours.  Links that lead nowhere, FIFOs and devices with a return's
    extension are listed (the reader gives them a verdict, never opens them).  A file
    named directly is taken whatever its extension (its content decides what it is)."""
    found: dict[object, Path] = {}
    for p in map(Path, paths):
        if p.is_dir():
            for f in walk(p):
                if not f.name.startswith(("~$", ".")) and f.suffix.lower() in SUFFIXES + PUBLISHED_SUFFIXES:
                    found.setdefault(identity(f), f)
        else:
            found.setdefault(identity(p), p)
    return list(found.values())


def walk(root: Path) -> Iterator[Path]:
    """Every entry under ``root`` but folders (links and special files included), in a
    stable order, without what the toolkit wrote itself (common.ownership): folders it
    created below ``root`` (an earlier round's OUTDIR, annotated/, outbox/, whatever
    their names) and outputs it made, unchanged (汇总.xlsx, a roll-up).  Templates and
    annotated copies of ours are kept: they come back as returns."""
    for folder, dirs, names in os.walk(root):  # links to folders are not followed
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if not ownership.holds_outputs(here / d))
        for name in sorted(names):
            f = here / name
            if name in (ownership.LEDGER, ownership.LOCK):  # our bookkeeping, not a file to list
                continue
            if ANNOTATED_MARK not in f.stem and ownership.is_our_output(f):
                continue
            yield f


def identity(path: Path) -> object:
    """The same file under any name: its device and inode, else its absolute path."""
    try:
        st = os.stat(path)
    except OSError:
        return os.path.abspath(path)
    return (st.st_dev, st.st_ino)


def _outputs(outdir: Path | None) -> tuple[set[Path], tuple[Path, ...]]:
    """Files and folders a check writes into ``outdir``."""
    if outdir is None:
        return set(), ()
    root = outdir.resolve()
    return {root / SUMMARY_NAME}, (root / ANNOTATED_DIR, root / IMPORTED_DIR, root / OUTBOX)


def _read_one(args) -> ReadResult:
    path, limits, expect_id = args
    expect = spec.get(expect_id) if expect_id else None
    problem = not_a_file(Path(path))  # a FIFO or a device is never opened: no hang
    if problem is not None:
        result = ReadResult(path=str(path))
        result.unreadable = problem
        return result
    try:
        if form_of(Path(path)) is not None:
            return read_published(path, limits=limits, expect=expect)
        return read_return(path, limits=limits, expect=expect)
    except Exception as exc:  # the batch goes on: a bug in reading one file is its verdict
        result = ReadResult(path=str(path))
        result.unreadable = Finding.of("F3", detail=f"读取时出错：{why(exc)}")
        return result


def iter_results(files: list[Path], *, workers: int | None = None, limits: Limits | None = None,
                 expect: spec.Format | None = None,
                 progress: Callable[[int, int], None] | None = None) -> Iterator[ReadResult]:
    """Read every file (in a worker pool when there are many), yielding results in order
    as they come, so that a batch never needs all its results in memory at once."""
    jobs = [(f, limits, expect.id if expect else None) for f in files]
    workers = default_workers(workers)
    if workers <= 1 or len(files) < POOL_THRESHOLD:
        results = map(_read_one, jobs)
    else:  # a worker killed (out of memory) costs its file a verdict, not the batch
        results = pooled(_read_one, jobs, workers=workers, on_killed=_killed,
                         chunksize=max(1, min(32, len(jobs) // (workers * 4))))
    for done, result in enumerate(results, start=1):
        if progress:
            progress(done, len(jobs))
        yield result


def _killed(job) -> ReadResult:
    result = ReadResult(path=str(job[0]))
    result.unreadable = Finding.of("L3", detail="进程被系统终止，可能是内存不足")
    return result


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _report(result: ReadResult, findings: list[Finding]) -> FileReport:
    report = FileReport(path=result.path, sha256=result.sha256, agency=result.agency,
                        year=result.year, format=result.format_id, read_by=result.read_by,
                        meta=result.meta, form=result.form)
    if result.unreadable is not None:
        report.unreadable = True
        report.findings = [result.unreadable]
        return report
    report.findings = [*result.findings, *findings]
    for f in report.findings:
        if f.key in result.locations:
            f.location = result.locations[f.key]
    if result.form is not None:
        report.typed = {k: (v.number if v.accepted else v.shown) for k, v in result.values.items()}
        report.locations = result.locations
        numbers = {k: v.number for k, v in result.values.items() if v.accepted}
        report.findings += narrative.findings(result.format_id, result.claims, numbers)
    report.figures = FigureValues(result.format_id,
                                  {k: v.number for k, v in result.values.items() if v.cls in ACCEPTED})
    return report


def _previous_of(shells: list[FileReport], previous) -> tuple[dict[int, dict], dict[int, str]]:
    """Last year's figures and file name for each report ``previous`` matched, by position."""
    if previous is None:
        return {}, {}
    return ({i: previous.figures_for(shell) for i, shell in enumerate(shells)},
            {i: previous.source_for(shell) for i, shell in enumerate(shells)})


def read_reports(paths: Iterable[str | os.PathLike], *, workers: int | None = None,
                 limits: Limits | None = None, expect: spec.Format | None = None) -> list[FileReport]:
    """Read and validate, no outputs: status and valid figures of every return."""
    return check_files(collect(paths), workers=workers, limits=limits, expect=expect)[0]


def check_files(files: list[Path], *, workers: int | None = None, limits: Limits | None = None,
                expect: spec.Format | None = None, last_year: list[FileReport] | None = None,
                progress: Callable[[int, int], None] | None = None) -> tuple[list[FileReport], object]:
    """Read and validate ``files``: their reports, and how they matched ``last_year``
    (previous.PreviousMatch, or None without it).

    Results are screened a small chunk at a time while the workers read on (validate.clean):
    a file every check passes becomes its report at once; the others wait, ``WAITING``
    of them, to be validated together (a pandera call costs about the same for one file
    or two hundred), the last ones after the last file is read.  Only compact reports
    are kept: memory stays flat in the batch size."""
    from toolkit.checking.previous import match_previous

    reports: list[FileReport | None] = []
    waiting: list[tuple[int, ReadResult, dict, str]] = []  # (slot in reports, result, last year's)
    match = None
    results = iter_results(files, workers=workers, limits=limits, expect=expect, progress=progress)
    for chunk in _chunks(results, SCREEN):
        part, shells = None, []
        if last_year is not None:
            shells = [_report(r, []) for r in chunk]
            part = match_previous(shells, last_year)
            match = part if match is None else match.merged(part)
        prev_figures, prev_source = _previous_of(shells, part)
        for i, (r, ok) in enumerate(zip(chunk, clean(chunk, previous=prev_figures))):
            if ok:
                reports.append(_report(r, []))
            else:
                waiting.append((len(reports), r, prev_figures.get(i, {}), prev_source.get(i, "")))
                reports.append(None)
        if len(waiting) >= WAITING:
            _validate_waiting(reports, waiting)
    _validate_waiting(reports, waiting)
    return reports, match


def _validate_waiting(reports: list[FileReport | None], waiting: list) -> None:
    """Validate the waiting results together and put their reports in their slots."""
    if not waiting:
        return
    results = [r for _, r, _, _ in waiting]
    findings = validate(results, previous={n: w[2] for n, w in enumerate(waiting)},
                        previous_source={n: w[3] for n, w in enumerate(waiting)})
    for (slot, r, _, _), found in zip(waiting, findings):
        reports[slot] = _report(r, found)
    waiting.clear()
