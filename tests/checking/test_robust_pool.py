"""Issue 13, item 3: a worker killed (SIGKILL, as the out-of-memory killer sends) costs
its file a verdict (L3), not the batch; SIGTERM to the main process takes the workers
with it.  Killing is real: a watcher kills any worker of the batch that holds a
"killer" file open, every time, so the file is killed in the pool and again alone."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from figures import consistent, fill

from toolkit.formats import spec
from toolkit.template.writer import write_template

FMT = spec.get("gov-2021")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid:
            found.append(int(entry))
    return found


def holds(pid: int, targets: set[str]) -> bool:
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in targets:
                    return True
            except OSError:
                continue
    except OSError:
        pass
    return False


def returns(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for i in range(n):
        tpl = write_template(folder / f"单位{i:02d}.xlsx", FMT, agency=f"单位{i:02d}", year=2025)
        made.append(fill(tpl, consistent(FMT, random.Random(i))))
    return made


def start(args: list, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "from toolkit.cli import main; main()", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def test_a_killed_worker_costs_its_file_a_verdict_not_the_batch(tmp_path):
    folder = tmp_path / "returns"
    good = returns(folder, 10)
    # Two killers: large enough that reading keeps them open a while (hashing 15 MB).
    killers = []
    for name in ("杀手甲.xlsx", "杀手乙.xlsx"):
        path = folder / name
        path.write_bytes(os.urandom(15 * 1024 * 1024))
        killers.append(path)
    targets = {str(p) for p in killers}
    before = {p: sha(p) for p in [*good, *killers]}
    proc = start(["check", folder, "-o", tmp_path / "out", "--workers", "2"])
    kills = []

    def watcher():
        while proc.poll() is None:
            for child in children(proc.pid):
                if holds(child, targets):
                    try:
                        os.kill(child, signal.SIGKILL)
                        kills.append(child)
                    except ProcessLookupError:
                        pass
            time.sleep(0.001)

    thread = threading.Thread(target=watcher, daemon=True)
    thread.start()
    stdout, stderr = proc.communicate(timeout=600)
    thread.join(timeout=5)
    assert proc.returncode == 1, stdout + stderr
    assert len(kills) >= 2 * len(killers), "each killer is killed in the pool and again alone"
    data = json.loads((tmp_path / "out" / "findings.json").read_text(encoding="utf-8"))
    verdicts = {Path(f["path"]).name: (f["status"], [x["rule"] for x in f["findings"]]) for f in data["files"]}
    assert {p.name: verdicts[p.name] for p in killers} == {p.name: ("unreadable", ["L3"]) for p in killers}
    assert all(verdicts[p.name] == ("pass", []) for p in good)
    assert len(verdicts) == len(good) + len(killers)
    assert {p: sha(p) for p in before} == before
    assert "无法读取 2" in stdout


def test_sigterm_to_the_batch_takes_its_workers_along(tmp_path):
    folder = tmp_path / "returns"
    returns(folder, 40)
    for trial in range(2):  # twice: one run each time, killed while its workers read
        proc = start(["check", folder, "-o", tmp_path / f"out{trial}", "--workers", "2"])
        workers = []
        deadline = time.monotonic() + 120
        while not workers and time.monotonic() < deadline and proc.poll() is None:
            workers = children(proc.pid)
            time.sleep(0.02)
        assert workers, "the batch never started its workers"
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
        gone_by = time.monotonic() + 5
        while time.monotonic() < gone_by and any(Path(f"/proc/{w}").exists() for w in workers):
            time.sleep(0.05)
        alive = [w for w in workers if Path(f"/proc/{w}").exists()
                 and "Z" not in Path(f"/proc/{w}/stat").read_text().rsplit(")", 1)[1].split()[0]]
        assert alive == [], f"workers left running after SIGTERM: {alive}"
