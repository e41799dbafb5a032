"""Issue 5: a batch killed midway (SIGKILL: no cleanup code runs) leaves nothing behind
that a rerun or `disclosure mail` would trust, changes no input, and a rerun into the
same OUTDIR produces complete, correct outputs."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from figures import consistent, fill, sha256
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.formats import spec
from toolkit.outputs import check
from toolkit.template.writer import write_template

FMT = spec.get("gov-2021")
N_FILES = 40
WRONG_KEY = "p3.open.total"  # half the returns have this row total off by one (R3)


def partials(folder: Path) -> list[Path]:
    """Temporaries of toolkit.common.atomic, wherever a killed writer left them."""
    return sorted(p for p in folder.rglob("*") if p.name.startswith(".") and p.name.endswith(".partial"))


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    """N_FILES returns of distinct agencies, every other one with a wrong total (so that
    the batch writes an annotated copy for it: the slow part a kill lands in)."""
    root = tmp_path_factory.mktemp("interrupted")
    folder = root / "报送"
    folder.mkdir()
    values = consistent(FMT, random.Random(40))
    wrong = {**values, WRONG_KEY: values[WRONG_KEY] + 1}
    for i in range(N_FILES):
        agency = f"测试县第{i:02d}局"
        tpl = write_template(root / f"t{i}.xlsx", FMT, agency=agency, year=2025)
        fill(tpl, wrong if i % 2 else values, folder / f"{agency}.xlsx")
    return folder


def _start(inbox: Path, out: Path) -> subprocess.Popen:
    code = (f"from toolkit.outputs import check; check.run([{str(inbox)!r}], {str(out)!r}, workers=2)")
    # Its own session, so that the kill reaches its worker processes too (by group id).
    return subprocess.Popen([sys.executable, "-c", code], start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _kill_when_annotating(proc: subprocess.Popen, out: Path, timeout: float = 120) -> None:
    """SIGKILL the run once the first annotated copy exists: reading and validation are
    done, the outputs are half written."""
    annotated = out / "annotated"
    end = time.monotonic() + timeout
    try:
        while time.monotonic() < end:
            if annotated.is_dir() and any(not p.name.startswith(".") for p in annotated.iterdir()):
                os.killpg(proc.pid, signal.SIGKILL)
                break
            if proc.poll() is not None:
                pytest.fail(f"the run ended before it could be killed: {proc.stderr.read().decode()}")
            time.sleep(0.005)
        else:
            pytest.fail("the run never reached its outputs")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()


def _stale_findings(out: Path) -> None:
    """A previous run's findings.json (all returns passed) that the new run must not leave
    (written as the toolkit writes it, so it is the toolkit's to replace)."""
    from toolkit.common import atomic

    atomic.write_text(out / check.FINDINGS_JSON, json.dumps(
        {"format": FMT.id, "generated_at": "2025-01-01T00:00:00+00:00",
         "files": [{"path": "旧.xlsx", "status": "pass", "findings": []}]}, ensure_ascii=False))


def test_killed_batch_leaves_nothing_trusted_and_a_rerun_completes(inbox, tmp_path):
    inputs = sorted(inbox.iterdir())
    before = {p: sha256(p) for p in inputs}
    out = tmp_path / "校验结果"
    _stale_findings(out)

    proc = _start(inbox, out)
    _kill_when_annotating(proc, out)
    assert proc.returncode == -signal.SIGKILL

    # Nothing a reader of OUTDIR trusts: no findings.json (the stale one was removed first).
    assert not (out / check.FINDINGS_JSON).exists()
    assert {p: sha256(p) for p in inputs} == before
    assert sorted(inbox.iterdir()) == inputs  # nothing added beside the returns either

    # `disclosure mail` refuses the half-written OUTDIR, in 中文, naming the missing file.
    roster = tmp_path / "名单.csv"
    roster.write_text("单位名称,电子邮箱\n" + "".join(
        f"{p.stem},u{i}@example.cn\n" for i, p in enumerate(inputs)), encoding="utf-8")
    mailed = CliRunner().invoke(app, ["mail", str(out), "--roster", str(roster), "--dry-run",
                                      "--smtp-host", "localhost", "--from", "office@example.cn"])
    assert mailed.exit_code == 1, mailed.output
    assert f"{out} 中没有 {check.FINDINGS_JSON}" in mailed.output
    assert not (out / "outbox").exists()

    # A killed atomic write leaves a temporary: plant one for each output as proof, so the
    # rerun is shown to ignore them whatever the kill happened to hit.
    planted = [out / f".{check.FINDINGS_JSON}.x1y2z3.partial", out / "annotated" / ".某局_校验意见.xlsx.x1y2z3.partial"]
    for p in planted:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b'{"files": [')  # half a file
    left = partials(out)

    batch = check.run([inbox], out, workers=2)
    assert {p: sha256(p) for p in inputs} == before
    data = json.loads((out / check.FINDINGS_JSON).read_text(encoding="utf-8"))
    files = {Path(f["path"]).name: f for f in data["files"]}
    assert sorted(files) == [p.name for p in inputs]
    for i in range(N_FILES):
        name = f"测试县第{i:02d}局.xlsx"
        entry = files[name]
        if i % 2:
            assert (entry["status"], entry["errors"]) == ("fail", 1)
            assert [(f["rule"], f["cell"]) for f in entry["findings"]] == [("R3", FMT.figures[WRONG_KEY].cell)]
            copy = out / entry["annotated"]
            assert copy.is_file() and not copy.name.startswith(".")
        else:
            assert (entry["status"], entry["findings"], entry["annotated"]) == ("pass", [], None)
        assert entry["sha256"] == before[inbox / name]
    # The rerun's own outputs are all there; temporaries are never listed nor read as
    # outputs (whether the rerun sweeps them is reported by the next test).
    named = {str(out / f["annotated"]) for f in data["files"] if f["annotated"]}
    assert not any(p.name.endswith(".partial") for p in map(Path, named))
    assert set(partials(out)) <= set(left)
    assert (out / "汇总.xlsx").is_file() and batch.summary == out / "汇总.xlsx"
    annotated = sorted(p.name for p in (out / "annotated").iterdir() if not p.name.startswith("."))
    assert len(annotated) == N_FILES // 2
    # And OUTDIR given back as input reads no temporary as a return.
    assert not [p for p in check.collect([out]) if p.name.endswith(".partial")]


def test_rerun_sweeps_temporaries_of_a_killed_run(inbox, tmp_path):
    """Leftover ``.*.partial`` files are never trusted, but they are litter in the
    folder an office mails from; a rerun into the same OUTDIR should remove them — from
    the folders the toolkit made, never from a folder of the user's beneath OUTDIR."""
    from toolkit.common import ownership

    out = tmp_path / "校验结果"
    ownership.make_dirs(out / "annotated")  # as the killed run left them: folders of ours
    planted = [out / f".{check.FINDINGS_JSON}.abc123.partial", out / "annotated" / ".某局_校验意见.xlsx.abc123.partial",
               out / ".汇总.xlsx.abc123.partial"]
    theirs = [out / "我的文件夹" / ".报表.xlsx.abc123.partial", out / "我的文件夹" / "子" / ".x.partial"]
    for p in planted + theirs:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"PK\x03\x04half")
    check.run([inbox], out, workers=2)
    assert (out / check.FINDINGS_JSON).is_file()
    assert partials(out) == theirs, "check.run 应只清除本工具的文件夹中上次被中断时留下的 .partial 临时文件"
