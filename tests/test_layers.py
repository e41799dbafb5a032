"""The stages depend one way (pyproject's import-linter contract), and no import cycles."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_linter_contract_is_kept():
    exe = shutil.which("lint-imports")
    assert exe, "import-linter 未安装（pip install -e '.[test]'）"
    done = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": str(Path(sys.executable).parent)})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " kept, 0 broken" in done.stdout


def test_the_ledger_is_a_low_stage():
    """The ledger records plain data: it sits beside workbook and template, above formats,
    so every command above can record into it and it imports none of them."""
    import tomllib

    layers = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"][0]["layers"]
    assert layers[-3:] == ["workbook | template | ledger", "formats", "common"]
