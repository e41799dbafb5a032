"""Issue 13, item 5: roster cells typed with a line break (Alt+Enter) and agency names
that would make hidden files.  template, distribute and mail go through every agency, on
every rerun, with a 中文 note for what was normalised; no template is a hidden file."""

from __future__ import annotations

import email
import random
import subprocess
import sys
from email import policy
from pathlib import Path

import openpyxl
from figures import consistent, fill

from toolkit.formats import spec
from toolkit.reading.roster import read_roster

FMT = spec.get("gov-2021")
ROWS = [  # 单位名称, 联系人, 电子邮箱 — as offices type them
    ("甲局\n（盖章）", "张三", "jia@example.cn"),
    (".NET应用推广中心", "李四", "net@example.cn"),
    ("丙局", "王五\r\n赵六", "bing@example.cn\nother@example.cn"),
    ("..丁局", "钱七", "ding@example.cn"),
    ("戊局", "孙八", "wu@example.cn"),
]


def disclosure(*args, cwd):
    return subprocess.run([sys.executable, "-c", "from toolkit.cli import main; main()", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


def roster(path: Path) -> Path:
    wb = openpyxl.Workbook()
    wb.active.append(["单位名称", "联系人", "电子邮箱"])
    for row in ROWS:
        wb.active.append(list(row))
    wb.save(path)
    return path


def test_line_breaks_and_leading_dots_in_a_roster(tmp_path):
    names = roster(tmp_path / "名单.xlsx")
    entries = read_roster(names)
    assert [e.name for e in entries] == ["甲局 （盖章）", ".NET应用推广中心", "丙局", "..丁局", "戊局"]
    assert entries[2].contact == "王五 赵六" and "\n" not in entries[2].email
    assert [bool(e.note) for e in entries] == [True, False, True, False, False]

    made = disclosure("template", "--roster", names, "-o", "模板", "--year", "2025", cwd=tmp_path)
    assert made.returncode == 0, made.stdout + made.stderr
    assert "单位名单第 2 行：单位名称中有换行，已按一行处理" in made.stdout
    assert "单位名单第 4 行：联系人、电子邮箱中有换行，已按一行处理" in made.stdout
    templates = sorted((tmp_path / "模板").glob("*.xlsx"))
    assert len(templates) == len(ROWS) and not [p for p in templates if p.name.startswith(".")]
    assert any(p.name.startswith("NET应用推广中心_") for p in templates)

    for _ in range(2):  # the issue: it stopped at that agency on every rerun
        sent = disclosure("distribute", "模板", "--roster", names, "--deadline", "2026-01-31", "--dry-run",
                          cwd=tmp_path)
        assert sent.returncode == 0 and "Traceback" not in sent.stderr, sent.stdout + sent.stderr
        assert f"已写出 {len(ROWS)} 封邮件草稿" in sent.stdout
    drafts = list((tmp_path / "模板" / "outbox").glob("*.eml"))
    assert len(drafts) == len(ROWS)
    to = sorted(email.message_from_bytes(p.read_bytes(), policy=policy.default)["To"] for p in drafts)
    assert any("bing@example.cn" in t and "other@example.cn" in t for t in to)

    returns = tmp_path / "报送"
    returns.mkdir()
    for i, tpl in enumerate(templates):
        values = consistent(FMT, random.Random(i))
        if i % 2:
            values["p2.rules.issued"] = "无"
        fill(tpl, values, returns / tpl.name)
    checked = disclosure("check", "报送", "-o", "结果", "--roster", names, cwd=tmp_path)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    for _ in range(2):
        mailed = disclosure("mail", "结果", "--roster", names, "--dry-run", "--confirm-passed", cwd=tmp_path)
        assert mailed.returncode == 0 and "Traceback" not in mailed.stderr, mailed.stdout + mailed.stderr
        assert f"已写出 {len(ROWS)} 封邮件草稿" in mailed.stdout, mailed.stdout
