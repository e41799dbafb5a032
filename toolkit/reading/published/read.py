"""A published report, read: its form decided by content, its tables found by the
format's labels (the same path as a workbook read by labels), its figures classified
by the same value classes, and its agency and year taken from its title.

A figure's place is the template's own cell (so an imported workbook, annotated, shows
each finding at its cell); where it sits in the document is ``ReadResult.locations``.
"""

from __future__ import annotations

import re
from pathlib import Path

from toolkit.common.a1 import parse_ref
from toolkit.formats import spec
from toolkit.formats.findings import Finding
from toolkit.reading import identity, locate
from toolkit.reading.agency_block import parse_year
from toolkit.reading.published import wording
from toolkit.reading.published.document import SHEET, Document, to_grid
from toolkit.reading.reader import ReadResult, sha256_of
from toolkit.reading.values import Value, classify_text
from toolkit.workbook.limits import Limits, Unreadable

TITLE_LINES = 4  # the title may be broken over the first few lines
CLOSE_FIT = 0.15  # labels alone this close: the year in the title decides the format


def read_published(path: str | Path, *, limits: Limits | None = None,
                   expect: spec.Format | None = None) -> ReadResult:
    """Read one published report.  Never raises for a bad file."""
    from toolkit.reading.published.forms import load

    path = Path(path)
    result = ReadResult(path=str(path))
    try:
        result.sha256 = sha256_of(path)
        doc = load(path, limits or Limits())
        result.form = doc.form
        read_document(doc, result, expect)
    except Unreadable as exc:
        result.unreadable = Finding.of(exc.code, detail=exc.detail)
        result.read_by = None
    except OSError as exc:
        from toolkit.common.oserrors import why

        result.unreadable = Finding.of("F3", detail=f"无法打开文件：{why(exc)}")
    return result


def read_document(doc: Document, result: ReadResult, expect: spec.Format | None = None) -> None:
    dg = to_grid(doc)
    grids = {SHEET: dg.grid}
    agency, year = title_of(doc)
    fmt, located = _detect(grids, year)
    if fmt is None:
        raise Unreadable("P8", "没有格式原文的表格标签")
    result.format_id = fmt.id
    result.read_by = "labels"
    result.agency, result.year = agency, year
    if expect is not None and expect.id != fmt.id:
        result.findings.append(Finding.of("F9", detail=(
            f"本次要求{expect.document}格式，此报告是{fmt.document}格式")))
        result.checkable = False
    for note in located.notes:
        if "的标题“" not in note:  # a reworded part title is common and harmless
            result.findings.append(Finding.of("P3", detail=note))
    wording.unaligned(dg, fmt, located)
    for key, (_sheet, ref) in located.cells.items():
        at = parse_ref(ref)
        figure = fmt.figures[key]
        text = dg.grid.texts.get(at)
        result.values[key] = classify_text(text, figure.kind) if text is not None else Value(
            "blank", None, None, detail="为空")
        result.places[key] = (figure.sheet, figure.cell)
        if at in dg.where:
            result.locations[key] = dict(dg.where[at])
    wording.legacy_rows(dg, fmt, result, located)
    wording.by_position(dg, fmt, result, located)
    result.claims = wording.claims(doc, fmt)
    _missing(fmt, result, located)
    if agency is None:
        result.findings.append(Finding.of("S3", detail="未能从标题读出单位名称"))
    if year is None:
        result.findings.append(Finding.of("S3", detail="未能从标题读出年度"))
    elif not fmt.covers(year):
        result.findings.append(Finding.of("F9", detail=(
            f"年度为 {year} 年的报告应使用{spec.for_year(year).document}格式，此报告是{fmt.document}格式")))


def _detect(grids, year: int | None):
    """The format (by labels; the year in the title decides between formats that fit
    almost as well) and its placing; (None, None) when no format fits."""
    # Formats in the order a workbook's are tried (reading.identity): a tie of labels goes
    # to the format in force in the report's year, never to the newest.
    each = locate.locate_each(grids, identity.preference({}, year))
    fits = {fid: fit for fid, (_loc, fit) in each.items()}
    best = max(fits, key=lambda fid: fits[fid], default=None)  # ties: the first in that order
    if best is None or fits[best] < locate.DETECT_MIN:
        return None, None
    chosen = best
    if year is not None and not spec.get(best).covers(year):
        for fid, fit in fits.items():
            if spec.get(fid).covers(year) and fit >= max(locate.DETECT_MIN, fits[best] - CLOSE_FIT):
                chosen = fid
                break
    return spec.get(chosen), each[chosen][0]


def _missing(fmt: spec.Format, result: ReadResult, located) -> None:
    by_part: dict[str, list[str]] = {}
    for key in fmt.figures:
        if key not in result.places and key not in result.values:
            by_part.setdefault(fmt.figures[key].part, []).append(key)
    for part_key, keys in by_part.items():
        part = fmt.part(part_key)
        if len(keys) == len(fmt.part_figures(part_key)):
            result.findings.append(Finding.of("S1", sheet=part.sheet, label=part.title,
                                              detail="文档中找不到这张表格"))
            continue
        for key in keys:
            result.findings.append(Finding.of("S1", figure=fmt.figures[key],
                                              detail=located.missing.get(key, "找不到此项")))


def title_of(doc: Document) -> tuple[str | None, int | None]:
    """Agency and year from the report's title: the first lines that hold the format's
    title (政府信息公开工作年度报告), e.g. “某某局2023年政府信息公开工作年度报告”."""
    lines = [text for text, _where in doc.lines()]
    titles = {locate.normalize_label(f.title) for f in spec.formats().values()}
    for start in range(min(len(lines), 10)):
        joined = locate.normalize_label("".join(lines[start:start + TITLE_LINES]))
        for title in titles:
            at = joined.find(title)
            if at < 0:
                continue
            head = joined[:at]
            year = parse_year(head)
            agency = _YEAR.sub("", head) if year else head
            agency = agency.strip("（）()、:") or None
            return agency, year
    return None, None


_YEAR = re.compile(r"(?:19|20)\d\d年(?:度)?")
