"""The return to use when an agency sent several: one rule (toolkit.outputs.choice), by
what the file says first (its saved time), then the mail's received time, then mtime; a
tie is said to be one.  Shared by the summary, mail and aggregate."""

from __future__ import annotations

import os
import re
import shutil
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import openpyxl

from toolkit.formats.findings import FileReport, Finding
from toolkit.outputs.choice import rank
from toolkit.outputs.coverage import coverage
from toolkit.reading.roster import RosterEntry

AGENCY = "示例县教育局"


def workbook(path: Path, saved: str | None, mtime: float) -> Path:
    """A workbook whose core properties say it was saved at ``saved`` (None: no
    core properties at all), downloaded at ``mtime``."""
    wb = openpyxl.Workbook()
    wb.active["A1"] = path.stem
    wb.save(path)
    with zipfile.ZipFile(path) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    if saved is None:
        parts.pop("docProps/core.xml")
    else:
        parts["docProps/core.xml"] = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + saved.encode(),
                                            parts["docProps/core.xml"])
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    os.utime(path, (mtime, mtime))
    return path


def report(path: Path, status: str = "pass", sha: str | None = None) -> FileReport:
    r = FileReport(path=str(path), sha256=sha or path.name, agency=AGENCY)
    if status == "unreadable":
        r.unreadable, r.findings = True, [Finding.of("F3", detail="…")]
    return r


def names(reports) -> list[str]:
    return [Path(r.path).name for r in reports]


def test_saved_time_beats_download_time(tmp_path):
    """The corrected return was saved later, but downloaded first (older mtime)."""
    first = workbook(tmp_path / "第一次.xlsx", "2026-01-05T01:00:00Z", mtime=2_000_000_000)
    fixed = workbook(tmp_path / "改正后.xlsx", "2026-01-07T08:00:00Z", mtime=1_900_000_000)
    ranked, why = rank([report(first), report(fixed)], path=lambda r: r.path, status=lambda r: r.status)
    assert names(ranked) == ["改正后.xlsx", "第一次.xlsx"]
    local = datetime(2026, 1, 7, 8, tzinfo=timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    assert why == f"文件保存时间最新（{local}）"


def test_equal_saved_times_fall_to_received_then_mtime_and_say_so(tmp_path):
    a = workbook(tmp_path / "a.xlsx", "2026-01-05T01:00:00Z", mtime=1_900_000_000)
    b = workbook(tmp_path / "b.xlsx", "2026-01-05T01:00:00Z", mtime=2_000_000_000)
    args = dict(path=lambda r: r.path, status=lambda r: r.status, sha256=lambda r: r.sha256)
    ranked, why = rank([report(a), report(b)], **args)
    assert names(ranked) == ["b.xlsx", "a.xlsx"] and why.startswith("文件保存时间相同，按文件修改时间最新（")
    received = {"a.xlsx": "2026-01-07T16:00:00+08:00", "b.xlsx": "2026-01-06T09:00:00+08:00"}
    ranked, why = rank([report(a), report(b)], received=received, **args)
    assert names(ranked) == ["a.xlsx", "b.xlsx"]  # the mail says a came later
    assert why.startswith("文件保存时间相同，按邮件收到时间最新（")
    same = workbook(tmp_path / "c.xlsx", "2026-01-05T01:00:00Z", mtime=2_000_000_000)
    ranked, why = rank([report(b), report(same)], **args)
    assert names(ranked) == ["c.xlsx", "b.xlsx"] and why == "文件保存时间相同，按文件名取排在最后的一个"


def test_received_time_when_the_files_say_nothing(tmp_path):
    """No saved time in either (a .xls, a workbook without core properties): the mail
    decides, not the download order."""
    old = workbook(tmp_path / "旧.xlsx", None, mtime=2_000_000_000)
    new = workbook(tmp_path / "新.xlsx", None, mtime=1_900_000_000)
    received = {"旧.xlsx": "2026-01-05T09:30:00+08:00", "新.xlsx": "2026-01-07T16:00:00+08:00"}
    ranked, why = rank([report(old), report(new)], path=lambda r: r.path, status=lambda r: r.status,
                       sha256=lambda r: r.sha256, received=received)
    assert names(ranked) == ["新.xlsx", "旧.xlsx"] and why.startswith("邮件收到时间最新（2026-01-0")


def test_a_readable_return_beats_a_newer_unreadable_one_in_coverage(tmp_path):
    good = workbook(tmp_path / "good.xlsx", "2026-01-05T01:00:00Z", mtime=1_900_000_000)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 cut short")
    cov = coverage([report(good), report(broken, "unreadable")], [RosterEntry(AGENCY)])
    [a] = cov.agencies
    assert a.used.path == str(good) and a.why == "唯一可以读取的文件"
    lines = cov.lines()
    assert lines[2] == f"  {AGENCY}：2 个文件" and lines[5] == "    理由：唯一可以读取的文件"
    assert lines[3].startswith("    采用 good.xlsx（") and lines[4].startswith("    未采用 broken.xlsx（")
    copy = shutil.copy(good, tmp_path / "good_校验意见.xlsx")  # same saved time: the fixed copy wins
    os.utime(copy, (1_800_000_000, 1_800_000_000))
    cov = coverage([report(good), report(Path(copy))], [RosterEntry(AGENCY)])
    assert cov.agencies[0].used.path == str(copy)
    assert cov.agencies[0].why == "文件保存时间相同，采用改过的批注副本"
