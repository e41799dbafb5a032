from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/figures.py helpers
# Tests sit by stage (tests/<stage>/); a few share fixtures and builders across stages
# (test_mail's SMTP server, test_collect's mailbox), imported by module name.
sys.path[1:1] = sorted(str(d) for d in Path(__file__).parent.iterdir()
                       if d.is_dir() and not d.name.startswith((".", "_")) and any(d.glob("test_*.py")))

from toolkit.formats import spec  # noqa: E402


@pytest.fixture(scope="session")
def template_2021(tmp_path_factory) -> Path:
    """One generated 2021 template (read-only: copy before filling)."""
    from toolkit.template.writer import write_template

    path = tmp_path_factory.mktemp("tpl") / "模板.xlsx"
    return write_template(path, spec.get("gov-2021"), agency="示例县人民政府办公室", year=2025)


@pytest.fixture
def blank_return(template_2021, tmp_path) -> Path:
    dest = tmp_path / "return.xlsx"
    shutil.copy(template_2021, dest)
    return dest


REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "zhangshu-hrss-2023-annual-report.txt"


def reference_or_skip() -> Path:
    """The shared real report; CI lays shared/ beside the clone, so there it must exist."""
    if not REFERENCE.exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI 上必须有共享的参考报告：{REFERENCE}")
        pytest.skip("the shared reference report is not beside this checkout")
    return REFERENCE


def soffice_or_skip() -> str:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("CI 上必须有 LibreOffice（soffice），.ci/run 应安装 libreoffice-calc")
        pytest.skip("soffice not installed")
    return exe


def soffice_convert(src: Path, fmt: str, outdir: Path, profile: Path | None = None) -> Path:
    """Convert ``src`` with a real headless LibreOffice to ``fmt`` ("pdf", "xls",
    "xlsx:Calc MS Excel 2007 XML" …) in ``outdir``; returns the converted file.  A private
    profile (``profile``, else one beside ``outdir``), so parallel runs do not collide;
    a profile shared by several conversions saves LibreOffice setting one up each time."""
    exe = soffice_or_skip()
    outdir.mkdir(parents=True, exist_ok=True)
    profile = profile or outdir.parent / f"lo-profile-{outdir.name}"
    done = subprocess.run([exe, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                           "--nologo", "--nodefault", "--convert-to", fmt, "--outdir", str(outdir), str(src)],
                          capture_output=True, text=True, timeout=180, check=False)
    out = outdir / f"{src.stem}.{fmt.split(':')[0]}"
    assert done.returncode == 0 and out.is_file(), (f"LibreOffice did not write {out}", done.stdout, done.stderr)
    return out


@pytest.fixture(scope="session", params=["one_pass", "streaming"])
def reading(request):
    """The Limits to read with, twice: small parts read in one pass (the default,
    Limits.one_pass_max) and every part streamed, so both paths owe the same answers.
    Tests pass it to open_book (dataclasses.replace it to change another limit)."""
    from toolkit.workbook.limits import Limits

    return Limits() if request.param == "one_pass" else Limits(one_pass_max=-1)


@pytest.fixture(autouse=True)
def _private_ledger(tmp_path, monkeypatch):
    """Commands record into a ledger (disclosure.db in the current folder by default):
    each test gets its own, never one in the repository."""
    monkeypatch.setenv("DISCLOSURE_LEDGER", str(tmp_path / "disclosure.db"))
