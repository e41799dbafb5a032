"""Atomic output: write to a temporary file beside the target, then rename.  A killed
process leaves either the old file or the new one, never half of one; leftovers are
named ``.*.partial`` so nothing trusts them.

Every write is also an ownership check (common.ownership): a target that exists and was
not made by the toolkit is never replaced (NotOurs), and what is written is recorded in
its folder's ledger, so a later run may replace it."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from toolkit.common import ownership


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, *, kind: str = ownership.OUTPUT):
    """Yields a temporary path to write; on success it replaces ``target`` (recorded as
    ours, written as ``kind``)."""
    target = Path(target)
    ownership.make_dirs(target.parent, holds=ownership.RETURN if kind == ownership.RETURN else ownership.OUTPUT)
    ownership.claim(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=ownership.TEMP_SUFFIX, dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp makes the file owner-only; outputs are shared in an office folder, so
        # give them the mode an ordinary new file would have.
        os.chmod(tmp_path, 0o666 & ~_umask())
        digest = ownership.sha256(tmp_path)
        ownership.claim(target)  # made meanwhile by someone else: still not ours to replace
        # Recorded before the rename: a kill between the two leaves the previous version
        # (still ours: ownership keeps every digest it wrote), never an unrecorded file.
        ownership.record(target, digest, kind=kind, size=tmp_path.stat().st_size)
        os.replace(tmp_path, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes(target: str | os.PathLike, data: bytes, *, kind: str = ownership.OUTPUT) -> None:
    with atomic_path(target, kind=kind) as tmp:
        tmp.write_bytes(data)


def write_text(target: str | os.PathLike, text: str) -> None:
    write_bytes(target, text.encode("utf-8"))
