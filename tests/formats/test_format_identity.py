"""A return's format is decided by what it says about itself — its stamp, then its year —
before names and labels, never by which format is newest (issue 10, Broken 1).

The third format here is written by the test: the 2021 format's data under a new id and
document, in force from NEW_YEAR, keeping every figure key, name and label, as the design's
cross-year rule wants.  Names and labels then fit it exactly as well as gov-2021."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from figures import consistent, fill
from openpyxl import load_workbook

from toolkit.formats import spec
from toolkit.reading import identity
from toolkit.reading.reader import read_return

NEW_ID, NEW_YEAR = "gov-2027", 2027


@pytest.fixture
def third_format(tmp_path, monkeypatch) -> Path:
    """A folder with the synthetic format, named by $DISCLOSURE_FORMATS (this process and
    the subprocesses it starts)."""
    data = yaml.safe_load(spec.get("gov-2021").source.read_text(encoding="utf-8"))
    data.update(id=NEW_ID, document="国办公开办函〔2027〕1号", years=[NEW_YEAR, 2099])
    folder = tmp_path / "formats"
    folder.mkdir()
    (folder / f"{NEW_ID}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv(spec.FORMATS_ENV, str(folder))
    return folder


def disclosure(*args):
    return subprocess.run([sys.executable, "-c", "from toolkit.cli import main; main()", *map(str, args)],
                          capture_output=True, text=True, timeout=300, env=os.environ.copy())


def _unnamed(src: Path, dest: Path) -> Path:
    """The same return with no defined names and no stamp: what an agency's own workbook,
    built by hand in the national layout, looks like to the reader."""
    wb = load_workbook(src)
    for name in list(wb.defined_names):
        del wb.defined_names[name]
    del wb["_meta"]
    wb.custom_doc_props.props.clear()
    wb.save(dest)
    return dest


def test_synthetic_format_loads_beside_the_shipped_ones(third_format):
    new, old = spec.get(NEW_ID), spec.get("gov-2021")
    assert list(new.figures) == list(old.figures) and new.figures_by_name.keys() == old.figures_by_name.keys()
    assert new.fingerprint == old.fingerprint  # same layout: only id, document and years differ
    assert spec.for_year(2024).id == "gov-2021"
    assert spec.for_year(NEW_YEAR + 1).id == NEW_ID  # in force from NEW_YEAR: supersedes gov-2021
    order = [f.id for f in identity.preference({"format": "gov-2021"}, NEW_YEAR + 1)]
    assert order[:2] == ["gov-2021", NEW_ID]  # the stamp before the year


def test_returns_of_each_year_read_as_their_own_format_and_pass(third_format, tmp_path):
    returns = tmp_path / "returns"
    returns.mkdir()
    want = {}
    for year, format_id in ((2021, "gov-2021"), (2024, "gov-2021"), (NEW_YEAR + 1, NEW_ID)):
        template = tmp_path / f"模板{year}.xlsx"
        made = disclosure("template", "-o", template, "--year", year, "--agency", f"{year}局")
        assert made.returncode == 0, made.stdout + made.stderr
        assert spec.get(format_id).document in made.stdout
        values = consistent(spec.get(format_id), random.Random(year))
        filled = fill(template, values, returns / f"{year}局.xlsx")
        want[filled.name] = (format_id, "names")
        want[_unnamed(filled, returns / f"{year}局自制.xlsx").name] = (format_id, "labels")

    for name, (format_id, how) in want.items():  # in this process too, through the reader
        result = read_return(returns / name)
        assert (result.format_id, result.read_by) == (format_id, how), name
        assert [f.rule for f in result.findings] == [], name

    checked = disclosure("check", returns, "-o", tmp_path / "out")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    files = json.loads((tmp_path / "out" / "findings.json").read_text(encoding="utf-8"))["files"]
    got = {Path(f["path"]).name: (f["format"], f["read_by"], f["status"], [x["rule"] for x in f["findings"]])
           for f in files}
    assert got == {name: (format_id, how, "pass", []) for name, (format_id, how) in want.items()}


def test_stamp_wins_over_the_year(third_format, tmp_path):
    """A gov-2021 template filled in for a year the new format covers stays gov-2021 (the
    stamp says so); a hand-made copy of it, with no stamp, goes by the year."""
    template = tmp_path / "模板.xlsx"
    assert disclosure("template", "-o", template, "--format", "gov-2021", "--year", NEW_YEAR + 1).returncode == 0
    filled = fill(template, consistent(spec.get("gov-2021"), random.Random(1)), tmp_path / "甲局.xlsx",
                  info={"agency": "甲局"})
    assert read_return(filled).format_id == "gov-2021"
    assert read_return(_unnamed(filled, tmp_path / "乙局.xlsx")).format_id == NEW_ID


def test_published_reports_go_by_their_year_too(third_format, tmp_path):
    """A published report (no names, no stamp) of 2024 is the 2021 format, one of a year
    the new format covers is the new format: the same order as a workbook's."""
    from published_docs import as_text

    from toolkit.reading.published.read import read_published

    values = consistent(spec.get("gov-2021"), random.Random(5))
    for year, format_id in ((2024, "gov-2021"), (NEW_YEAR + 1, NEW_ID)):
        path = tmp_path / f"年报{year}.txt"
        path.write_text(as_text(spec.get(format_id), values, year=year), encoding="utf-8")
        result = read_published(path)
        assert (result.format_id, result.year) == (format_id, year)
        assert not [f.rule for f in result.findings if f.severity == "error"], result.findings
