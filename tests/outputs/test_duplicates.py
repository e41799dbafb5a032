"""Issue 14 items 1 and 12: one agency's several returns are counted once, with or
without a roster, and the screen says which file was used; a roster listing an agency
twice is said, not silently renamed."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys

import openpyxl
import pytest
from figures import consistent, fill

from toolkit.formats import spec
from toolkit.outputs import check
from toolkit.outputs.aggregate import aggregate
from toolkit.reading.roster import RosterEntry, write_sample_roster
from toolkit.template import batch, writer

FMT = spec.get("gov-2021")
KEY = "p3.received.total"


def disclosure(*args):
    return subprocess.run([sys.executable, "-c", "from toolkit.cli import main; main()", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture()
def returns(template_2021, tmp_path):
    """甲局 sends twice (a first return, then a corrected one saved later), 乙局 once."""
    folder = tmp_path / "returns"
    folder.mkdir()
    first = consistent(FMT, random.Random(1))
    second = consistent(FMT, random.Random(2))
    other = consistent(FMT, random.Random(3))
    assert first[KEY] != second[KEY]
    paths = {}
    for name, agency, values in (("甲局.xlsx", "甲局", first), ("甲局（更正）.xlsx", "甲局", second),
                                 ("乙局.xlsx", "乙局", other)):
        path = folder / name
        writer.write_template(path, FMT, agency=agency, year=2025)
        paths[name] = fill(path, values)
    old = paths["甲局.xlsx"].stat().st_mtime - 3600
    os.utime(paths["甲局.xlsx"], (old, old))  # the first return is the older file
    return folder, paths, {"first": first, "second": second, "other": other}


def _total_row(ws):
    row = next(r for r in ws.iter_rows() if str(r[1].value).startswith("合计（"))
    return {ws.cell(3, c.column).value: c.value for c in row if c.column > 4}


def test_duplicates_counted_once_without_roster(returns, tmp_path):
    folder, paths, values = returns
    batch = check.run([folder], tmp_path / "out", annotate=False)
    assert all(r.status == "pass" for r in batch.reports)
    (dup,) = batch.duplicates
    assert dup.agency == "甲局" and dup.used.path == str(paths["甲局（更正）.xlsx"])
    assert batch.unused() == {str(paths["甲局.xlsx"])}
    ws = openpyxl.load_workbook(batch.summary)["主要数字"]
    totals = _total_row(ws)
    title = FMT.figures[KEY].title
    assert any(r[1].value == "合计（通过校验的 2 个单位）" for r in ws.iter_rows())
    assert totals[title] == values["second"][KEY] + values["other"][KEY]
    # The same total as the roll-up, which adds each agency once.
    rollup = aggregate([folder], tmp_path / "汇总表.xlsx")
    assert rollup.sums[KEY] == totals[title]
    assert {os.path.basename(r.path) for r in rollup.included} == {"甲局（更正）.xlsx", "乙局.xlsx"}
    remarks = [r[-1].value for r in ws.iter_rows(min_row=4) if r[1].value == "甲局"]
    assert sorted(remarks, key=str) == [None, "重复报送，未采用"]


def test_duplicates_counted_once_with_roster(returns, tmp_path):
    folder, paths, values = returns
    roster = write_sample_roster(tmp_path / "名单.xlsx", [RosterEntry("甲局"), RosterEntry("乙局")])
    batch = check.run([folder], tmp_path / "out", roster=roster, annotate=False)
    assert batch.unused() == {str(paths["甲局.xlsx"])}
    totals = _total_row(openpyxl.load_workbook(batch.summary)["主要数字"])
    assert totals[FMT.figures[KEY].title] == values["second"][KEY] + values["other"][KEY]


def test_the_same_file_twice_under_two_names_is_one_return(returns, tmp_path):
    folder, paths, values = returns
    shutil.copy(paths["乙局.xlsx"], folder / "乙局 副本.xlsx")
    batch = check.run([folder], tmp_path / "out", annotate=False)
    assert sorted(d.agency for d in batch.duplicates) == ["乙局", "甲局"]
    totals = _total_row(openpyxl.load_workbook(batch.summary)["主要数字"])
    assert totals[FMT.figures[KEY].title] == values["second"][KEY] + values["other"][KEY]


def test_screen_says_which_file_was_used(returns, tmp_path):
    folder, _, _ = returns
    done = disclosure("check", folder, "-o", tmp_path / "out")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("重复报送（1 个单位"))
    assert lines[head + 1] == "  甲局：2 个文件"
    assert lines[head + 2].startswith("    采用 甲局（更正）.xlsx（修改于 ")
    assert lines[head + 3].startswith("    未采用 甲局.xlsx（修改于 ")
    assert lines[head + 4].startswith("    理由：")


# -- item 12: a roster listing an agency twice ----------------------------------------

def test_roster_duplicate_is_said(tmp_path):
    entries = [RosterEntry("甲局", row=2), RosterEntry("乙局", row=3), RosterEntry("甲局", row=4),
               RosterEntry("丙/局", row=5), RosterEntry("丙_局", row=6)]
    made = batch.write_batch(entries, tmp_path / "out", year=2025)
    assert [p.name for p in made] == [
        "甲局_2025年政府信息公开年度报表.xlsx", "乙局_2025年政府信息公开年度报表.xlsx",
        "甲局_2025年政府信息公开年度报表_2.xlsx", "丙_局_2025年政府信息公开年度报表.xlsx",
        "丙_局_2025年政府信息公开年度报表_2.xlsx"]
    assert [(e.row, p.name, first.row) for e, p, first in made.renamed] == [
        (4, made[2].name, 2), (6, made[4].name, 5)]
    assert made.notes() == [
        "注意：“甲局”在名单中出现不止一次（名单第 4 行），这一份模板另存为 "
        "甲局_2025年政府信息公开年度报表_2.xlsx；请核对单位名单。",
        "注意：“丙_局”（名单第 6 行）与“丙/局”的文件名相同，这一份模板另存为 "
        "丙_局_2025年政府信息公开年度报表_2.xlsx；请核对单位名单。"]


def test_roster_duplicate_is_said_by_the_command(tmp_path):
    roster = write_sample_roster(tmp_path / "名单.xlsx", [RosterEntry("甲局"), RosterEntry("乙局"),
                                                         RosterEntry("甲局")])
    done = disclosure("template", "--roster", roster, "-o", tmp_path / "模板", "--year", "2025")
    assert done.returncode == 0, done.stderr
    assert "注意：“甲局”在名单中出现不止一次（名单第 4 行），这一份模板另存为 " \
           "甲局_2025年政府信息公开年度报表_2.xlsx；请核对单位名单。" in done.stdout
    assert len(list((tmp_path / "模板").glob("*.xlsx"))) == 3
