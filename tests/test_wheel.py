"""A normal install works (issue 10, Broken 2): the wheel carries the format data, the
schemas and the package data, and the installed `disclosure` runs demo and check.

The wheel is built from a copy of the checkout without build isolation (no download),
installed into a fresh virtual environment that sees this machine's packages for the
dependencies only, and run from a folder outside the checkout with no PYTHONPATH, so the
venv's toolkit is the one imported (asserted)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(*args, cwd: Path, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode in (0, 1), f"{args}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis", "disclosure-demo"))
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "-w", str(work / "dist"), str(source)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    (built,) = (work / "dist").glob("disclosure_toolkit-*.whl")
    return built


def test_wheel_holds_every_module_and_data_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    want = {p.relative_to(ROOT).as_posix() for p in (ROOT / "toolkit").rglob("*.py")}
    want |= {f"toolkit/data/{p.name}" for p in (ROOT / "toolkit" / "data").glob("*.yaml")}
    want |= {f"toolkit/formats/data/{p.name}" for p in (ROOT / "workbook_templates").glob("*.yaml")}
    want |= {f"toolkit/checking/schemadata/{p.name}" for p in (ROOT / "schemas").glob("*.yaml")}
    assert len(want) > 60
    assert want - names == set()


def test_installed_wheel_runs_demo_and_check(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=300)
    python, disclosure = venv / "bin" / "python", venv / "bin" / "disclosure"
    # --force-reinstall: a system-wide install of this project (CI installs one) would
    # otherwise "already satisfy" the wheel inside a --system-site-packages venv.
    run(python, "-m", "pip", "install", "--no-deps", "--no-index", "--force-reinstall", "-q", wheel, cwd=tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DISCLOSURE_FORMATS")}
    where = tmp_path / "elsewhere"
    where.mkdir()

    probe = run(python, "-c", "import toolkit, toolkit.formats.spec as s; "
                "print(toolkit.__file__); print(s.TEMPLATES_DIR); print(' '.join(s.formats()))", cwd=where, env=env)
    module, data, ids = probe.stdout.splitlines()
    site = venv / "lib"
    assert Path(module).is_relative_to(site) and str(site) in data, probe.stdout
    assert str(ROOT) not in module + data
    assert ids.split() == ["gov-2021", "gov-2019"]

    demo = run(disclosure, "demo", "演示", cwd=where, env=env)
    assert demo.returncode == 0 and "演示完成" in demo.stdout, demo.stdout + demo.stderr
    # The demo ends on its second round: the returns folder as that round checked it.
    expected = json.loads((where / "演示" / "4-第二轮校验结果" / "findings.json").read_text(encoding="utf-8"))

    check = run(disclosure, "check", where / "演示" / "2-报送文件", "-o", where / "再查", cwd=where, env=env)
    assert check.returncode == 1, check.stdout + check.stderr  # the demo's returns include wrong ones
    again = json.loads((where / "再查" / "findings.json").read_text(encoding="utf-8"))
    status = lambda data: sorted((Path(f["path"]).name, f["status"], f["errors"]) for f in data["files"])  # noqa: E731
    assert status(again) == status(expected)
    assert {s for _name, s, _errors in status(again)} == {"pass", "fail", "unreadable"}
    assert (where / "再查" / "汇总.xlsx").is_file()
