"""Issue 13, item 1: numbers no float can hold.  A figure is a finite number within its
kind's bound (workbook_templates/kinds.yaml); the rest is R6.range, and the batch, the
summary, findings.json and the roll-up all go on.  Whole numbers beyond 2**53 typed as
text stay exact through the sums, the summary and the roll-up."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest
from figures import consistent, fill, sha256, solve
from openpyxl import load_workbook

from toolkit.formats import spec
from toolkit.outputs import check
from toolkit.outputs.aggregate import aggregate
from toolkit.template.writer import write_template

FMT = spec.get("gov-2021")
HUGE = 2**53 + 1  # a double holds 2**53 and 2**53 + 2, not this


def exact_figures(seed: int) -> dict[str, object]:
    """A consistent filling where 自然人 of （一）予以公开 is HUGE: every figure summed
    over it comes out beyond 2**53, typed as text (as Excel keeps such digits)."""
    free = {k: int(v) if FMT.figures[k].kind == "count" else v
            for k, v in consistent(FMT, random.Random(seed)).items()}
    free["p3.open.natural"] = HUGE
    solved = solve(FMT, free)
    return {k: str(v) if isinstance(v, int) and abs(v) > 2**53 else v for k, v in solved.items()}


def strict_json(path: Path) -> dict:
    def refuse(name):
        raise AssertionError(f"findings.json holds {name}")

    return json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)


def agency_return(folder: Path, stem: str, values: dict) -> Path:
    return fill(write_template(folder / f"{stem}.xlsx", FMT, agency=f"{stem}局", year=2025), values)


@pytest.fixture
def batch_dir(tmp_path) -> Path:
    folder = tmp_path / "returns"
    folder.mkdir()
    rng = random.Random(7)
    agency_return(folder, "good", consistent(FMT, rng))
    agency_return(folder, "digits400", {**consistent(FMT, rng), "p2.rules.issued": "9" * 400})
    agency_return(folder, "e308", {**consistent(FMT, rng), "p3.received.natural": 1e308,
                                   "p3.received.business": 1e308})
    agency_return(folder, "fee_huge", {**consistent(FMT, rng), "p2.fees.amount": "1" + "0" * 13 + "万元"})
    agency_return(folder, "exact", exact_figures(1))
    wrong = exact_figures(2)
    wrong["p3.open.total"] = str(int(wrong["p3.open.total"]) + 1)  # off by one beyond 2**53
    agency_return(folder, "exact_wrong", wrong)
    return folder


def test_figures_beyond_any_bound_are_classified_and_exact_ones_kept(batch_dir, tmp_path):
    inputs = sorted(batch_dir.glob("*.xlsx"))
    before = {p: sha256(p) for p in inputs}
    out = tmp_path / "out"
    batch = check.run([batch_dir], out, workers=1)
    assert {p: sha256(p) for p in inputs} == before
    by_name = {Path(r.path).name: r for r in batch.reports}
    assert {n: r.status for n, r in by_name.items()} == {
        "good.xlsx": "pass", "exact.xlsx": "pass", "digits400.xlsx": "fail", "e308.xlsx": "fail",
        "fee_huge.xlsx": "fail", "exact_wrong.xlsx": "fail"}

    def rules(name):
        return sorted((f.cell, f.rule) for f in by_name[name].findings)

    assert rules("digits400.xlsx") == [("B4", "R6.range")]
    assert rules("e308.xlsx") == [("D5", "R6.range"), ("E5", "R6.range")]
    assert rules("fee_huge.xlsx") == [("B15", "R6.range")]
    assert "数字过大" in by_name["digits400.xlsx"].findings[0].message
    assert "9,999,999,999,999,999" in by_name["digits400.xlsx"].findings[0].message
    # The off-by-one total beyond 2**53 is found, with the exact expected figure.
    (r3,) = [f for f in by_name["exact_wrong.xlsx"].findings if f.rule == "R3"]
    total = int(exact_figures(2)["p3.open.total"])
    assert (r3.cell, r3.value, r3.expected) == ("J7", total + 1, total)
    assert str(total) in r3.message and "e+" not in r3.message
    # The exact return keeps its figure exact.
    assert by_name["exact.xlsx"].figures["p3.open.natural"] == HUGE

    data = strict_json(out / "findings.json")
    assert len(data["files"]) == 6
    summary = load_workbook(out / "汇总.xlsx")
    assert summary["全部文件"].max_row >= 7

    rolled = aggregate([out], tmp_path / "汇总表.xlsx")
    assert {Path(r.path).name for r in rolled.included} == {"good.xlsx", "exact.xlsx"}
    good = check.read_reports([batch_dir / "good.xlsx"], workers=1)[0]
    expected = HUGE + int(good.figures["p3.open.natural"])
    assert rolled.sums["p3.open.natural"] == expected
    # Written as its digits (a number cell would round it) and read back exactly.
    (again,) = check.read_reports([tmp_path / "汇总表.xlsx"], workers=1)
    assert again.figures["p3.open.natural"] == expected
    assert again.status == "pass"


def test_findings_json_is_strict_json_whatever_was_typed(template_2021, tmp_path):
    """A stored NaN/INF and out-of-range numbers never reach findings.json as NaN/Infinity."""
    folder = tmp_path / "r"
    folder.mkdir()
    rng = random.Random(3)
    fill(shutil.copy(template_2021, folder / "good.xlsx"), consistent(FMT, rng))
    fill(shutil.copy(template_2021, folder / "neg.xlsx"),
         {**consistent(FMT, rng), "p2.fees.amount": -1e300, "p2.rules.issued": "-" + "9" * 30})
    fill(shutil.copy(template_2021, folder / "unit.xlsx"),
         {**consistent(FMT, rng), "p2.penalty.decisions": "9" * 5000 + "件"})
    batch = check.run([folder], tmp_path / "out", workers=1)
    assert [r.status for r in batch.reports] == ["pass", "fail", "fail"]
    assert sorted(f.rule for f in batch.reports[1].findings) == ["R6.range", "R6.range"]
    assert [f.rule for f in batch.reports[2].findings] == ["R6.range"]
    strict_json(tmp_path / "out" / "findings.json")
