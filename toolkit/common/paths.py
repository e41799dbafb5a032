"""A path made absolute for outputs (usable from any working folder) without failing on
what the batch must survive: a link that leads nowhere or to itself keeps its own name
(Path.resolve() would name the missing target, or raise on a loop)."""

from __future__ import annotations

import os
from pathlib import Path


def absolute(path: str | os.PathLike) -> Path:
    path = Path(path)
    try:
        if path.is_symlink():
            return path.parent.resolve() / path.name
        return path.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop (Python < 3.13)
        return Path(os.path.abspath(path))
