"""The 2019 trial format (国办公开办函〔2019〕60号) as data: workbook_templates/gov-2019.yaml.

The expected labels below are copied verbatim from ../shared/national-format.md ("The 2019
trial format ... where it differs"); tests may spell them, code may not.
"""

from __future__ import annotations

import pytest
import yaml

from toolkit.formats import spec

OLD, NEW = "gov-2019", "gov-2021"

# Part 二 of 2019, block by block: (head text, column texts, row texts).
P2_2019 = [
    ("第二十条第（一）项", ["本年新制作数量", "本年新公开数量", "对外公开总数量"], ["规章", "规范性文件"]),
    ("第二十条第（五）项", ["上一年项目数量", "本年增/减", "处理决定数量"], ["行政许可", "其他对外管理服务事项"]),
    ("第二十条第（六）项", ["上一年项目数量", "本年增/减", "处理决定数量"], ["行政处罚", "行政强制"]),
    ("第二十条第（八）项", ["上一年项目数量", "本年增/减"], ["行政事业性收费"]),
    ("第二十条第（九）项", ["采购项目数量", "采购总金额"], ["政府集中采购"]),
]
APPLICANT_COLUMNS = ["natural", "business", "research", "nonprofit", "legal", "other_org"]


@pytest.fixture(scope="module")
def old() -> spec.Format:
    return spec.get(OLD)


@pytest.fixture(scope="module")
def new() -> spec.Format:
    return spec.get(NEW)


def _rows(fmt: spec.Format, part: str) -> list[spec.Label]:
    return [r for t in fmt.part(part).tables for r in t.rows]


def _table_under(part: spec.Part, head_text: str) -> spec.Table:
    """The table whose columns all sit under the head with this text."""
    found = [t for t in part.tables if all(c.path == (head_text,) for c in t.columns)]
    assert len(found) == 1, head_text
    return found[0]


def test_identity_and_registry(old):
    assert (old.id, old.document, old.years, old.name_prefix) == (
        OLD, "国办公开办函〔2019〕60号", (2019, 2020), "gk_")
    assert list(spec.formats()) == [NEW, OLD]  # newest first
    assert spec.for_year(2019).id == OLD and spec.for_year(2020).id == OLD
    assert spec.for_year(2021).id == NEW and spec.get().id == NEW


def test_figure_counts(old):
    assert len(old.figures) == 22 + 23 * 7 + 15 == 198
    assert [len(old.part_figures(p)) for p in ("p2", "p3", "p4")] == [22, 161, 15]
    assert len(_rows(old, "p3")) == 23
    assert len(old.figures_by_name) == 198  # defined names are unique


def test_part_titles(old):
    assert [(p.number, p.title) for p in old.parts] == [
        ("二", "二、主动公开政府信息情况"),
        ("三", "三、收到和处理政府信息公开申请情况"),
        ("四", "四、政府信息公开行政复议、行政诉讼情况"),
    ]


@pytest.mark.parametrize("head, columns, rows", P2_2019, ids=[b[0] for b in P2_2019])
def test_part2_blocks_verbatim(old, head, columns, rows):
    p2 = old.part("p2")
    table = _table_under(p2, head)
    assert [c.text for c in table.columns] == columns
    assert [r.text for r in table.rows] == rows
    # Every block has its own 信息内容 header cell in column A, on its header row.
    content = next(h for h in p2.heads if h.text == "信息内容")
    header_row = table.columns[0].area.min_row
    assert any(a.min_row == header_row and a.min_col == 1 for a in content.areas)


def test_part2_kinds(old):
    kinds = {(f.row_label.text, f.column_label.text): f.kind for f in old.part_figures("p2")}
    signed = {k for k, v in kinds.items() if v == "signed_count"}
    assert signed == {(r, "本年增/减") for r in ("行政许可", "其他对外管理服务事项", "行政处罚",
                                               "行政强制", "行政事业性收费")}
    assert kinds[("政府集中采购", "采购总金额")] == "amount_wan"
    assert {v for k, v in kinds.items() if k[1] not in ("本年增/减", "采购总金额")} == {"count"}


def test_part2_blocks_are_as_wide_as_the_title(old):
    p2 = old.part("p2")
    for table in p2.tables:
        for row in table.rows:
            cells = [old.figures[f"p2.{row.key}.{c.key}"].area for c in table.columns]
            assert cells[0].min_col == 2 and cells[-1].max_col == p2.last_col
            assert all(a.max_col + 1 == b.min_col for a, b in zip(cells, cells[1:]))


def test_part3_other_is_one_row_without_items(old, new):
    rows = _rows(old, "p3")
    other = [r for r in rows if r.text.startswith("（六）其他处理")]
    assert len(other) == 1 and other[0].text == "（六）其他处理"
    # No item of 2021's （六） survives, neither as a row nor as a group head.
    new_other_items = [r for r in _rows(new, "p3") if r.path[-1:] == ("（六）其他处理",)]
    assert len(new_other_items) == 3
    assert not {r.key for r in new_other_items} & {r.key for r in rows}
    assert "（六）其他处理" not in {h.text for h in old.part("p3").heads}
    # Its figures differ in meaning from any 2021 figure, so their keys and names do too.
    other_keys = {k for k in old.figures if k.startswith(f"p3.{other[0].key}.")}
    assert len(other_keys) == 7 and not other_keys & set(new.figures)


def test_shared_keys_are_identical(old, new):
    """All of 三 except （六）, and all of 四, mean the same in both formats: same key,
    same defined name, same labels and kind."""
    def shared(fmt):
        return {k: f for k, f in fmt.figures.items()
                if f.part == "p4" or (f.part == "p3" and "（六）其他处理" not in
                                      (f.row_label.text, *f.row_label.path))}
    a, b = shared(old), shared(new)
    assert len(a) == 22 * 7 + 15 and a.keys() == b.keys()
    for key in a:
        fa, fb = a[key], b[key]
        assert (fa.name, fa.kind, fa.sheet, fa.row_label.text, fa.row_label.path,
                fa.column_text) == (fb.name, fb.kind, fb.sheet, fb.row_label.text,
                                    fb.row_label.path, fb.column_text), key
    # Part 二: only 处理决定数量 (2021: 本年处理决定数量) is shared; every other 2019
    # figure of 二 has a key 2021 does not use.
    p2_shared = {k for k in old.figures if k.startswith("p2.")} & set(new.figures)
    assert p2_shared == {"p2.licensing.decisions", "p2.penalty.decisions", "p2.coercion.decisions"}
    for key in p2_shared:
        assert (old.figures[key].column_label.text, new.figures[key].column_label.text) == (
            "处理决定数量", "本年处理决定数量")


def _by_rule(fmt, rule):
    return [e for e in fmt.equations if e.rule == rule]


def test_r4_lists_other_as_one_row(old, new):
    eqs = _by_rule(old, "R4")
    assert [e.anchor for e in eqs] == [f"p3.result_total.{c}" for c in APPLICANT_COLUMNS]
    rows = _rows(old, "p3")
    items = [r.key for r in rows[2:-2]]  # （一） … （六）, between 二 and （七）总计
    assert len(items) == 19
    for eq, col in zip(eqs, APPLICANT_COLUMNS):
        assert [t.key for t in eq.rhs] == [f"p3.{r}.{col}" for r in items]
        assert all(t.sign == 1 and not t.last_year for t in eq.rhs)
    assert "p3.other.natural" in {t.key for t in eqs[0].rhs}
    # 2021 has three （六） items in R4, so two more terms.
    assert [len(e.rhs) for e in _by_rule(new, "R4")] == [21] * 6
    assert [len(e.rhs) for e in eqs] == [19] * 6


def test_other_checks_match_2021(old, new):
    def shape(fmt, rule):
        return [(e.anchor, [(t.key, t.sign, t.last_year) for t in e.lhs],
                 [(t.key, t.sign, t.last_year) for t in e.rhs]) for e in _by_rule(fmt, rule)]
    for rule in ("R1", "R5", "R7"):
        assert shape(old, rule) == shape(new, rule), rule
    assert len(_by_rule(old, "R3")) == 23 and len(_by_rule(new, "R3")) == 25
    # R3 per row: the rows both formats share are checked alike; （六） is one row in 2019.
    assert [s for s in shape(old, "R3") if not s[0].startswith("p3.other.")] == [
        s for s in shape(new, "R3") if not s[0].startswith("p3.other_")]
    assert [e.anchor for e in _by_rule(old, "R3")][20] == "p3.other.total"
    assert _by_rule(old, "R8") == [] and len(_by_rule(new, "R8")) == 2
    for eq in old.equations:  # every term is a figure of this format
        assert set(eq.keys) <= set(old.figures)
        assert {t.key for t in (*eq.lhs, *eq.rhs) if t.last_year} <= set(old.figures)


def test_key_figures_exist(old):
    assert len(old.key_figures) == 9 and set(old.key_figures) <= set(old.figures)


def test_layout_has_no_overlaps(old):
    """Every fixed text and figure cell of a sheet has its own cells, inside the sheet."""
    for part in old.parts:
        areas = [part.title_area]
        areas += [a for h in part.heads for a in h.areas]
        areas += [lab.area for t in part.tables for lab in (*t.rows, *t.columns)
                  if lab.text]  # 四's unlabelled row is the figure row itself
        areas += [f.area for f in old.part_figures(part.key)]
        seen: dict[tuple[int, int], spec.Area] = {}
        for a in areas:
            assert a.max_col <= part.last_col, (part.key, a.range)
            for c in range(a.min_col, a.max_col + 1):
                for r in range(a.min_row, a.max_row + 1):
                    assert (c, r) not in seen, (part.key, a.range, seen.get((c, r)))
                    seen[(c, r)] = a


def test_same_schema_as_2021(old, new):
    """Data only: the same top-level keys and part keys, so spec.py needs no change."""
    raw_old = yaml.safe_load(old.source.read_text(encoding="utf-8"))
    raw_new = yaml.safe_load(new.source.read_text(encoding="utf-8"))
    assert raw_old.keys() == raw_new.keys()
    assert raw_old["info"] == raw_new["info"]
    assert [p["key"] for p in raw_old["parts"]] == [p["key"] for p in raw_new["parts"]]
    assert [p.sheet for p in old.parts] == [p.sheet for p in new.parts]
    assert old.fingerprint != new.fingerprint
