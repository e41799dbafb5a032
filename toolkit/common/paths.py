"""A path made absolute for outputs (usable from any working folder) without failing on
what the batch must survive: a link that leads nowhere or to itself keeps its own name
(Path.resolve() would name the missing target, or raise on a loop)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path


def absolute(path: str | os.PathLike) -> Path:
    """The folder resolved (links and .. followed), the name kept: a file's own link is
    named as it is.  Folders are resolved once each (a batch's files share a few) from
    the working folder of the moment."""
    path = Path(path)
    if path.name in ("", ".", ".."):
        return _resolved(os.getcwd(), str(path))
    return _resolved(os.getcwd(), str(path.parent)) / path.name


@lru_cache(maxsize=1024)
def _resolved(cwd: str, folder: str) -> Path:
    try:
        return (Path(cwd) / folder).resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop (Python < 3.13)
        return Path(os.path.abspath(os.path.join(cwd, folder)))
