"""The return to use when an agency sent several: one rule, in one place, used by the
summary's coverage, by `disclosure mail` (no feedback on a file already replaced), by
`disclosure aggregate` and by the ledger's status.

USED_RULE, as said to the office:
1. a return that can be read over one that cannot;
2. the newest, by the first kind of time that every candidate has, in this order: the
   workbook's own saved time (core properties: the agency's last save, whatever the mail
   and the download did), the time the mail that brought it was received (the ledger,
   from `disclosure collect`), the file's modification time (the download time);
3. on equal times: a returned annotated copy (its name ends 校验意见: the agency fixed our
   copy) over an original, then the next kind of time, then the file name (the last in
   name order) — and the reason says it was a tie.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from toolkit.common.layout import ANNOTATED_MARK
from toolkit.formats.findings import UNREADABLE
from toolkit.workbook.savedtime import saved_time

USED_RULE = "采用最新的可读取文件（依次按文件保存时间、邮件收到时间、文件修改时间）"
SOURCES = ("文件保存时间", "邮件收到时间", "文件修改时间")
T = TypeVar("T")


def rank(items: Sequence[T], *, path: Callable[[T], str], status: Callable[[T], str | None],
         sha256: Callable[[T], str | None] = lambda _x: None,
         received: Mapping[str, str] | None = None) -> tuple[list[T], str]:
    """``items`` best first, and why the first is used (中文; "" for a single item)."""
    items = list(items)
    if len(items) < 2:
        return items, ""
    received = received or {}
    readable = [x for x in items if status(x) != UNREADABLE]
    unreadable = [x for x in items if status(x) == UNREADABLE]
    best, why = _ranked(readable, path, sha256, received)
    rest, why_rest = _ranked(unreadable, path, sha256, received)
    if not readable:
        return rest, "都无法读取；" + why_rest
    if len(readable) == 1:
        why = "唯一可以读取的文件"
    return best + rest, why


def _ranked(items: list, path, sha256, received) -> tuple[list, str]:
    if len(items) < 2:
        return items, ""
    times = {id(x): _times(path(x), sha256(x), received) for x in items}
    shared = [i for i in range(len(SOURCES)) if all(times[id(x)][i] is not None for x in items)]

    def key(x):
        t = times[id(x)]
        first = [t[i] for i in shared[:1]]
        later = [t[i] for i in shared[1:]]
        return (*first, ANNOTATED_MARK in Path(path(x)).stem, *later, Path(path(x)).name)

    ordered = sorted(items, key=key, reverse=True)
    return ordered, _why(ordered[0], ordered[1], times, shared, path)


def _why(win, second, times, shared, path) -> str:
    a, b = times[id(win)], times[id(second)]
    if shared and a[shared[0]] != b[shared[0]]:
        return f"{SOURCES[shared[0]]}最新（{_show(a[shared[0]])}）"
    tie = f"{SOURCES[shared[0]]}相同，" if shared else "时间不详，"
    if (ANNOTATED_MARK in Path(path(win)).stem) != (ANNOTATED_MARK in Path(path(second)).stem):
        return tie + "采用改过的批注副本"
    for i in shared[1:]:
        if a[i] != b[i]:
            return tie + f"按{SOURCES[i]}最新（{_show(a[i])}）"
    return tie + "按文件名取排在最后的一个"


def _times(p: str, sha: str | None, received: Mapping[str, str]) -> tuple:
    got = received.get(sha) if sha else None
    try:
        st = os.stat(p)
        mtime = datetime.fromtimestamp(st.st_mtime).astimezone()
        saved = _saved(p, st.st_mtime_ns, st.st_size)
    except (OSError, ValueError):
        mtime = saved = None
    return (saved, datetime.fromisoformat(got) if got else None, mtime)


@lru_cache(maxsize=4096)
def _saved(p: str, _mtime_ns: int, _size: int) -> datetime | None:
    """saved_time, once per version of a file: a check ranks the same duplicates for
    the summary, the ledger and the outbox (the stat keys the version)."""
    return saved_time(p)


def _show(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")
