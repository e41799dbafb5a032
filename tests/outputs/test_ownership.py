"""Issue 13, items 7, 8 and 9: the toolkit writes only what it can prove it made
(common.ownership: a ledger in each folder it writes into), refuses (exit 2, 中文) to
overwrite anything else, never deletes what it did not make, runs one at a time per
output folder (common.lock), and never reads an earlier round's outputs as returns."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from figures import consistent, fill

from toolkit.common import lock, ownership
from toolkit.formats import spec
from toolkit.outputs import check
from toolkit.template.writer import write_template

FMT = spec.get("gov-2021")
TPL_NAME = "乙局_2025年政府信息公开年度报表.xlsx"


def disclosure(*args, cwd=None):
    return subprocess.run([sys.executable, "-c", "from toolkit.cli import main; main()", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (relative name -> sha256)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def theirs(files: dict[str, str]) -> dict[str, str]:
    """Without our own hidden bookkeeping (the ledger, the lock file)."""
    return {k: v for k, v in files.items() if Path(k).name not in (ownership.LEDGER, ownership.LOCK)}


def a_return(path: Path, agency: str, seed: int) -> Path:
    """A filled return, as an agency makes it (the template is ours; the filled file is not)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.parent / f"tmp-{seed}"
    scratch.mkdir()
    made = fill(write_template(scratch / "t.xlsx", FMT, agency=agency, year=2025),
                consistent(FMT, random.Random(seed)))
    shutil.move(made, path)
    shutil.rmtree(scratch)
    return path


def users_roster(path: Path) -> Path:
    wb = openpyxl.Workbook()
    wb.active.append(["单位名称", "电子邮箱"])
    for name, mail in (("甲局", "jia@example.cn"), ("乙局", "yi@example.cn")):
        wb.active.append([name, mail])
    wb.save(path)
    return path


def foreign_folder(work: Path) -> dict[str, str]:
    """A working folder full of the user's files, some named like our outputs."""
    a_return(work / "汇总.xlsx", "丙局", 1)  # a return that happens to be named 汇总.xlsx
    users_roster(work / "单位名单.xlsx")
    a_return(work / "2-报送文件" / "甲局.xlsx", "甲局", 2)
    a_return(work / "1-下发模板" / TPL_NAME, "乙局", 3)  # filled, saved under its template's name
    a_return(work / "模板.xlsx", "丁局", 4)
    a_return(work / "汇总表.xlsx", "戊局", 5)
    for partial in (work / ".汇总.xlsx.abc.partial", work / "sub" / ".报表.xlsx.def.partial"):
        partial.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(b"the user's own")
    (work / "结果" / "outbox").mkdir(parents=True)
    (work / "结果" / "outbox" / "甲局_校验意见.eml").write_bytes(b"a draft of the user's")
    (work / "结果" / "sent_log.jsonl").write_text("{}\n", encoding="utf-8")
    return snapshot(work)


def test_every_command_leaves_files_it_did_not_make_unchanged(tmp_path):
    work = tmp_path / "work"
    before = foreign_folder(work)

    def refused(*args):
        result = disclosure(*args, cwd=tmp_path)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert "不是本工具" in result.stderr and "Traceback" not in result.stderr, result.stderr
        return result

    refused("template", "-o", work / "模板.xlsx", "--year", "2025")
    refused("template", "--roster", work / "单位名单.xlsx", "-o", work / "1-下发模板", "--year", "2025")
    assert sorted(p.name for p in (work / "1-下发模板").iterdir() if not p.name.startswith(".")) == [TPL_NAME]
    refused("check", work, "-o", work)  # 汇总.xlsx there is a return, not ours to replace
    refused("demo", work)

    # Commands that may go on do, writing beside the user's files only what is theirs to write.
    checked = disclosure("check", work / "2-报送文件", "-o", work / "结果", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    refused("aggregate", work / "结果", "-o", work / "汇总表.xlsx")
    mailed = disclosure("mail", work / "结果", "--roster", work / "单位名单.xlsx", "--dry-run",
                        "--confirm-passed", cwd=tmp_path)
    assert mailed.returncode == 0, mailed.stdout + mailed.stderr
    assert "sent_log" not in mailed.stderr
    drafts = sorted(p.name for p in (work / "结果" / "outbox").glob("*.eml"))
    assert drafts == ["甲局_校验意见.eml", "甲局_通过确认.eml"]  # the user's draft kept, ours beside it
    distributed = disclosure("distribute", work / "1-下发模板", "--roster", work / "单位名单.xlsx",
                             "--deadline", "2026-01-31", "--dry-run", cwd=tmp_path)
    assert distributed.returncode in (0, 1), distributed.stdout + distributed.stderr
    rolled = disclosure("aggregate", work / "结果", "-o", work / "新汇总表.xlsx", cwd=tmp_path)
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    again = disclosure("check", work / "2-报送文件", "-o", work, cwd=tmp_path)  # sweeps nothing of theirs
    assert again.returncode == 2

    after = snapshot(work)
    assert {k: after.get(k) for k in before} == before, "a file the toolkit did not make was changed or deleted"


def test_demo_refuses_a_folder_of_someone_elses(tmp_path):
    """`disclosure demo .` in a folder with a real roster, or with a real 2-报送文件/."""
    for case, setup in (("roster", lambda w: users_roster(w / "单位名单.xlsx")),
                        ("returns", lambda w: a_return(w / "2-报送文件" / "甲局.xlsx", "甲局", 1)),
                        ("results", lambda w: (w / "3-校验结果").mkdir(parents=True))):
        work = tmp_path / case
        work.mkdir()
        setup(work)
        before = snapshot(work)
        result = disclosure("demo", ".", cwd=work)
        assert result.returncode == 2, (case, result.stdout, result.stderr)
        assert "不是本工具" in result.stderr
        assert theirs(snapshot(work)) == before
    # In a folder of its own, the demo runs, and runs again over its own files, its
    # ledger included after a command has recorded more in it (remind, as the README says).
    own = tmp_path / "own"
    for _ in range(2):
        result = disclosure("demo", own)
        assert result.returncode == 0, result.stdout + result.stderr
        used = disclosure("remind", "--ledger", own / "disclosure.db", "--dry-run", "-o", tmp_path / "催报")
        assert used.returncode == 0, used.stdout + used.stderr
    # Someone else's file put in its place is not the demo's to delete.
    (own / "disclosure.db").write_bytes(b"not a ledger")
    result = disclosure("demo", own)
    assert result.returncode == 2 and "disclosure.db 已存在，且不是本工具生成的文件" in result.stderr


def test_a_second_run_into_a_busy_outdir_refuses(tmp_path, monkeypatch):
    returns = tmp_path / "returns"
    a_return(returns / "甲局.xlsx", "甲局", 1)
    out = tmp_path / "out"
    assert disclosure("check", returns, "-o", out).returncode == 0
    users_roster(tmp_path / "名单.xlsx")
    before = snapshot(out)
    with lock.locked(out, wait=0):  # another run holds OUTDIR
        for args in (("check", returns, "-o", out),
                     ("mail", out, "--roster", tmp_path / "名单.xlsx", "--dry-run")):
            result = disclosure(*args)
            assert result.returncode == 2, (args, result.stdout, result.stderr)
            assert "另一个 disclosure 命令正在使用" in result.stderr
        assert snapshot(out) == before
    assert disclosure("check", returns, "-o", out).returncode == 0  # free again


def test_an_earlier_rounds_outputs_are_never_read_as_returns(tmp_path):
    returns = tmp_path / "报送"
    a_return(returns / "甲局.xlsx", "甲局", 1)
    bad = a_return(returns / "乙局.xlsx", "乙局", 2)
    fill(bad, {"p2.rules.issued": "无"})
    names = ["乙局.xlsx", "甲局.xlsx"]
    first = check.run([returns], returns / "第一轮", workers=1)
    assert sorted(Path(r.path).name for r in first.reports) == names
    (returns / "第一轮").rename(returns / "随便什么名字")  # recognised whatever its name
    for outdir in (returns / "第二轮", returns / "深" / "第三轮", returns):
        batch = check.run([returns], outdir, workers=1)
        assert sorted(Path(r.path).name for r in batch.reports) == names, outdir
        data = json.loads((outdir / "findings.json").read_text(encoding="utf-8"))
        assert sorted(Path(f["path"]).name for f in data["files"]) == names


def test_a_write_killed_between_record_and_rename_leaves_a_file_still_ours(tmp_path):
    """atomic_path records a file just before renaming it into place.  A kill between the
    two (simulated: the record of version 2 written, the rename never done) leaves
    version 1, which is still ours: a rerun replaces it instead of refusing it or
    working around it.  A file of a content never written stays someone else's."""
    from toolkit.common import atomic

    target = tmp_path / "out" / "汇总.xlsx"
    atomic.write_bytes(target, b"version 1")
    assert ownership.is_ours(target)
    v2 = b"version 2"
    ownership.record(target, hashlib.sha256(v2).hexdigest(), size=len(v2))  # ... and killed here
    assert target.read_bytes() == b"version 1" and ownership.is_ours(target)
    ownership.claim(target)  # the rerun may replace it
    atomic.write_bytes(target, v2)
    assert ownership.is_ours(target)
    target.write_bytes(b"typed over by a person")
    assert not ownership.is_ours(target)
    with pytest.raises(ownership.Refused):
        ownership.claim(target)  # a file changed by a person is not ours to replace
