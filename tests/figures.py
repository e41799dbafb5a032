"""Test helpers: fill templates as an agency would and make consistent figures.  The
same functions drive the demo, so they live in toolkit.formats.samples."""

from __future__ import annotations

import hashlib
import re
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

from toolkit.formats import samples, spec
from toolkit.formats.samples import consistent, solve, solved_keys, type_figures

__all__ = ["consistent", "fill", "filled_return", "rewrite_zip", "sha256", "solve", "solved_keys"]


def fill(src: Path, values: dict[str, object], dest: Path | None = None, *, info: dict | None = None) -> Path:
    """Type ``values`` (figure key -> value as typed) into ``src`` (or a copy, ``dest``)."""
    return type_figures(src, values, dest, info=info)


def filled_return(path: Path, changes: dict[str, object] | None = None, *, agency: str | None = None) -> Path:
    """The locked 2021 template, filled with the seed report's figures as the agency typed
    them (with ``changes``; ``agency`` instead of the seed's), saved by openpyxl as an
    agency's spreadsheet program would."""
    import openpyxl

    from toolkit.template.writer import write_template

    fmt = spec.get("gov-2021")
    seed_agency, year = samples.seed_agency()
    write_template(path, fmt, agency=agency or seed_agency, year=year)
    wb = openpyxl.load_workbook(path)
    for key, value in {**samples.seed_figures(), **(changes or {})}.items():
        fig = fmt.figures[key]
        wb[fig.sheet][fig.cell].value = value
    wb.save(path)
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


Member = bytes | Callable[[bytes], bytes] | Iterable[bytes]


def rewrite_zip(path: Path, changes: dict[str, Member], dest: Path | None = None) -> Path:
    """Copy the zip ``path`` to ``dest`` (default: in place), members named in ``changes``
    replaced, or added at the end when absent: by bytes, by a function of the old bytes,
    or by an iterable of chunks (streamed, so a member of hundreds of MB is never held)."""
    dest = dest or path
    with zipfile.ZipFile(path) as src:
        items = [(info, src.read(info)) for info in src.infolist()]
    left = dict(changes)
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, data in items:
            _put(dst, info, left.pop(info.filename, data), data)
        for name, member in left.items():
            _put(dst, zipfile.ZipInfo(name, (2025, 1, 1, 0, 0, 0)), member, b"")
    return dest


def saved_at(path: Path, moment: str) -> Path:
    """The workbook as if its agency last saved it at ``moment`` (core properties)."""
    return rewrite_zip(path, {"docProps/core.xml": lambda xml: re.sub(
        rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + moment.encode(), xml)})


def _put(dst: zipfile.ZipFile, info: zipfile.ZipInfo, member: Member, old: bytes) -> None:
    info.compress_type = zipfile.ZIP_DEFLATED
    if callable(member):
        member = member(old)
    if isinstance(member, bytes):
        dst.writestr(info, member)
        return
    with dst.open(info, "w", force_zip64=True) as out:
        for chunk in member:
            out.write(chunk)
