"""The national formats, loaded from the declarative data in ``workbook_templates/`` (and
the folders named by $DISCLOSURE_FORMATS).

This module only reads that data and derives what the rest of the toolkit needs from it
(the objects of toolkit.formats.model, re-exported here): the figure cells (where each
figure sits, its defined name, its labels), and the consistency equations expanded from
the ``checks`` section.  It never spells a label.
"""

from __future__ import annotations

import os
from functools import cache
from importlib.resources.abc import Traversable
from pathlib import Path

import yaml

from toolkit.common.resources import format_data
from toolkit.formats.kinds import default as default_kind_id
from toolkit.formats.kinds import kinds
from toolkit.formats.model import (  # noqa: F401  (re-exported: spec.Format, spec.Area …)
    Area,
    Equation,
    Figure,
    Format,
    Head,
    Info,
    InfoField,
    Label,
    Part,
    Table,
    Term,
    figure_key,
)

# The shipped format data: workbook_templates/ (the data package toolkit.formats.data).
TEMPLATES_DIR = format_data()
# More folders of gov-*.yaml formats, os.pathsep-separated: a format year added as data,
# without a release (and the tests' synthetic formats).
FORMATS_ENV = "DISCLOSURE_FORMATS"


@cache
def kind_limits() -> dict[str, int]:
    """Figure kind -> the largest absolute value a figure of that kind can be
    (workbook_templates/kinds.yaml); once: it is asked for every figure read."""
    return {kind_id: kind.max for kind_id, kind in kinds().items()}


def _label(raw: dict, heads: dict[str, Head], default_kind: str | None) -> Label:
    text = raw.get("text") or ""
    return Label(
        key=raw["key"],
        text=text,
        area=Area.parse(raw["at"]),
        path=tuple(heads[h].text for h in raw.get("path", ())),
        short=raw.get("short") or text,
        kind=raw.get("kind", default_kind),
    )


def _parse_term(token: str, part: str, fixed: str, each: str) -> Term:
    sign = 1
    if token.startswith("-"):
        sign, token = -1, token[1:]
    last = token.startswith("last.")
    if last:
        token = token[len("last.") :]
    # `each: row` means the equation's keys are columns of that row, and vice versa.
    row, col = (fixed, token) if each == "row" else (token, fixed)
    return Term(figure_key(part, row, col), sign, last)


def _expand_checks(raw_checks: list[dict], parts: dict[str, Part]) -> tuple[Equation, ...]:
    equations = []
    for check in raw_checks:
        part = parts[check["part"]]
        each = check["each"]
        keys = check["lhs"] + check["rhs"]
        # The lines to repeat over: rows (or columns) of the table that holds these keys.
        for table in part.tables:
            inner = {lab.key for lab in (table.columns if each == "row" else table.rows)}
            if all(k.lstrip("-").removeprefix("last.") in inner for k in keys):
                lines = table.rows if each == "row" else table.columns
                break
        else:
            raise ValueError(f"check {check['rule']}: keys {keys} are not one table of {part.key}")
        only = check.get("only")
        for line in lines:
            if only is not None and line.key not in only:
                continue
            lhs = tuple(_parse_term(t, part.key, line.key, each) for t in check["lhs"])
            rhs = tuple(_parse_term(t, part.key, line.key, each) for t in check["rhs"])
            anchor_token = check.get("anchor", check["lhs"][0])
            anchor = _parse_term(anchor_token, part.key, line.key, each).key
            equations.append(Equation(check["rule"], anchor, lhs, rhs))
    return tuple(equations)


def _part(raw_part: dict, prefix: str, figures: dict[str, Figure]) -> Part:
    """One part of a format; its figures are added to ``figures`` in template order."""
    heads = {}
    for h in raw_part.get("heads", ()):
        ats = h["at"] if isinstance(h["at"], list) else [h["at"]]
        heads[h["key"]] = Head(h["key"], h["text"], tuple(Area.parse(a) for a in ats))
    default_kind = raw_part.get("kind", default_kind_id())
    tables = []
    for raw_table in raw_part["tables"]:
        cols = tuple(_label(c, heads, default_kind) for c in raw_table["columns"])
        rows = tuple(_label(r, heads, None) for r in raw_table["rows"])
        tables.append(Table(rows, cols))
        for row in rows:
            for col in cols:
                key = figure_key(raw_part["key"], row.key, col.key)
                figures[key] = Figure(
                    key=key,
                    part=raw_part["key"],
                    part_number=raw_part["number"],
                    row=row.key,
                    column=col.key,
                    sheet=raw_part["sheet"],
                    area=Area(col.area.min_col, row.area.min_row, col.area.max_col, row.area.min_row),
                    kind=row.kind or col.kind or default_kind,
                    name=prefix + key.replace(".", "_"),
                    row_label=row,
                    column_label=col,
                )
    title = raw_part["title"]
    return Part(
        key=raw_part["key"],
        number=raw_part["number"],
        sheet=raw_part["sheet"],
        title=title["text"],
        title_area=Area.parse(title["at"]),
        orientation=raw_part.get("orientation", "portrait"),
        widths=dict(raw_part.get("widths", {})),
        heads=tuple(heads.values()),
        tables=tuple(tables),
    )


def _info(raw_info: dict, prefix: str) -> Info:
    return Info(
        sheet=raw_info["sheet"],
        title=raw_info["title"]["text"],
        title_area=Area.parse(raw_info["title"]["at"]),
        fields=tuple(
            InfoField(f["key"], f["text"], Area.parse(f["at"]), Area.parse(f["value_at"]),
                      name=f"{prefix}info_{f['key']}", kind=f.get("kind", "text"))
            for f in raw_info["fields"]
        ),
    )


def _load(path: Traversable) -> Format:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    prefix = data["name_prefix"]
    figures: dict[str, Figure] = {}
    parts = {raw["key"]: _part(raw, prefix, figures) for raw in data["parts"]}
    for f in figures.values():
        if f.kind not in kinds():
            raise ValueError(f"{path.name}: {f.key} has unknown kind {f.kind!r}")
    fmt = Format(
        id=data["id"],
        document=data["document"],
        title=data["title"],
        years=tuple(data["years"]),
        name_prefix=prefix,
        parts=tuple(parts.values()),
        figures=figures,
        equations=_expand_checks(data.get("checks", []), parts),
        key_figures=tuple(data.get("key_figures", ())),
        roles={role: tuple(keys) for role, keys in (data.get("roles") or {}).items()},
        source=path,
        info=_info(data["info"], prefix),
    )
    fmt.figures_by_name = {f.name.lower(): f for f in figures.values()}
    unknown = [k for keys in (fmt.key_figures, *fmt.roles.values()) for k in keys if k not in figures]
    if unknown:
        raise ValueError(f"{path.name}: key_figures/roles name no figure: {unknown}")
    return fmt


def formats() -> dict[str, Format]:
    """Every format (shipped, then the folders named by $DISCLOSURE_FORMATS) by id,
    newest first.  The order is a listing order: no reader breaks a tie by it."""
    return _formats(os.environ.get(FORMATS_ENV, ""))


@cache
def _formats(extra: str) -> dict[str, Format]:
    folders = [TEMPLATES_DIR, *(Path(p) for p in extra.split(os.pathsep) if p.strip())]
    loaded: dict[str, Format] = {}
    for folder in folders:
        for path in sorted((p for p in folder.iterdir() if _is_format(p.name)), key=lambda p: p.name):
            fmt = _load(path)
            if fmt.id in loaded:
                raise ValueError(f"{path}: format id {fmt.id!r} is already defined by {loaded[fmt.id].source}")
            loaded[fmt.id] = fmt
    return dict(sorted(loaded.items(), key=lambda item: item[1].years[0], reverse=True))


def _is_format(name: str) -> bool:
    return name.startswith("gov-") and name.endswith(".yaml")


def get(format_id: str | None = None) -> Format:
    """A format by id; the newest when no id is given (what a new template defaults to)."""
    all_formats = formats()
    if format_id is None:
        return next(iter(all_formats.values()))
    return all_formats[format_id]


def for_year(year: int) -> Format:
    """The format in force for reports on ``year``: of the formats whose years cover it,
    the one that came into force last (a later format supersedes an open-ended one)."""
    covering = [fmt for fmt in formats().values() if fmt.covers(year)]
    if covering:
        return max(covering, key=lambda fmt: fmt.years[0])
    return get()
