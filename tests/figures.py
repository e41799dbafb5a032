"""Test helpers: fill templates as an agency would and make consistent figures.  The
same functions drive the demo, so they live in toolkit.formats.samples."""

from __future__ import annotations

from pathlib import Path

from toolkit.formats.samples import consistent, solve, solved_keys, type_figures

__all__ = ["consistent", "fill", "solve", "solved_keys"]


def fill(src: Path, values: dict[str, object], dest: Path | None = None, *, info: dict | None = None) -> Path:
    """Type ``values`` (figure key -> value as typed) into ``src`` (or a copy, ``dest``)."""
    return type_figures(src, values, dest, info=info)
