"""Matching this year's returns to last year's (toolkit/previous.py), and R7/R8 end to end."""

from __future__ import annotations

from pathlib import Path

from toolkit.checking.previous import BY_META, BY_NAME, match_previous
from toolkit.formats.findings import FileReport

NEW, OLD = "gov-2021", "gov-2019"


def _report(path, agency=None, year=2023, fmt=NEW, meta_agency=None, figures=None,
            unreadable=False) -> FileReport:
    meta = {"agency": meta_agency} if meta_agency else {}
    return FileReport(path=path, agency=agency, year=year, format=fmt, unreadable=unreadable,
                      figures=figures or {}, meta=meta)


def test_match_by_template_stamp_before_typed_name():
    # This year the agency typed a different name; the stamp still says who it is.
    this = _report("/in/甲.xlsx", agency="某某市某某局（盖章）", meta_agency="某某市交通运输局")
    prev = _report("/last/交通.xlsx", agency="某某市交通运输局", year=2022,
                   figures={"p3.carry_forward.natural": 3})
    decoy = _report("/last/decoy.xlsx", agency="某某市某某局", year=2022)
    m = match_previous([this], [decoy, prev])
    assert m.previous_for(this) is prev
    assert m.choices[this.path].how == BY_META
    assert m.figures_for(this) == {"p3.carry_forward.natural": 3}
    assert m.source_for(this) == "交通.xlsx"
    assert m.unmatched == []


def test_match_by_typed_name_with_spacing_differences():
    this = _report("/in/a.xlsx", agency="某某 局")
    prev = _report("/last/b.xlsx", agency="某某局\u3000", year=2022,
                   figures={"p3.carry_forward.total": 1})
    m = match_previous([this], [prev])
    assert m.previous_for(this) is prev
    assert m.choices[this.path].how == BY_NAME
    assert m.source_for(this) == "b.xlsx"


def test_agency_missing_from_last_year_is_listed_not_failed():
    here = _report("/in/a.xlsx", agency="甲局")
    new = _report("/in/b.xlsx", agency="新设乙局")
    m = match_previous([here, new], [_report("/last/a.xlsx", agency="甲局", year=2022)])
    assert m.unmatched == [new]
    assert m.figures_for(new) == {} and m.source_for(new) == ""
    assert new.findings == [] and new.status == "pass"
    text = "\n".join(m.lines_zh())
    assert "没有上年报表：新设乙局（b.xlsx）" in text
    assert "1 个单位找到上年报表，1 个单位没有上年报表" in text


def test_two_last_year_files_the_year_before_is_chosen():
    this = _report("/in/a.xlsx", agency="甲局", year=2023)
    older = _report("/last/2021.xlsx", agency="甲局", year=2021)
    right = _report("/last/2022.xlsx", agency="甲局", year=2022)
    same = _report("/last/2023.xlsx", agency="甲局", year=2023)  # not last year's
    m = match_previous([this], [older, same, right])
    assert m.previous_for(this) is right
    assert m.choices[this.path].passed_over == [older]
    text = "\n".join(m.lines_zh())
    assert "有多份上年报表，采用 2022.xlsx（2022年度），未采用 2021.xlsx" in text
    assert "2023.xlsx 的年度（2023年度）不早于 a.xlsx（2023年度）" in text


def test_without_the_year_before_the_newest_is_chosen():
    this = _report("/in/a.xlsx", agency="甲局", year=2024)
    m = match_previous([this], [_report("/last/x.xlsx", agency="甲局", year=2021),
                                _report("/last/y.xlsx", agency="甲局", year=2022)])
    assert m.source_for(this) == "y.xlsx"


def test_unreadable_last_year_file_is_not_used_and_said_so():
    this = _report("/in/a.xlsx", agency="甲局")
    broken = _report("/last/坏.xlsx", unreadable=True)
    m = match_previous([this], [broken])
    assert m.unmatched == [this] and m.unusable == [broken]
    assert "上年报表 坏.xlsx 无法读取，不能用于跨年核对" in m.lines_zh()[-1]


def test_cross_format_figures_keep_shared_keys_only():
    # Last year in the 2019 trial format: 三's 四 shares its keys with 2021 (R7 works),
    # 二 has no 现行有效件数 (R8 not checkable) and 2019-only keys are dropped.
    this = _report("/in/a.xlsx", agency="甲局", year=2021)
    prev = _report("/last/a.xlsx", agency="甲局", year=2020, fmt=OLD, figures={
        "p3.carry_forward.natural": 2, "p2.normative.made": 5, "p2.procurement.amount": 1.5})
    m = match_previous([this], [prev])
    assert m.figures_for(this) == {"p3.carry_forward.natural": 2}
    assert "p2.normative.in_force" not in m.figures_for(this)


# ---------------------------------------------------------------------------- end to end
# Real files: templates written, filled by defined name, checked with --previous.

APPLICANTS = ("natural", "business", "research", "nonprofit", "legal", "other_org")


def _this_year(fmt, seed: int, carried: dict[str, int]) -> dict:
    """Consistent figures whose 二、上年结转 is ``carried`` (column -> count)."""
    import random

    from test_aggregate import consistent_figures

    v = consistent_figures(fmt, random.Random(seed))
    for col in APPLICANTS:
        v[f"p3.carried_over.{col}"] = carried[col]
        v[f"p3.received.{col}"] = (v[f"p3.result_total.{col}"] + v[f"p3.carry_forward.{col}"]
                                   - carried[col])
        if v[f"p3.received.{col}"] < 0:
            v[f"p3.carry_forward.{col}"] -= v[f"p3.received.{col}"]
            v[f"p3.received.{col}"] = 0
    for row in ("received", "carried_over", "carry_forward"):
        v[f"p3.{row}.total"] = sum(v[f"p3.{row}.{c}"] for c in APPLICANTS)
    return v


def _make(folder, name, fmt_id, year, values, *, agency=None, typed=None):
    from figures import fill

    from toolkit.formats import spec
    from toolkit.template.writer import write_template

    folder.mkdir(exist_ok=True)
    path = write_template(folder / name, spec.get(fmt_id), agency=agency, year=year)
    return fill(path, values, info={"agency": typed} if typed else None)


def _carry_forward(values) -> dict[str, int]:
    return {c: values[f"p3.carry_forward.{c}"] for c in APPLICANTS}


def test_r7_and_r8_mismatches_across_years(tmp_path):
    import random

    from test_aggregate import consistent_figures

    from toolkit.formats import spec
    from toolkit.outputs import check

    fmt = spec.get(NEW)
    last_dir, this_dir = tmp_path / "2022", tmp_path / "2023"
    # 甲: matched by the stamp.  乙: no stamp, typed with a space last year.  丙: new.
    last_a = consistent_figures(fmt, random.Random(1))
    last_b = consistent_figures(fmt, random.Random(2))
    _make(last_dir, "甲_2022.xlsx", NEW, 2022, last_a, agency="某某县甲局")
    _make(last_dir, "乙_2022.xlsx", NEW, 2022, last_b, typed="某某县 乙局")

    carried = _carry_forward(last_a)
    carried["natural"] += 1  # R7: ≠ last year's 四 in the 自然人 column
    this_a = _this_year(fmt, 11, carried)
    # R8: 行政规范性文件 现行有效 ≠ last year's + 制发 − 废止 (off by 2); 规章 right.
    for row, off in (("rules", 0), ("normative", 2)):
        this_a[f"p2.{row}.in_force"] = (last_a[f"p2.{row}.in_force"] + this_a[f"p2.{row}.issued"]
                                        - this_a[f"p2.{row}.repealed"] + off)
    this_b = _this_year(fmt, 12, _carry_forward(last_b))
    for row in ("rules", "normative"):
        this_b[f"p2.{row}.in_force"] = (last_b[f"p2.{row}.in_force"] + this_b[f"p2.{row}.issued"]
                                        - this_b[f"p2.{row}.repealed"])
    a = _make(this_dir, "甲.xlsx", NEW, 2023, this_a, agency="某某县甲局")
    b = _make(this_dir, "乙.xlsx", NEW, 2023, this_b, typed="某某县乙局")
    c = _make(this_dir, "丙.xlsx", NEW, 2023, consistent_figures(fmt, random.Random(3)),
              agency="某某县新设丙局")

    batch = check.run([this_dir], None, previous=[last_dir])
    by_name = {Path(r.path).name: r for r in batch.reports}
    ra, rb, rc = by_name[a.name], by_name[b.name], by_name[c.name]

    [r7] = [f for f in ra.findings if f.rule == "R7"]
    cell = fmt.figures["p3.carried_over.natural"]
    assert (r7.severity, r7.sheet, r7.cell) == ("error", cell.sheet, cell.cell) == (
        "error", "三、依申请公开", "D6")
    assert (r7.value, r7.expected) == (carried["natural"], last_a["p3.carry_forward.natural"])
    assert "上年报表 甲_2022.xlsx" in r7.message
    [r8] = [f for f in ra.findings if f.rule == "R8"]
    cell = fmt.figures["p2.normative.in_force"]
    assert (r8.severity, r8.sheet, r8.cell) == ("warning", cell.sheet, cell.cell)
    assert r8.expected == this_a["p2.normative.in_force"] - 2
    assert "上年报表 甲_2022.xlsx" in r8.message
    assert sorted(f.rule for f in ra.findings) == ["R7", "R8"]  # nothing else planted
    assert ra.status == "fail"

    assert rb.findings == [] and rb.status == "pass"
    assert batch.previous.source_for(rb) == "乙_2022.xlsx"
    assert batch.previous.choices[rb.path].how == BY_NAME
    assert batch.previous.choices[ra.path].how == BY_META
    # 丙 has no return last year: listed, not failed.
    assert rc.findings == [] and rc.status == "pass"
    assert [Path(r.path).name for r in batch.previous.unmatched] == [c.name]
    assert "  没有上年报表：某某县新设丙局（丙.xlsx）" in batch.previous.lines_zh()


def test_last_year_in_the_2019_format(tmp_path):
    """2021 return, last year's in the 2019 trial format: R7 is checked (三's 四 shares its
    keys), R8 is not (2019's part 二 has no 现行有效件数)."""
    import random

    from test_aggregate import consistent_figures

    from toolkit.formats import spec
    from toolkit.outputs import check

    last = consistent_figures(spec.get(OLD), random.Random(5))
    _make(tmp_path / "2020", "甲_2020.xlsx", OLD, 2020, last, agency="某某县甲局")
    carried = _carry_forward(last)
    carried["legal"] += 3
    this = _make(tmp_path / "2021", "甲.xlsx", NEW, 2021,
                 _this_year(spec.get(NEW), 8, carried), agency="某某县甲局")
    batch = check.run([this], None, previous=[tmp_path / "2020"])
    [report] = batch.reports
    assert [(f.rule, f.severity, f.cell) for f in report.findings] == [
        ("R7", "error", spec.get(NEW).figures["p3.carried_over.legal"].cell)]
    assert "上年报表 甲_2020.xlsx" in report.findings[0].message
