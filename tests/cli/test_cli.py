"""The `disclosure` console command: exit codes, 中文 output, no tracebacks."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys

from figures import consistent, fill, saved_at

from toolkit.formats import spec
from toolkit.formats.catalogue import rules


def disclosure(*args, cwd=None):
    return subprocess.run([sys.executable, "-c", "from toolkit.cli import main; main()", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


def test_check_exit_codes_and_output(template_2021, tmp_path):
    good = fill(shutil.copy(template_2021, tmp_path / "甲局.xlsx"), consistent(spec.get(), random.Random(1)))
    values = consistent(spec.get(), random.Random(2))
    values["p3.open.total"] += 1
    bad = fill(shutil.copy(template_2021, tmp_path / "乙局.xlsx"), values)

    ok = disclosure("check", good, "-o", tmp_path / "out1")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "通过 1，需修改 0，无法读取 0" in ok.stdout

    failed = disclosure("check", good, bad, "-o", tmp_path / "out2")
    assert failed.returncode == 1
    assert "J7" in failed.stdout and "R3" in failed.stdout and "本行各项之和为" in failed.stdout
    assert (tmp_path / "out2" / "findings.json").is_file()
    assert (tmp_path / "out2" / "汇总.xlsx").is_file()


def test_a_failing_return_its_agency_replaced_does_not_fail_the_batch(template_2021, tmp_path):
    """甲局 sent a return with a wrong total, then a corrected one: the batch passes (exit
    0), the first is still listed as replaced; the first alone fails (exit 1)."""
    values = consistent(spec.get(), random.Random(3))
    wrong = dict(values, **{"p3.open.total": values["p3.open.total"] + 1})
    first = saved_at(fill(shutil.copy(template_2021, tmp_path / "甲局_第一次.xlsx"), wrong), "2026-01-05T01:00:00Z")
    fixed = saved_at(fill(shutil.copy(template_2021, tmp_path / "甲局_改正.xlsx"), values), "2026-01-07T08:00:00Z")
    both = disclosure("check", first, fixed, "-o", tmp_path / "out1")
    assert both.returncode == 0, both.stdout + both.stderr
    assert "需修改 1" in both.stdout and "重复报送" in both.stdout
    alone = disclosure("check", first, "-o", tmp_path / "out2")
    assert alone.returncode == 1, alone.stdout + alone.stderr


def test_unreadable_file_fails_the_batch_without_traceback(tmp_path):
    (tmp_path / "空.xlsx").write_bytes(b"")
    result = disclosure("check", tmp_path, "-o", tmp_path / "out")
    assert result.returncode == 1
    assert "无法读取 1" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_a_long_file_name_keeps_its_verdict_on_one_line_at_80_columns(template_2021, tmp_path):
    """The file name alone on its line when name and verdict do not fit in one."""
    values = consistent(spec.get(), random.Random(4))
    short = fill(shutil.copy(template_2021, tmp_path / "甲局.xlsx"), values)
    long = fill(shutil.copy(template_2021, tmp_path / ("示例县人民政府办公室_" * 3 + "年度报表.xlsx")), values)
    env = {**os.environ, "COLUMNS": "80"}
    done = subprocess.run([sys.executable, "-c", "from toolkit.cli import main; main()", "check", short, long,
                           "-o", tmp_path / "out"], capture_output=True, text=True, env=env, timeout=300, check=True)
    lines = done.stdout.splitlines()
    verdict = "示例县人民政府办公室  通过  错误 0，提醒 0"
    assert f"甲局.xlsx  {verdict}" in lines  # fits: one line
    assert lines[lines.index(long.name) + 1] == f"  {verdict}"  # does not: two, the verdict whole


def test_wrong_usage_is_exit_2_in_chinese(tmp_path):
    missing = disclosure("check", tmp_path / "没有这个文件.xlsx", "-o", tmp_path / "out")
    assert missing.returncode == 2 and "找不到" in missing.stdout
    no_args = disclosure("check")
    assert no_args.returncode == 2 and "缺少参数" in no_args.stderr and "Missing" not in no_args.stderr
    assert "'。" in no_args.stderr and "'." not in no_args.stderr  # a 中文 full stop
    bad_option = disclosure("check", tmp_path, "-o", tmp_path / "o", "--bogus")
    assert bad_option.returncode == 2 and "没有选项" in bad_option.stderr


def test_rules_lists_the_catalogue():
    result = disclosure("rules")
    assert result.returncode == 0
    for rule_id in rules():
        assert rule_id in result.stdout
    assert "勾稽关系" in result.stdout


def test_help_is_chinese():
    result = disclosure("--help")
    assert "用法" in result.stdout and "显示本帮助并退出" in result.stdout
    assert "Show this message" not in result.stdout


def test_a_big_batch_names_the_agencies_to_act(tmp_path):
    """Beyond 20 files the findings are not printed: the agencies that must fix their
    return are still named on screen (a replaced file is not: its agency sent a newer)."""
    from toolkit.template.writer import write_template

    template = write_template(tmp_path / "通用模板.xlsx", spec.get(), year=2025)  # for any agency
    good = consistent(spec.get(), random.Random(9))
    wrong = dict(good, **{"p3.open.total": good["p3.open.total"] + 1})
    folder = tmp_path / "报送"
    folder.mkdir()
    for i in range(21):
        fill(template, wrong if i in (3, 7) else good, folder / f"{i:02d}.xlsx", info={"agency": f"单位{i:02d}"})
    saved_at(fill(template, wrong, folder / "07旧.xlsx", info={"agency": "单位07"}), "2020-01-01T00:00:00Z")
    saved_at(folder / "07.xlsx", "2026-01-01T00:00:00Z")
    done = disclosure("check", folder, "-o", tmp_path / "out")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "需修改（2 个）：单位03、单位07\n" in done.stdout and "无法读取（" not in done.stdout
