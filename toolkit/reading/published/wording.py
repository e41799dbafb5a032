"""What only a published report's words and layout can show, from the format data
(``published`` in workbook_templates/gov-*.yaml):

- narrative claims: figures part 一 states in words (“共收到政府信息公开申请 N 件”),
  taken from the paragraphs before the first table, for checking.narrative (P4);
- a 2019 row kept in a 2021 report (“（六）其他处理” as one row): read into the item
  the format data names, the other items 0, one structural finding (P5);
- column headers lost in a conversion: a table's figures read by position, only when
  every row label of the table is found with exactly as many figure cells after it as
  the table has columns (P7 says so);
- a header one cell wider or narrower than the format's, in a table whose columns were
  aligned (text forms): its labels found one column off their figures.  Not read by
  those labels (``unaligned``), so by position as above when certain, else missing.
"""

from __future__ import annotations

import re
from functools import cache

import yaml

from toolkit.common.a1 import parse_ref
from toolkit.formats import spec
from toolkit.formats.findings import Finding
from toolkit.reading.locate import normalize_label
from toolkit.reading.published.document import DocGrid, Document, _is_label
from toolkit.reading.values import Value, classify_text


@cache
def published_data(format_id: str) -> dict:
    raw = yaml.safe_load(spec.get(format_id).source.read_text(encoding="utf-8"))
    return raw.get("published") or {}


def claims(doc: Document, fmt: spec.Format) -> list[dict]:
    """(name, number, words, figure keys, where) stated in part 一."""
    first_table = next((i for i, b in enumerate(doc.blocks) if b.table), len(doc.blocks))
    out = []
    for block in doc.blocks[:first_table]:
        cell = block.rows[0][0]
        for item in published_data(fmt.id).get("narrative", ()):
            for m in re.finditer(item["pattern"], cell.text):
                out.append({"name": item["name"], "n": int(m.group("n")), "words": m.group(0),
                            "figures": list(item["figures"]), "where": dict(cell.where)})
    return out


def legacy_rows(dg: DocGrid, fmt: spec.Format, result, located) -> None:
    """A 2019 single row in this format's report (module docstring)."""
    for item in published_data(fmt.id).get("legacy_rows", ()):
        part = fmt.part(item["part"])
        keys = [f.key for f in fmt.part_figures(part.key) if f.row in item["items"]]
        if any(k in located.cells for k in keys):
            continue
        want = normalize_label(item["text"])
        rows = [r for (r, _c), t in dg.grid.texts.items() if normalize_label(t) == want]
        if not rows:
            continue
        columns = _columns(fmt, part, located)
        row = rows[0]
        read = False
        for col_key, col in columns.items():
            for key in keys:
                figure = fmt.figures[key]
                if figure.column != col_key:
                    continue
                if figure.row == item["into"]:
                    text = dg.grid.texts.get((row, col))
                    result.values[key] = classify_text(text, figure.kind) if text is not None else Value(
                        "blank", None, None, detail="为空")
                    if (row, col) in dg.where:
                        result.locations[key] = dict(dg.where[(row, col)])
                    read = True
                else:
                    result.values[key] = Value("number", 0.0, 0)
                result.places[key] = (figure.sheet, figure.cell)
        if read:
            items = [fmt.figures[k].row_label.text for k in keys if fmt.figures[k].column == next(iter(columns))]
            result.findings.append(Finding.of("P5", sheet=part.sheet, label=item["text"],
                                              detail="、".join(items)))


def _columns(fmt: spec.Format, part: spec.Part, located) -> dict[str, int]:
    """Column key -> grid column, from the figures of the part that were located."""
    out: dict[str, int] = {}
    for f in fmt.part_figures(part.key):
        if f.key in located.cells and f.column not in out:
            out[f.column] = parse_ref(located.cells[f.key][1])[1]
    return out


UNALIGNED = "表头的列与下面的数字对不齐（表头多了或少了一格），未按表头读取"


def unaligned(dg: DocGrid, fmt: spec.Format, located) -> None:
    """Tables of aligned rows whose column labels were found other than one column
    apart in the format's order: their figures taken out of ``located`` (a header cell
    too many puts every label one column off the figures under it)."""
    for part in fmt.parts:
        for table in part.tables:
            offsets, keys = set(), []
            for f, k in _table_figures(fmt, part, table):
                if f.key not in located.cells:
                    continue
                r, c = parse_ref(located.cells[f.key][1])
                if r in dg.ragged:
                    offsets.add(c - k)
                    keys.append(f.key)
            if len(offsets) > 1:
                for key in keys:
                    del located.cells[key]
                    located.missing[key] = UNALIGNED


def _table_figures(fmt: spec.Format, part: spec.Part, table) -> list[tuple[spec.Figure, int]]:
    """The figures of one table of ``part``, each with its column's place in the table."""
    order = [c.key for c in table.columns]
    return [(f, order.index(f.column)) for f in fmt.part_figures(part.key) if f.row_label in table.rows]


def by_position(dg: DocGrid, fmt: spec.Format, result, located) -> None:
    """Tables whose column labels were lost: read by position when certain."""
    texts = dg.grid.texts
    for part in fmt.parts:
        for table in part.tables:
            figures = _table_figures(fmt, part, table)
            if not figures or any(f.key in located.cells for f, _k in figures):
                continue
            rows = {}
            for label in table.rows:
                want = normalize_label(label.text)
                hits = [(r, c) for (r, c), t in texts.items() if want and normalize_label(t) == want]
                if len(hits) != 1:
                    break
                r, c = hits[0]
                after = sorted(cc for (rr, cc) in dg.where if rr == r and cc > c)
                cells = [cc for cc in after if _is_label(texts.get((r, cc), "")) is not True]
                if len(cells) != len(table.columns):
                    break
                rows[label.key] = (r, cells)
            else:
                if not rows:
                    continue
                for f, k in figures:
                    r, cells = rows[f.row]
                    at = (r, cells[k])
                    text = texts.get(at)
                    result.values[f.key] = classify_text(text, f.kind) if text is not None else Value(
                        "blank", None, None, detail="为空")
                    result.places[f.key] = (f.sheet, f.cell)
                    result.locations[f.key] = dict(dg.where.get(at, {}))
                cols = "、".join(c.text for c in table.columns)
                result.findings.append(Finding.of("P7", sheet=part.sheet, detail=(
                    f"第{part.number}部分“{table.rows[0].text}”等行的列标题缺失或对不上列（转换丢失，或 PDF "
                    f"没有表格线），行标签齐全且每行恰有 "
                    f"{len(table.columns)} 个数字，已按格式的列顺序（{cols}）按位置读取，请核对")))
