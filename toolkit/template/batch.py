"""One locked template per agency of a roster (``template --roster``), each named for its
agency and year; every renaming made to keep names unique is reported, not hidden."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from toolkit.common import ownership
from toolkit.common.filenames import safe_filename, unique_name
from toolkit.formats import spec
from toolkit.template.batch_result import Batch
from toolkit.template.writer import DEFAULT_PASSWORD, write_template

BATCH_SUFFIX = "_{year}年政府信息公开年度报表.xlsx"


def write_batch(
    roster_entries: Iterable,
    outdir: str | Path,
    *,
    year: int,
    fmt: spec.Format | None = None,
    password: str = DEFAULT_PASSWORD,
) -> Batch:
    """One locked template per roster entry (``.name``; ``.contact`` and ``.email`` are
    pre-filled as 填报人 and 电子邮箱), named ``<agency>_<year>年政府信息公开年度报表.xlsx``;
    names made safe on Windows and unique (ignoring case) within the batch, and every
    renaming recorded (Batch.renamed, Batch.notes()).  Returns the paths in roster order."""
    fmt = fmt or spec.for_year(year)
    outdir = ownership.make_dirs(outdir)
    taken: set[str] = set()
    owner: dict[str, object] = {}  # file name (case-folded) -> the entry that got it
    entries = list(roster_entries)
    wanted = [batch_filename(entry.name, year) for entry in entries]
    names = [unique_name(w, taken) for w in wanted]
    for name in names:  # before writing any: a filled return saved under a template's name
        ownership.claim(outdir / name)  # is not ours to blank (NotOurs)
    paths = Batch()
    field_keys = {f.key for f in fmt.info.fields}
    for entry, want, name in zip(entries, wanted, names):
        owner.setdefault(want.casefold(), entry)
        extra = {k: getattr(entry, attr, "") for k, attr in (("filler", "contact"), ("email", "email"))
                 if k in field_keys}
        paths.append(write_template(outdir / name, fmt, agency=entry.name, year=year,
                                    info=extra, password=password))
        if name != want:
            paths.renamed.append((entry, paths[-1], owner[want.casefold()]))
    return paths


def batch_filename(agency: str, year: int) -> str:
    """The file name write_batch gives an agency's template (before de-duplication)."""
    return safe_filename(agency, BATCH_SUFFIX.format(year=year))
