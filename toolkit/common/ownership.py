"""What the toolkit may overwrite or delete: only what it can prove it made.

Every folder the toolkit writes a file into gets a ledger, LEDGER (a hidden JSON-lines
file): one line per file written (its name and sha256), and one line saying the toolkit
created the folder when it did.  So:

- a file is **ours** when the ledger of its folder records it with the sha256 it has now:
  made by the toolkit and not changed since (a return saved over a template, a user's own
  汇总.xlsx, an annotated copy an agency edited in place are not ours);
- ``claim`` refuses (NotOurs, a 中文 message; the commands exit 2) to replace a file that
  exists and is not ours; ``remove`` deletes only what is ours;
- a folder is **made by us** when its ledger says the toolkit created it: such folders
  (an OUTDIR, annotated/, outbox/, a template folder) are recognised whatever their name,
  so a batch never reads an earlier round's outputs as returns.

Writes go through common.atomic, which claims and records; the ledger is appended to
(O_APPEND, one short line per write), so workers in several processes may share it.
Issue 15's SQLite ledger may take this over; this module is the one place that knows.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from toolkit.common.oserrors import why

LEDGER = ".disclosure-toolkit.jsonl"
LOCK = ".disclosure-toolkit.lock"  # common.lock's
GENERATOR = "disclosure-toolkit"
TEMP_SUFFIX = ".partial"  # common.atomic's temporaries: .<name>.<random>.partial


class Refused(Exception):
    """A command cannot go on without touching what is not its own (a 中文 message; the
    commands exit 2 before reading anything)."""


class NotOurs(Refused):
    """Refused: the toolkit would overwrite or delete a file it did not make."""


class NotWritable(Refused):
    """The output folder cannot be created or written."""


def writable_folder(folder: str | os.PathLike) -> Path:
    """``folder``, created if missing, proven writable (a temporary file made and
    removed); NotWritable otherwise."""
    folder = Path(folder)
    try:
        make_dirs(folder)
        with tempfile.TemporaryFile(dir=folder, prefix=".disclosure-probe."):
            pass
    except OSError as exc:
        raise NotWritable(f"无法写入输出文件夹 {folder}：{why(exc)}。请换一个可以写入的文件夹。") from None
    return folder


def _ledger(folder: Path) -> Path:
    return folder / LEDGER


# Kinds of what we write.  OUTPUT (汇总.xlsx, a roll-up, a roster…) is never read as a
# return; a TEMPLATE (sent out, may come back untouched) and a RETURN (the demo's) are.
# A LOG is appended to, so it stays ours while it begins with what we last recorded (a
# crash may cut a line).  A DATABASE (the demo's ledger) changes with every command
# that uses it: ours while it is still an SQLite database.
OUTPUT, TEMPLATE, RETURN, LOG, DATABASE = "output", "template", "return", "log", "database"
_SQLITE = b"SQLite format 3\x00"


_CACHE: dict[Path, tuple[tuple[int, int], tuple[dict, str | None]]] = {}


def _entries(folder: Path) -> tuple[dict[str, tuple[str, str, int, frozenset]], str | None]:
    """The ledger of ``folder``: name -> (sha256 as last written, kind, size, the digests
    written before), and what the folder was made for when we made it (OUTPUT, RETURN),
    else None.  Parsed once per version of the ledger (a folder of 10,000 returns asks
    10,000 times)."""
    try:
        st = os.stat(_ledger(folder))
    except OSError:
        return {}, None
    version = (st.st_size, st.st_mtime_ns)
    hit = _CACHE.get(folder)
    if hit is not None and hit[0] == version:
        return hit[1]
    _CACHE[folder] = (version, _parse(folder))
    return _CACHE[folder][1]


def _parse(folder: Path) -> tuple[dict[str, tuple[str, str, int, frozenset]], str | None]:
    files: dict[str, tuple[str, str, int]] = {}
    earlier: dict[str, set[str]] = {}  # name -> digests recorded before the last (not for logs)
    created = None
    try:
        text = _ledger(folder).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return files, created
    for line in text.splitlines():
        try:
            item = json.loads(line)
        except ValueError:  # a line cut short by a crash
            continue
        if not isinstance(item, dict) or item.get("generator") != GENERATOR:
            continue
        if item.get("created"):
            created = str(item.get("holds") or OUTPUT)
        name, digest = item.get("name"), item.get("sha256")
        if isinstance(name, str) and isinstance(digest, str):
            size, kind = item.get("size"), str(item.get("kind") or OUTPUT)
            if name in files and kind not in (LOG, DATABASE):  # ours by prefix, by format
                earlier.setdefault(name, set()).add(files[name][0])
            files[name] = (digest, kind, size if isinstance(size, int) else -1)
    return {name: (*entry, frozenset(earlier.get(name, ()))) for name, entry in files.items()}, created


def _append(folder: Path, item: dict) -> None:
    line = json.dumps({"generator": GENERATOR, **item}, ensure_ascii=True) + "\n"
    fd = os.open(_ledger(folder), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
    try:
        os.write(fd, line.encode("ascii"))
    finally:
        os.close(fd)


def sha256(path: str | os.PathLike, size: int = -1) -> str:
    """sha256 of the file, or of its first ``size`` bytes."""
    h = hashlib.sha256()
    left = size if size >= 0 else None
    with open(path, "rb") as fh:
        while left is None or left > 0:
            block = fh.read(1 << 20 if left is None else min(1 << 20, left))
            if not block:
                break
            h.update(block)
            if left is not None:
                left -= len(block)
    return h.hexdigest()


def _name(path: Path) -> str:
    return path.name  # the ledger is ASCII JSON: any name, even not UTF-8, round-trips


def is_ours(path: str | os.PathLike) -> bool:
    """``path`` is a regular file the toolkit wrote and nobody changed since."""
    return kind_of(path) is not None


def kind_of(path: str | os.PathLike) -> str | None:
    """What the toolkit wrote ``path`` as (OUTPUT, RETURN for the demo's sample returns,
    …) when it is ours and unchanged; None otherwise."""
    path = Path(path)
    if path.is_symlink() or not path.is_file():
        return None
    entry = _entries(path.parent)[0].get(_name(path))
    if entry is None:
        return None
    digest, kind, size, earlier = entry
    try:
        # An earlier version of ours counts too: atomic writes record a file just before
        # renaming it into place, so a kill between the two leaves the previous one.
        if (found := sha256(path)) == digest or found in earlier:
            return kind
        if kind == LOG and 0 <= size < path.stat().st_size and digest == sha256(path, size):
            return kind
        if kind == DATABASE:
            with open(path, "rb") as fh:
                return kind if fh.read(len(_SQLITE)) == _SQLITE else None
    except OSError:
        pass
    return None


def is_our_output(path: str | os.PathLike) -> bool:
    """``path`` is an OUTPUT of ours, unchanged (hashed only when recorded as one)."""
    path = Path(path)
    entry = _entries(path.parent)[0].get(_name(path))
    return entry is not None and entry[1] == OUTPUT and kind_of(path) == OUTPUT


def made_by_us(folder: str | os.PathLike) -> bool:
    """``folder`` was created by the toolkit (its ledger says so)."""
    folder = Path(folder)
    return not folder.is_symlink() and folder.is_dir() and _entries(folder)[1] is not None


def holds_outputs(folder: str | os.PathLike) -> bool:
    """``folder`` was created by the toolkit for its outputs (an OUTDIR, annotated/,
    outbox/, a template folder), not for returns (the demo's, collect's)."""
    folder = Path(folder)
    return not folder.is_symlink() and folder.is_dir() and _entries(folder)[1] == OUTPUT


def claim(path: str | os.PathLike) -> None:
    """Raise NotOurs unless ``path`` may be (over)written: it does not exist, or it is ours."""
    path = Path(path)
    if not os.path.lexists(path) or (path.is_dir() and not path.is_symlink()):
        return  # nothing there, or a folder: writing fails with the system's own error
    if not is_ours(path):
        raise NotOurs(f"{path} 已存在，且不是本工具生成的文件（或生成后被改动过），"
                      "本工具不会覆盖它。请换一个输出位置，或先把这个文件移走。")


def record(path: str | os.PathLike, digest: str | None = None, *, kind: str = OUTPUT,
           size: int | None = None) -> None:
    """Note in its folder's ledger that the toolkit has just written ``path`` (or is about
    to rename a file of ``digest`` and ``size`` into place there)."""
    path = Path(path)
    _append(path.parent, {"name": _name(path), "sha256": digest or sha256(path), "kind": kind,
                          "size": path.stat().st_size if size is None else size})


def make_dirs(folder: str | os.PathLike, *, holds: str = OUTPUT) -> Path:
    """Create ``folder`` and any missing parents, each recorded as made by us to hold
    ``holds`` (OUTPUT, or RETURN: a folder of returns is read like any other)."""
    folder = Path(folder)
    missing = []
    probe = folder
    while not os.path.lexists(probe) and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for new in reversed(missing):
        try:
            new.mkdir()
        except FileExistsError:  # made meanwhile (by another run): not ours to claim
            continue
        _append(new, {"created": True, "holds": holds})
    if not folder.is_dir():
        folder.mkdir()  # raises the system's error: a file stands there
    return folder


def remove(path: str | os.PathLike) -> bool:
    """Delete ``path`` if it is ours; True when it was deleted."""
    if not is_ours(path):
        return False
    Path(path).unlink(missing_ok=True)
    return True


def foreign(folder: str | os.PathLike) -> list[Path]:
    """Everything in ``folder`` (recursively) that is not ours: files not recorded or
    changed, and subfolders we did not create with whatever they hold."""
    folder = Path(folder)
    found = []
    for item in sorted(folder.iterdir()):
        if item.name in (LEDGER, LOCK) or _our_temporary(item):
            continue
        if item.is_dir() and not item.is_symlink():
            found += foreign(item) if made_by_us(item) else [item]
        elif not is_ours(item):
            found.append(item)
    return found


def clear(folder: str | os.PathLike) -> None:
    """Empty a folder the toolkit made, of what it made; NotOurs (nothing deleted) when it
    holds anything else, or when the toolkit did not make it."""
    folder = Path(folder)
    if not os.path.lexists(folder):
        return
    if not made_by_us(folder):
        raise NotOurs(f"{folder} 已存在，且不是本工具建立的文件夹，本工具不会清空它。"
                      "请换一个文件夹，或先把它移走。")
    others = foreign(folder)
    if others:
        listed = "、".join(str(p) for p in others[:5]) + ("等" if len(others) > 5 else "")
        raise NotOurs(f"{folder} 中有不是本工具生成的文件（{listed}），本工具不会删除它们。"
                      "请换一个文件夹，或先把这些文件移走。")
    _empty(folder)


def _empty(folder: Path) -> None:
    for item in folder.iterdir():
        if item.name in (LEDGER, LOCK):
            continue
        if item.is_dir() and not item.is_symlink():
            _empty(item)
            _ledger(item).unlink(missing_ok=True)
            (item / LOCK).unlink(missing_ok=True)
            item.rmdir()
        else:
            item.unlink()


def _our_temporary(path: Path) -> bool:
    return path.name.startswith(".") and path.name.endswith(TEMP_SUFFIX) and path.is_file()


def sweep(folder: str | os.PathLike) -> None:
    """Remove temporaries a killed run of ours left in ``folder`` — only in a folder that
    has our ledger, and only names of our pattern, never below it."""
    folder = Path(folder)
    if not _ledger(folder).is_file():
        return
    for item in folder.iterdir():
        if _our_temporary(item):
            item.unlink(missing_ok=True)
