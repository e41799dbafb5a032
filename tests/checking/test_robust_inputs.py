"""Issue 13, items 6 and 10: inputs and options that are not what they seem.  Options
that make no sense and an OUTDIR that cannot be written are usage errors (exit 2, 中文,
nothing read); FIFOs, devices, broken links and link loops get a verdict (never a hang);
a file this machine may not read is our side (L1), never mailed to the agency; one file
named three ways is one report; annotated copies checked directly are found."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from figures import consistent, fill

from toolkit.formats import spec
from toolkit.outputs import check
from toolkit.reading.roster import RosterEntry, write_sample_roster
from toolkit.template.writer import write_template

FMT = spec.get("gov-2021")
# Root reads every file whatever its mode; without these capabilities it does not.
NO_DAC = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


def disclosure(*args, cwd=None, prefix=(), timeout=120):
    return subprocess.run([*prefix, sys.executable, "-c", "from toolkit.cli import main; main()", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=timeout)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make(folder: Path, stem: str, seed: int, **typed) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    tpl = write_template(folder / f"{stem}.xlsx", FMT, agency=stem, year=2025)
    return fill(tpl, {**consistent(FMT, random.Random(seed)), **typed})


def regular_inputs(folder: Path) -> dict[Path, str]:
    return {p: sha(p) for p in sorted(folder.rglob("*.xlsx")) if p.is_file() and not p.is_symlink()}


def can_drop_privileges() -> bool:
    return shutil.which("setpriv") is not None and os.geteuid() == 0


@pytest.mark.parametrize("option", [["--max-mb", "inf"], ["--max-mb", "nan"], ["--max-mb", "-1"],
                                    ["--max-mb", "0"], ["--seconds", "nan"], ["--seconds", "-5"],
                                    ["--seconds", "inf"], ["--workers", "0"], ["--max-mb", "1e302"]])
def test_options_that_make_no_sense_are_usage_errors(option, tmp_path):
    good = make(tmp_path / "returns", "甲局", 1)
    before = sha(good)
    result = disclosure("check", tmp_path / "returns", "-o", tmp_path / "out", *option)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"'{option[0]}' 的值无效" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()  # nothing read, nothing written
    assert sha(good) == before


def test_an_outdir_that_cannot_be_written_is_refused_before_reading(tmp_path):
    make(tmp_path / "returns", "甲局", 1)
    blocker = tmp_path / "一个文件.txt"
    blocker.write_text("x")
    cases = [blocker / "out",  # a file stands where a folder should be
             Path("/proc/disclosure-test-out")]  # a read-only file system
    for outdir in cases:
        result = disclosure("check", tmp_path / "returns", "-o", outdir)
        assert result.returncode == 2, (outdir, result.stdout + result.stderr)
        assert "无法写入输出文件夹" in result.stderr or "不是文件夹" in result.stdout, result.stderr
        assert "Traceback" not in result.stdout + result.stderr
    if can_drop_privileges():
        locked = tmp_path / "只读"
        locked.mkdir(mode=0o555)
        result = disclosure("check", tmp_path / "returns", "-o", locked / "out", prefix=NO_DAC)
        assert result.returncode == 2 and "无法写入输出文件夹" in result.stderr and "没有权限" in result.stderr
        assert not (locked / "out").exists()


def test_special_files_and_links_get_verdicts_never_a_hang(tmp_path):
    returns = tmp_path / "returns"
    good = make(returns, "甲局", 1)
    make(returns, "乙局", 2)
    os.mkfifo(returns / "管道.xlsx")
    os.mkfifo(tmp_path / "named.xlsx")
    (returns / "失效.xlsx").symlink_to(tmp_path / "不存在.xlsx")
    (returns / "环1.xlsx").symlink_to(returns / "环2.xlsx")
    (returns / "环2.xlsx").symlink_to(returns / "环1.xlsx")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(returns / "套接字.xlsx"))
    before = regular_inputs(returns)
    try:
        result = disclosure("check", returns, tmp_path / "named.xlsx", "/dev/zero", "-o", tmp_path / "out",
                            timeout=120)
    finally:
        sock.close()
    assert result.returncode == 1, result.stdout + result.stderr
    data = json.loads((tmp_path / "out" / "findings.json").read_text(encoding="utf-8"))
    verdicts = {Path(f["path"]).name: (f["status"], [x["rule"] for x in f["findings"]], f["findings"])
                for f in data["files"]}
    assert verdicts["甲局.xlsx"][:2] == ("pass", []) and verdicts["乙局.xlsx"][:2] == ("pass", [])
    details = {}
    for name in ("管道.xlsx", "named.xlsx", "zero", "失效.xlsx", "环1.xlsx", "环2.xlsx", "套接字.xlsx"):
        status, rules, findings = verdicts[name]
        assert (status, rules) == ("unreadable", ["L2"]), name
        details[name] = findings[0]["message"]
    assert "命名管道" in details["管道.xlsx"] and "设备文件" in details["zero"]
    assert "指向的文件不存在" in details["失效.xlsx"] and "循环" in details["环1.xlsx"]
    assert "套接字" in details["套接字.xlsx"]
    assert regular_inputs(returns) == before and sha(good) == before[good]


@pytest.mark.skipif(not can_drop_privileges(), reason="needs root and setpriv to take away read permission")
def test_a_file_this_machine_may_not_read_is_a_local_error_never_mailed(tmp_path):
    returns = tmp_path / "returns"
    make(returns, "甲局", 1)
    shut = [make(returns, "乙局", 2), make(returns, "丙局", 3)]
    for p in shut:
        p.chmod(0)
    out = tmp_path / "out"
    result = disclosure("check", returns, "-o", out, prefix=NO_DAC)
    assert result.returncode == 1, result.stdout + result.stderr
    data = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    by_name = {Path(f["path"]).name: f for f in data["files"]}
    assert by_name["甲局.xlsx"]["status"] == "pass"
    for p in shut:
        entry = by_name[p.name]
        assert [x["rule"] for x in entry["findings"]] == ["L1"]
        assert "没有权限" in entry["findings"][0]["message"] and "已损坏" not in entry["findings"][0]["message"]
    roster = write_sample_roster(tmp_path / "名单.xlsx", [RosterEntry(n, "联系人", f"u{i}@example.cn", "")
                                                          for i, n in enumerate(("甲局", "乙局", "丙局"))])
    mailed = disclosure("mail", out, "--roster", roster, "--dry-run", cwd=tmp_path)
    assert mailed.returncode == 0, mailed.stdout + mailed.stderr
    assert not list((out / "outbox").glob("*.eml")) if (out / "outbox").exists() else True
    assert "因本机原因未能读取" in mailed.stdout and "乙局.xlsx" in mailed.stdout


def test_one_file_named_several_ways_is_one_report(tmp_path):
    returns = tmp_path / "returns"
    good = make(returns, "甲局", 1)
    other = make(returns, "乙局", 2)
    (tmp_path / "链接.xlsx").symlink_to(good)
    os.link(other, tmp_path / "硬链接.xlsx")
    sub = tmp_path / "sub"
    sub.mkdir()
    names = ["../returns/甲局.xlsx", str(good), "../returns/../returns/甲局.xlsx", "../链接.xlsx",
             "../returns/乙局.xlsx", "../硬链接.xlsx"]
    result = disclosure("check", *names, "-o", tmp_path / "out", cwd=sub)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "共 2 个文件" in result.stdout
    data = json.loads((tmp_path / "out" / "findings.json").read_text(encoding="utf-8"))
    assert sorted(Path(f["path"]).name for f in data["files"]) == ["乙局.xlsx", "甲局.xlsx"]
    # A folder and a file inside it: still one report each.
    assert len(check.collect([returns, good, returns / "." / "乙局.xlsx"])) == 2


def test_annotated_copies_checked_directly_are_returns(tmp_path):
    returns = tmp_path / "returns"
    make(returns, "甲局", 1)
    make(returns, "乙局", 2, **{"p2.rules.issued": "无"})
    make(returns, "丙局", 3, **{"p2.rules.issued": "见附件"})
    out = tmp_path / "out"
    first = check.run([returns], out, workers=1)
    copies = sorted((out / "annotated").glob("*.xlsx"))
    assert len(copies) == 2 and [r.status for r in first.reports].count("fail") == 2
    # The folder of copies, given as the folder to check, into OUTDIR itself or elsewhere.
    for target in (tmp_path / "out2", out):
        again = check.run([out / "annotated"], target, workers=1)
        assert sorted(Path(r.path).name for r in again.reports) == [c.name for c in copies]
        assert all(r.status == "fail" for r in again.reports)
    # One copy named directly.
    (single,) = check.run([copies[0]], tmp_path / "out3", workers=1).reports
    assert single.agency in ("乙局", "丙局") and single.status == "fail"
