"""A path about to be read as a return: is it a regular file this machine can read?
Decided with os.stat before anything is opened, because a FIFO blocks an open() and a
device never ends; the verdicts are local (L1, L2: our side, never mailed to an agency)."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path

from toolkit.common.oserrors import why
from toolkit.formats.findings import Finding
from toolkit.workbook.book import Unreadable


def sha256_of(path: Path) -> str:
    # O_NONBLOCK: a FIFO put in the file's place after not_a_file() looked must not hang.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise Unreadable("L2", "不是普通文件")
        h = hashlib.sha256()
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


_SPECIAL = ((stat.S_ISDIR, "这是一个文件夹"), (stat.S_ISFIFO, "命名管道"), (stat.S_ISCHR, "设备文件"),
            (stat.S_ISBLK, "设备文件"), (stat.S_ISSOCK, "套接字"))


def not_a_file(path: Path) -> Finding | None:
    """L1/L2 when ``path`` is no regular file this machine can read, looked at with
    os.stat only (nothing is opened: a FIFO would block, a device would never end)."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return Finding.of("L2", detail="符号链接循环")
        if exc.errno == errno.ENOENT:
            return Finding.of("L2", detail="符号链接指向的文件不存在" if os.path.islink(path) else "文件不存在")
        return Finding.of("L1", detail=why(exc))
    if stat.S_ISREG(mode):
        return None
    return Finding.of("L2", detail=next((zh for test, zh in _SPECIAL if test(mode)), "不是普通文件"))
