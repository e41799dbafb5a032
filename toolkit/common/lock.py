"""One run at a time per output folder: an exclusive flock on a lock file of ours.

Two checks (or a check and a mail) into one OUTDIR would interleave their outputs, so
the second waits up to WAIT seconds for the first, then refuses (Busy, a 中文 message;
the commands exit 2).  The lock goes with the process (the kernel drops it on exit or
kill), so a killed run never leaves the folder locked.  Issue 15's ledger may take it over."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from pathlib import Path

from toolkit.common import ownership

LOCK_NAME = ownership.LOCK
WAIT = 5.0  # seconds


class Busy(ownership.Refused):
    """Another run holds the folder."""


@contextlib.contextmanager
def locked(folder: str | os.PathLike, *, wait: float | None = None):
    folder = ownership.writable_folder(folder)
    fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        deadline = time.monotonic() + (WAIT if wait is None else wait)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN) or time.monotonic() >= deadline:
                    raise Busy(f"另一个 disclosure 命令正在使用文件夹 {Path(folder)}，"
                               "请等它结束后再运行（两个命令同时写一个文件夹会使结果混在一起）。") from None
                time.sleep(0.1)
        yield folder
    finally:
        os.close(fd)  # releases the lock
