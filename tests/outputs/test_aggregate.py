"""The regional roll-up (toolkit/aggregate.py, `disclosure aggregate`): three returns with
different consistent figures are added up, every figure compared with a sum computed
here, and the roll-up itself must pass the check."""

from __future__ import annotations

import os
import random
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from figures import fill, saved_at
from openpyxl import load_workbook

from toolkit.formats import spec
from toolkit.template.writer import write_template

NEW, OLD = "gov-2021", "gov-2019"
YEAR = 2023
AGENCIES = ("某某县教育局", "某某县财政局", "某某县交通运输局")


def _p3_rows(fmt: spec.Format) -> list[str]:
    return [r.key for t in fmt.part("p3").tables for r in t.rows]


def consistent_figures(fmt: spec.Format, rng: random.Random) -> dict[str, object]:
    """Random figures of ``fmt`` obeying R1, R3, R4, R5, built the way a clerk would:
    part 三 results in detail, totals added up, 四 = 一 + 二 − （七）."""
    v: dict[str, object] = {}
    rows = _p3_rows(fmt)
    first, last = rows.index("carried_over") + 1, rows.index("result_total")
    details = rows[first:last]  # （一） … （六）, items included
    table = fmt.part("p3").tables[0]
    columns = [c.key for c in table.columns if c.key != "total"]
    for col in columns:
        for row in details:
            v[f"p3.{row}.{col}"] = rng.randint(0, 9)
        v[f"p3.result_total.{col}"] = sum(v[f"p3.{r}.{col}"] for r in details)
        v[f"p3.carry_forward.{col}"] = rng.randint(0, 6)
        v[f"p3.carried_over.{col}"] = rng.randint(0, 4)
        v[f"p3.received.{col}"] = (v[f"p3.result_total.{col}"] + v[f"p3.carry_forward.{col}"]
                                   - v[f"p3.carried_over.{col}"])
        if v[f"p3.received.{col}"] < 0:  # more carried over than handled: carry fewer over
            v[f"p3.carried_over.{col}"] += v[f"p3.received.{col}"]
            v[f"p3.received.{col}"] = 0
    for row in rows:
        v[f"p3.{row}.total"] = sum(v[f"p3.{row}.{c}"] for c in columns)
    for group in ("review", "direct", "after"):
        parts = [rng.randint(0, 7) for _ in ("upheld", "corrected", "other", "pending")]
        for name, n in zip(("upheld", "corrected", "other", "pending"), parts):
            v[f"p4.cases.{group}_{name}"] = n
        v[f"p4.cases.{group}_total"] = sum(parts)
    for key, fig in fmt.figures.items():
        if fig.part == "p2":
            if fig.kind == "amount_wan":
                v[key] = rng.randint(0, 10**7) / 10**4  # 万元, 4 decimals
            elif fig.kind == "signed_count":
                v[key] = rng.randint(-20, 20)
            else:
                v[key] = rng.randint(0, 500)
    assert set(v) == set(fmt.figures)
    return v


def make_return(folder: Path, agency: str, values: dict, fmt_id: str = NEW, year: int | None = YEAR,
                name: str | None = None) -> Path:
    path = folder / (name or f"{agency}.xlsx")
    write_template(path, spec.get(fmt_id), agency=agency, year=year)
    return fill(path, values)


@pytest.fixture
def three(tmp_path):
    fmt = spec.get(NEW)
    rng = random.Random(20231)
    returns = tmp_path / "returns"
    returns.mkdir()
    figures = {a: consistent_figures(fmt, rng) for a in AGENCIES}
    paths = [make_return(returns, a, figures[a]) for a in AGENCIES]
    return returns, paths, figures


def expected_sums(fmt: spec.Format, figures: list[dict]) -> dict[str, Decimal]:
    return {k: sum((Decimal(str(f[k])) for f in figures), Decimal(0)) for k in fmt.figures}


def note_rows(path: Path) -> list[list]:
    ws = load_workbook(path)["汇总说明"]
    return [[c for c in row] for row in ws.iter_rows(values_only=True)]


def test_three_returns_add_up_figure_by_figure(three, tmp_path):
    from toolkit.outputs import check
    from toolkit.outputs.aggregate import aggregate

    returns, paths, figures = three
    fmt = spec.get(NEW)
    # One more return that fails the check (a row total off by one): left out.
    bad = consistent_figures(fmt, random.Random(7))
    bad["p3.received.total"] += 1
    failing = make_return(returns, "某某县水利局", bad)

    out = tmp_path / "汇总表.xlsx"
    rollup = aggregate([returns], out, region="某某县", year=YEAR)

    assert sorted(Path(r.path).name for r in rollup.included) == sorted(p.name for p in paths)
    assert [(Path(x.report.path), x.reason.split("：")[0]) for x in rollup.left_out] == [(failing, "需修改")]

    want = expected_sums(fmt, [figures[a] for a in AGENCIES])
    assert len(want) == 200
    wb = load_workbook(out)
    for key, fig in fmt.figures.items():
        got = wb[fig.sheet][fig.cell].value
        assert isinstance(got, (int, float)), (key, got)
        assert Decimal(str(got)) == want[key], (key, fig.sheet, fig.cell, got, want[key])
        # Through the defined name too: the template's names still lead to the figures.
        sheet, ref = next(wb.defined_names[fig.name].destinations)
        assert (sheet, ref.replace("$", "")) == (fig.sheet, fig.cell)

    # Titled with the region and year, not locked, the layout of the template.
    info = fmt.info
    assert wb[info.sheet][info.field("agency").area.ref].value == "某某县（汇总）"
    assert wb[info.sheet][info.field("year").area.ref].value == YEAR
    assert not any(wb[p.sheet].protection.sheet for p in fmt.parts)
    assert not (wb.security and wb.security.lockStructure)
    assert [ws.title for ws in wb.worksheets if ws.sheet_state == "visible"] == [
        "汇总说明", info.sheet, *(p.sheet for p in fmt.parts)]
    assert wb.active.title == "汇总说明"  # a roll-up opens on its own sheet

    # The roll-up checks clean.
    [report] = check.read_reports([out])
    assert report.status == "pass", [f.message for f in report.findings]
    assert report.findings == []
    assert (report.format, report.agency, report.year) == (NEW, "某某县（汇总）", YEAR)

    rows = note_rows(out)
    flat = [" ".join(str(c) for c in r if c is not None) for r in rows]
    assert flat[0] == f"某某县{YEAR}年度{fmt.title}汇总说明"
    assert "纳入汇总的单位（3）" in flat and "未纳入汇总的报表（1）" in flat
    included = [r for r in rows if r[2] in {p.name for p in paths}]
    assert sorted((r[1], r[3]) for r in included) == sorted((a, "通过") for a in AGENCIES)
    [left] = [r for r in rows if r[2] == failing.name]
    assert left[1] == "某某县水利局" and left[3].startswith("需修改：校验有 1 处错误")


def test_outdir_unreadable_duplicate_and_other_format(three, tmp_path):
    """From a check OUTDIR: an unreadable file, a byte-identical copy, a resubmission and a
    2019-format return are left out, each with its reason; the rest adds up."""
    from toolkit.outputs import check
    from toolkit.outputs.aggregate import aggregate

    returns, paths, figures = three
    fmt = spec.get(NEW)
    (returns / "坏文件.xlsx").write_bytes(b"PK\x03\x04 truncated")
    shutil.copy(paths[0], returns / "教育局副本.xlsx")
    os.utime(returns / "教育局副本.xlsx", (1_000_000_000, 1_000_000_000))  # the older one
    # The 财政局 sends a corrected return later: the newer one is used.
    newer = consistent_figures(fmt, random.Random(99))
    resent = make_return(returns, "某某县财政局", newer, name="财政局_重报.xlsx")
    os.utime(paths[1], (1_000_000_000, 1_000_000_000))
    # An old 2019-format template with no year filled in (a warning only, so it passes)
    # and one of 2020: left out for their format and their year.
    old_fmt = make_return(returns, "某某县档案馆", consistent_figures(spec.get(OLD), random.Random(3)),
                          fmt_id=OLD, year=None)
    old_year = make_return(returns, "某某县统计局", consistent_figures(spec.get(OLD), random.Random(4)),
                           fmt_id=OLD, year=2020)
    outdir = tmp_path / "check"
    batch = check.run([returns], outdir, annotate=False)
    assert {Path(r.path).name: r.status for r in batch.reports}["坏文件.xlsx"] == "unreadable"

    out = tmp_path / "汇总表.xlsx"
    rollup = aggregate([outdir], out, year=YEAR)
    reasons = {Path(x.report.path).name: x.reason for x in rollup.left_out}
    assert reasons["坏文件.xlsx"].startswith("无法读取")
    assert reasons[paths[1].name].startswith("重复报送：同一单位已采用 财政局_重报.xlsx，理由：文件")
    assert reasons["教育局副本.xlsx"] == f"重复报送：与已采用的 {paths[0].name} 内容完全相同"
    # A 2021 roll-up cannot hold a 2019 return (the format itself is not to be checked
    # against 2021 rules): it checks under its own format and is left out for the format.
    assert reasons[old_fmt.name] == ("报表格式为2019年格式（国办公开办函〔2019〕60号），"
                                     "与汇总采用的2021年格式（国办公开办函〔2021〕30号）不同")
    assert reasons[old_year.name] == f"报表年度为 2020 年，汇总的是 {YEAR} 年"
    assert len(rollup.included) == 3 and len(rollup.left_out) == 5
    assert resent.name in {Path(r.path).name for r in rollup.included}  # the newer return is the one used

    want = expected_sums(fmt, [figures[AGENCIES[0]], newer, figures[AGENCIES[2]]])
    wb = load_workbook(out)
    assert all(Decimal(str(wb[f.sheet][f.cell].value)) == want[k] for k, f in fmt.figures.items())
    flat = [" ".join(str(c) for c in r if c is not None) for r in note_rows(out)]
    assert flat[0] == f"{YEAR}年度{fmt.title}汇总说明"
    assert any("坏文件.xlsx 无法读取" in line for line in flat)
    [report] = check.read_reports([out])
    assert report.status == "pass" and report.agency == "汇总"

    # A roll-up found among returns is not added in again.
    shutil.copy(out, returns / "上次汇总.xlsx")
    again = aggregate([returns], tmp_path / "汇总表2.xlsx", year=YEAR)
    assert {Path(x.report.path).name: x.reason for x in again.left_out}["上次汇总.xlsx"] == "这是汇总表，不是单位报表"


def test_figures_an_agency_replaced_are_not_added_while_its_newer_return_fails(three, tmp_path):
    """The roll-up uses the return `disclosure check` uses: 财政局's newer return has a
    wrong total, so neither of its returns is added (not the older, replaced one)."""
    from toolkit.outputs.aggregate import aggregate

    returns, paths, figures = three
    fmt = spec.get(NEW)
    wrong = dict(figures["某某县财政局"], **{"p3.open.total": figures["某某县财政局"]["p3.open.total"] + 1})
    resent = make_return(returns, "某某县财政局", wrong, name="财政局_重报.xlsx")
    os.utime(paths[1], (1_000_000_000, 1_000_000_000))
    saved_at(paths[1], "2026-01-05T01:00:00Z")
    saved_at(resent, "2026-01-07T08:00:00Z")
    # Last year's report, sent again by mistake and saved later still: another year, so
    # it replaces nothing.
    stray = make_return(returns, "某某县教育局", consistent_figures(fmt, random.Random(5)), year=YEAR - 1,
                        name="教育局_上年.xlsx")

    rollup = aggregate([returns], tmp_path / "汇总表.xlsx", year=YEAR)
    reasons = {Path(x.report.path).name: x.reason for x in rollup.left_out}
    replaced = reasons.pop(paths[1].name)
    assert replaced.startswith("重复报送：同一单位以 财政局_重报.xlsx 为准（理由：文件保存时间最新（2026-01-07 ")
    assert replaced.endswith("），该文件尚未通过校验")
    assert reasons == {resent.name: "需修改：校验有 1 处错误，改正并通过校验后才能汇总",
                       stray.name: f"报表年度为 {YEAR - 1} 年，汇总的是 {YEAR} 年"}
    assert sorted(Path(r.path).name for r in rollup.included) == sorted([paths[0].name, paths[2].name])
    want = expected_sums(fmt, [figures[AGENCIES[0]], figures[AGENCIES[2]]])
    wb = load_workbook(tmp_path / "汇总表.xlsx")
    assert all(Decimal(str(wb[f.sheet][f.cell].value)) == want[k] for k, f in fmt.figures.items())


def test_only_2019_returns_roll_up_in_2019_format(tmp_path):
    from toolkit.outputs import check
    from toolkit.outputs.aggregate import aggregate

    fmt = spec.get(OLD)
    rng = random.Random(2020)
    figures = [consistent_figures(fmt, rng) for _ in range(2)]
    (tmp_path / "in").mkdir()
    for agency, values in zip(AGENCIES, figures):
        make_return(tmp_path / "in", agency, values, fmt_id=OLD, year=2020)
    out = tmp_path / "汇总表.xlsx"
    rollup = aggregate([tmp_path / "in"], out, region="某某市")
    assert (rollup.format, rollup.year, len(rollup.included)) == (OLD, 2020, 2)
    want = expected_sums(fmt, figures)
    wb = load_workbook(out)
    assert len(want) == 198
    for key, fig in fmt.figures.items():
        assert Decimal(str(wb[fig.sheet][fig.cell].value)) == want[key], key
    [report] = check.read_reports([out])
    assert report.status == "pass" and report.findings == [] and report.format == OLD


def test_cli_aggregate(three, tmp_path):
    from typer.testing import CliRunner

    from toolkit.cli import app

    returns, paths, _ = three
    out = tmp_path / "汇总表.xlsx"
    res = CliRunner().invoke(app, ["aggregate", str(returns), "-o", str(out), "--region", "某某县"])
    assert res.exit_code == 0, res.output
    assert f"已汇总 3 个单位的报表，未纳入 0 份（国办公开办函〔2021〕30号格式，{YEAR}年度）" in res.output
    assert out.is_file()

    res = CliRunner().invoke(app, ["aggregate", str(tmp_path / "没有这个文件夹"), "-o", str(out)])
    assert res.exit_code == 2  # a mistyped path is wrong usage, as in check
    assert "找不到要汇总的文件或文件夹" in res.output and "Traceback" not in res.output


def test_nothing_to_roll_up_is_a_clear_message(tmp_path):
    from toolkit.outputs.aggregate import AggregateError, aggregate

    bad = tmp_path / "空.xlsx"
    bad.write_bytes(b"")
    with pytest.raises(AggregateError, match="没有可汇总的报表") as err:
        aggregate([bad], tmp_path / "汇总表.xlsx")
    assert "空.xlsx" in str(err.value)
    assert not (tmp_path / "汇总表.xlsx").exists()


def test_outdir_from_another_folder_and_a_file_gone(three, tmp_path, monkeypatch):
    """findings.json may hold paths relative to where check ran; aggregating from
    elsewhere still finds them, and a file removed since is left out with its reason."""
    from toolkit.outputs import check
    from toolkit.outputs.aggregate import aggregate

    returns, paths, figures = three
    monkeypatch.chdir(tmp_path)
    check.run([Path("returns")], Path("out"), annotate=False)
    paths[2].unlink()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    rollup = aggregate([Path("../out")], Path("汇总表.xlsx"))
    assert sorted(Path(r.path).name for r in rollup.included) == sorted(p.name for p in paths[:2])
    [gone] = rollup.left_out
    assert gone.report.agency == AGENCIES[2]
    recorded = (tmp_path / "returns" / paths[2].name).resolve()  # findings.json keeps absolute paths
    assert gone.reason.startswith(f"找不到文件 {recorded}（校验结果 findings.json 中记录的路径）")
    fmt = spec.get(NEW)
    want = expected_sums(fmt, [figures[a] for a in AGENCIES[:2]])
    wb = load_workbook(elsewhere / "汇总表.xlsx")
    assert all(Decimal(str(wb[f.sheet][f.cell].value)) == want[k] for k, f in fmt.figures.items())


def test_output_never_overwrites_a_return(three, tmp_path):
    from toolkit.outputs.aggregate import AggregateError, aggregate, is_rollup

    returns, paths, _ = three
    before = paths[0].read_bytes()
    with pytest.raises(AggregateError, match="是一份报送的报表，不能覆盖"):
        aggregate([returns], paths[0])
    assert paths[0].read_bytes() == before
    # An earlier roll-up in the folder is replaced, not added in.
    out = returns / "汇总表.xlsx"
    aggregate([returns], out)
    assert is_rollup(out) and not is_rollup(paths[0])
    again = aggregate([returns], out)
    assert len(again.included) == 3 and again.left_out == []
