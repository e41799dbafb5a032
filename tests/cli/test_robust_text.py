"""Issue 13, items 2 and 4: text from outside shown safely.  File names that are not
UTF-8 (GBK bytes from a Windows zip, or bytes no encoding decodes), file names carrying
terminal escape sequences, agency names and cell text that look like rich markup: every
file gets its verdict, every output is written, nothing reaches the terminal raw."""

from __future__ import annotations

import email
import json
import os
import random
import subprocess
import sys
from email import policy
from pathlib import Path

from figures import consistent, fill, sha256
from openpyxl import load_workbook

from toolkit.common.display import shown, shown_name
from toolkit.formats import spec
from toolkit.reading.roster import RosterEntry, write_sample_roster
from toolkit.template.writer import write_template

FMT = spec.get("gov-2021")
GBK_NAME = os.fsdecode("乙局报表".encode("gbk") + b".xlsx")  # as unzip leaves a Windows name
BAD_BYTES = os.fsdecode(b"\xff\xfe\x80report.xlsx")  # no encoding reads these bytes
ESC_NAMES = ("\x1b[31m红色\x1b[0m.xlsx", "\x1b]0;title\x07丁局\x9b2J.xlsx")
MARKUP_AGENCIES = ("乙局[/b]", "[bold red]丙局[/]", "戊局[link=http://x]")


def disclosure(*args, cwd=None):
    return subprocess.run([sys.executable, "-c", "from toolkit.cli import main; main()", *map(os.fsencode, args)],
                          capture_output=True, cwd=cwd, timeout=300)


def make(folder: Path, name: str, agency: str, **typed) -> Path:
    tpl = write_template(folder / name, FMT, agency=agency, year=2025)
    return fill(tpl, {**consistent(FMT, random.Random(len(agency) + len(name))), **typed})


def test_display_decodes_gbk_and_drops_controls():
    assert shown(GBK_NAME) == "乙局报表.xlsx"
    assert shown(BAD_BYTES) == "\ufffd\ufffd\ufffdreport.xlsx"
    assert shown_name("/x/" + ESC_NAMES[0]) == "[31m红色[0m.xlsx"
    assert "\x1b" not in shown_name(ESC_NAMES[1]) and "\x07" not in shown_name(ESC_NAMES[1])
    assert shown_name("甲\n局.xlsx") == "甲 局.xlsx"
    assert shown("乙局[/b]") == "乙局[/b]"  # markup is text, left as typed


def test_strange_names_and_markup_in_one_batch(tmp_path):
    returns = tmp_path / "returns"
    returns.mkdir()
    make(returns, "good.xlsx", "甲局")
    make(returns, GBK_NAME, MARKUP_AGENCIES[0], **{"p2.rules.issued": "见附件[/]"})
    make(returns, BAD_BYTES, MARKUP_AGENCIES[1], **{"p2.rules.issued": "[bold]3[/bold]"})
    make(returns, ESC_NAMES[0], MARKUP_AGENCIES[2])
    make(returns, ESC_NAMES[1], "己局", **{"p2.rules.repealed": "\x9b2J"})
    inputs = sorted(p for p in returns.iterdir() if p.suffix == ".xlsx")
    before = {p: sha256(p) for p in inputs}

    out = tmp_path / "out"
    result = disclosure("check", returns, "-o", out)
    stdout, stderr = result.stdout.decode("utf-8"), result.stderr.decode("utf-8")
    assert result.returncode == 1, stdout + stderr
    assert "Traceback" not in stdout + stderr and "出错了" not in stderr
    assert not any(c in stdout + stderr for c in "\x1b\x07\x9b")
    assert "共 5 个文件：通过 2，需修改 3，无法读取 0" in stdout
    for text in ("乙局报表.xlsx", "乙局[/b]", "[bold red]丙局[/]", "见附件[/]", "[bold]3[/bold]", "\ufffd"):
        assert text in stdout, text
    assert {p: sha256(p) for p in inputs} == before

    data = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    by_path = {f["path"]: f for f in data["files"]}
    # Every path in findings.json names the real file again (os.fsencode gives its bytes).
    assert sorted(by_path) == sorted(str(p) for p in inputs)
    assert all(Path(p).is_file() for p in by_path)
    assert by_path[str(returns / GBK_NAME)]["agency"] == "乙局[/b]"
    assert by_path[str(returns / "good.xlsx")]["status"] == "pass"
    annotated = sorted(p.name for p in (out / "annotated").glob("*.xlsx"))
    assert "乙局报表_校验意见.xlsx" in annotated and len(annotated) == 3
    files = [c.value for c in load_workbook(out / "汇总.xlsx")["全部文件"]["D"][1:]]
    assert "乙局报表.xlsx" in files and all("\x1b" not in str(v) for v in files)

    roster = write_sample_roster(tmp_path / "名单.xlsx", [
        RosterEntry(a, "联系人", f"u{i}@example.cn", "") for i, a in enumerate(
            ("甲局", *MARKUP_AGENCIES, "己局"))])
    mailed = disclosure("mail", out, "--roster", roster, "--dry-run", cwd=tmp_path)
    assert mailed.returncode == 0, mailed.stdout.decode() + mailed.stderr.decode()
    drafts = list((out / "outbox").glob("*.eml"))
    assert len(drafts) == 3
    bodies = [email.message_from_bytes(p.read_bytes(), policy=policy.default).get_body(("plain",)).get_content()
              for p in drafts]
    assert any("乙局报表.xlsx" in b for b in bodies)
    assert {p: sha256(p) for p in inputs} == before
