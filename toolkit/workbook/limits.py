"""Limits on what reading one returned workbook may cost, and the verdict for a file that
cannot be read.

Every limit is a field of :class:`Limits`; the defaults suit the annual-report template
(a few sheets, a few hundred cells, well under 1 MB) with a wide margin, and every one can
be overridden (``Limits(max_file_mb=50)``).  A file over a limit gets the verdict F6 with
a 中文 detail naming the limit and the value found.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


class Unreadable(Exception):
    """The file cannot be read as a workbook.

    ``code`` is a file verdict of workbook_templates/rules.yaml (F1–F9); ``detail`` is a
    short 中文 phrase that fills ``{detail}`` in that rule's message."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


MB = 1024 * 1024


@dataclass
class Limits:
    """What reading one file may cost.  All fields are overridable.

    max_file_mb
        Largest file accepted, in MB (default 20).  Checked before anything is read.
    max_uncompressed_mb
        Most bytes one .xlsx may inflate to, in MB (default 100).  Checked on the whole
        file when it is opened, before any reader touches it (toolkit.workbook.gate):
        each member's declared size, the sum of all members' declared sizes, and the sum
        over the sheet entries of the part each points at.  Checked again while our
        reader inflates, against the bytes really produced (a member that inflates past
        its declared size is refused at once as a zip bomb).
    max_ratio
        Largest compression ratio declared for one member (default 100, i.e. 100:1),
        checked at open for every member declared larger than ``ratio_min_mb``, whether
        or not our reader reads it.
    ratio_min_mb
        Members declared at most this large (default 1 MB) are not ratio-checked: small
        XML parts legitimately compress well, and cost nothing.
    max_zip_entries
        Most members in the zip's central directory (default 10,000; a template has ~20).
    max_sheets
        Most sheet entries in the workbook (default 255; the template has five).
    max_rows
        Most sheet rows one scan may pass (default 100,000).  A scan stops as soon as the
        last row asked for has passed, so this only bites when a cell far down is asked
        for; a sheet with a million rows is read in bounded time when the figures sit at
        the top.
    max_cells
        Most cells one scan may pass (default 1,000,000), and most cells in one row
        (16,384, Excel's own column limit, is fixed).
    max_strings
        Most shared strings parsed (default 1,000,000).  Shared strings are parsed
        lazily, only up to the highest index a read cell refers to.
    max_seconds
        Wall-clock seconds one file may take, from open_book to the last read (default
        20).  Checked cooperatively while inflating and parsing (every 16–64 KB).  The
        .xls reader (xlrd) cannot be interrupted; its cost is bounded by max_file_mb.
        A published report's parsers (pdfplumber, python-docx, lxml) are stopped by a
        timer (``time_limit``) besides a check between PDF pages.
    one_pass_max
        Parts (sheets, shared strings, custom properties) up to this many bytes are read
        in one pass: inflated whole, checked by expat, taken apart with regexes (default
        256 KB; -1 streams every part through expat handlers, which gives the same
        answers: tests run both, bench/bench_onepass.py measures what it buys).
    one_pass_budget
        Most sheet bytes one book indexes whole that way (default 4 MB); further sheets
        are streamed, so memory stays bounded.
    """

    max_file_mb: float = 20
    max_uncompressed_mb: float = 100
    max_ratio: float = 100
    ratio_min_mb: float = 1
    max_zip_entries: int = 10_000
    max_sheets: int = 255
    max_rows: int = 100_000
    max_cells: int = 1_000_000
    max_strings: int = 1_000_000
    max_seconds: float = 20
    one_pass_max: int = 256 * 1024
    one_pass_budget: int = 4 * 1024 * 1024

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * MB)

    @property
    def max_uncompressed_bytes(self) -> int:
        return int(self.max_uncompressed_mb * MB)

    def deadline(self) -> "Deadline":
        return Deadline(self.max_seconds)


class Deadline:
    """A cooperative time budget: ``check()`` raises F6 once it has run out."""

    __slots__ = ("seconds", "end")

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.end:
            raise Unreadable("F6", f"处理时间超过 {fmt_number(self.seconds)} 秒")


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """F6 once ``seconds`` have passed, even inside a library's own loop that checks no
    Deadline (pdfminer parses a page in Python for as long as the page takes): a SIGALRM
    timer.  Only on the main thread of a process that has one and sets no timer of its
    own; elsewhere nothing happens here (the cooperative checks still apply)."""
    if (not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread()
            or signal.getitimer(signal.ITIMER_REAL)[0] > 0):
        yield
        return
    done = False

    def expired(_signum, _frame):
        if not done:  # the timer may fire while it is being stopped: nothing left to stop
            raise Unreadable("F6", f"处理时间超过 {fmt_number(seconds)} 秒")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        done = True
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL if previous is None else previous)  # None: set in C


def fmt_number(x: float) -> str:
    """20 -> '20', 0.5 -> '0.5' (for messages)."""
    return f"{x:g}"


def fmt_mb(n_bytes: int | float) -> str:
    """18,425 bytes -> '0.0176 MB', 25 MB -> '25.0 MB': never '0.0 MB' beside a limit
    set below 1 MB."""
    mb = n_bytes / MB
    return f"{mb:,.1f} MB" if mb >= 1 else f"{mb:.3g} MB"
