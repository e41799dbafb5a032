"""Annotated copies of a batch: their names (``<stem>_校验意见.xlsx``), which reports get
one and why not, and the copies made, many at a time over a process pool."""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.checking.batch import identity
from toolkit.checking.pool import pooled
from toolkit.common import filenames, ownership
from toolkit.common.atomic import atomic_path
from toolkit.common.layout import ANNOTATED_DIR, ANNOTATED_MARK
from toolkit.common.oserrors import why
from toolkit.formats.findings import UNREADABLE, FileReport, Finding
from toolkit.outputs.annotate.annotated import patch
from toolkit.outputs.annotate.package import PackageError
from toolkit.reading.localfile import sha256_of
from toolkit.workbook.book import vet
from toolkit.workbook.limits import Limits, Unreadable

_MARK_RE = re.compile(re.escape(ANNOTATED_MARK) + r"(_\d+)?$")
_OOXML_SUFFIXES = (".xlsx", ".xlsm")
POOL_THRESHOLD = 8  # fewer copies than this are made in-process: a pool costs more


class AnnotateError(Exception):
    """An annotated copy could not be made; the message is 中文 and names the file."""


# --------------------------------------------------------------------------- names


def annotated_name(original: str | os.PathLike, *, macros: bool | None = None) -> str | None:
    """``<original stem>_校验意见.xlsx`` (``.xlsm`` for a workbook with macros); None for an
    .xls/.et original, which cannot be annotated.  A stem that already ends in 校验意见
    (a returned copy) is not marked twice."""
    path = Path(original)
    suffix = path.suffix.lower()
    if suffix in (".xls", ".et", ".ett", ".xlt"):
        return None
    if macros is None:
        macros = suffix in (".xlsm", ".xltm")
    stem = _MARK_RE.sub("", path.stem)
    return filenames.safe_filename(stem, ANNOTATED_MARK + (".xlsm" if macros else ".xlsx"))


def why_not(report: FileReport) -> str | None:
    """Why no annotated copy is made for ``report`` (中文), or None when one is."""
    if not report.findings:
        return "无需修改"
    if report.status == UNREADABLE:
        return "文件无法读取，未生成批注文件"
    try:
        with open(report.path, "rb") as fh:
            head = fh.read(4)
    except OSError:
        return "原文件已不存在，未生成批注文件"
    if head != b"PK\x03\x04":
        return "旧版 .xls/.et 文件无法批注，请另存为 .xlsx 后重新报送"
    return None


# --------------------------------------------------------------------------- batch


@dataclass
class Annotated:
    """What annotate_all made: report path -> copy, and report path -> 中文 reason for
    every report with findings that got no copy."""

    paths: dict[str, Path] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def for_summary(self) -> dict[str, Path | str]:
        return {**self.skipped, **self.paths}


def annotate_all(reports: list[FileReport], outdir: str | os.PathLike, *,
                 clean: bool = True, workers: int = 1, limits: Limits | None = None) -> Annotated:
    """An annotated copy in OUTDIR/annotated/ for every report with findings.

    Names are made unique within the batch (``_2``…) and never equal an input file.  With
    ``clean``, copies left in that folder by an earlier run and not made now are removed
    (never an input of this batch), so a re-run replaces the previous results.
    ``workers`` > 1 spreads many copies over processes."""
    with annotating(reports, outdir, clean=clean, workers=workers, limits=limits) as pending:
        return pending.result()


@contextmanager
def annotating(reports: list[FileReport], outdir: str | os.PathLike, *, clean: bool = True,
               workers: int = 1, limits: Limits | None = None) -> Iterator[Pending]:
    """annotate_all, started: the copies are made in the background (a process pool
    driven from a thread) while the caller goes on — `disclosure check` writes 汇总.xlsx
    meanwhile from ``pending.planned``; ``pending.result()`` waits for them."""
    pending = _plan(reports, Path(outdir) / ANNOTATED_DIR, clean, limits)
    if workers > 1 and len(pending.jobs) >= POOL_THRESHOLD:
        runner = ThreadPoolExecutor(1, thread_name_prefix="annotate")
        pending.future = runner.submit(lambda: list(pooled(
            _annotate_job, pending.jobs, workers=workers, chunksize=4, on_killed=_killed)))
        try:
            yield pending
        finally:
            runner.shutdown(wait=True)
    else:
        yield pending


@dataclass
class Pending:
    """Copies being made: the names they will have, and the result once made."""

    dest: Path
    clean: bool
    inputs: set[object]  # checking.batch.identity of every report's file
    jobs: list[tuple] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    future: Future | None = None

    @property
    def planned(self) -> dict[str, Path | str]:
        """What Annotated.for_summary() will say if every copy is made."""
        return {**self.skipped, **{job[0].path: job[1] / job[2] for job in self.jobs}}

    def result(self) -> Annotated:
        done = self.future.result() if self.future is not None else list(map(_annotate_job, self.jobs))
        result = Annotated(skipped=dict(self.skipped))
        for (report, *_), (path, error) in zip(self.jobs, done):
            if path is not None:
                result.paths[report.path] = path
            else:
                result.skipped[report.path] = error or "未生成批注文件"
        if self.clean and self.dest.is_dir():
            made = {p.name for p in result.paths.values()}
            for old in self.dest.iterdir():
                if (old.suffix.lower() in _OOXML_SUFFIXES and ANNOTATED_MARK in old.stem
                        and old.name not in made and identity(old) not in self.inputs):
                    ownership.remove(old)  # only a copy of ours, unchanged since written
        return result


def _plan(reports: list[FileReport], dest: Path, clean: bool, limits: Limits | None) -> Pending:
    """Which reports get a copy, under which unique name; why the others get none."""
    # Files are told apart by identity (a stat each), not by resolving every path.
    inputs = {identity(Path(r.path)) for r in reports}
    taken = set()
    if dest.is_dir():  # an input there, or a file that is not ours, keeps its name: ours get another
        taken = {p.name.casefold() for p in dest.iterdir() if identity(p) in inputs or not ownership.is_ours(p)}
    pending = Pending(dest, clean, inputs)
    for report in reports:
        reason = why_not(report)
        if reason is not None:
            if report.findings:
                pending.skipped[report.path] = reason
            continue
        name = annotated_name(report.path, macros=_has_macros(Path(report.path)))
        if name is None:  # an .xls name holding an .xlsx: annotate it as .xlsx
            name = filenames.safe_filename(Path(report.path).stem, ANNOTATED_MARK + ".xlsx")
        pending.jobs.append((report, dest, filenames.unique_name(name, taken), limits))
    return pending


def _killed(job) -> tuple[None, str]:
    return None, f"{Path(job[0].path).name}：生成批注文件时进程被系统终止，可能是内存不足"


def _annotate_job(job) -> tuple[Path | None, str | None]:
    report, dest, name, limits = job
    try:
        return annotate(report, dest, name=name, limits=limits), None
    except AnnotateError as exc:
        return None, str(exc)
    except Exception as exc:  # one bad file must not stop the batch; say which
        return None, f"{Path(report.path).name}：生成批注文件时出错（{why(exc)}）"


def _resolved(path) -> Path:
    try:
        return Path(path).resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop
        return Path(os.path.abspath(path))


def _has_macros(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            return any(n.lower() == "xl/vbaproject.bin" for n in zf.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


# --------------------------------------------------------------------------- one file


def annotate(report: FileReport, dest: str | os.PathLike, *, name: str | None = None,
             limits: Limits | None = None) -> Path | None:
    """Writes the annotated copy of ``report.path`` into the folder ``dest`` (created if
    needed; file name ``name`` or annotated_name()) atomically and returns its path.
    ``dest`` may also be the copy's full path (ending .xlsx/.xlsm).
    None when the original is not an .xlsx/.xlsm workbook (.xls/.et).  The original is
    only read.  Raises AnnotateError (中文) when the workbook cannot be opened or is over
    ``limits`` (the whole file is vetted before any part of it is inflated)."""
    src = Path(report.path)
    if not _vetted(report, src):
        _vet(src, limits)
    try:
        with open(src, "rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise AnnotateError(f"{src.name}：无法读取原文件，未生成批注文件（{why(exc)}）") from None
    if head != b"PK\x03\x04":
        return None
    dest = Path(dest)
    if name is None and dest.suffix.lower() in _OOXML_SUFFIXES and not dest.is_dir():
        dest, name = dest.parent, dest.name  # a file path was given
    if name is None:
        name = annotated_name(src, macros=_has_macros(src)) or filenames.safe_filename(
            src.stem, ANNOTATED_MARK + ".xlsx")
    target = dest / name
    if _resolved(target) == _resolved(src):
        raise AnnotateError(f"{src.name}：批注文件会覆盖原文件，已跳过；请换一个输出目录")
    try:
        with atomic_path(target) as tmp:
            patch(report, src, tmp, limits)
    except PackageError as exc:
        raise AnnotateError(f"{src.name}：无法打开工作簿生成批注文件（{exc}）") from None
    return target


def _vetted(report: FileReport, src: Path) -> bool:
    """The file is the one the check read (same digest): it passed the gate then."""
    if not report.sha256 or report.status == UNREADABLE:
        return False
    try:
        return sha256_of(src) == report.sha256
    except (OSError, Unreadable):
        return False


def _vet(src: Path, limits: Limits | None) -> None:
    """The file's limits (toolkit.workbook.gate), before anything is inflated.  A file
    that is no workbook is left to annotate (None for .xls, 无法打开 for the rest)."""
    try:
        vet(src, limits)
    except Unreadable as exc:
        if exc.code in ("F6", "F7"):
            message = Finding.of(exc.code, detail=exc.detail).message
            raise AnnotateError(f"{src.name}：未生成批注文件（{message}）") from None
    except OSError:
        pass  # said when the file is read
