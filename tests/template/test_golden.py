"""One golden template: tests/template/golden/gov-2021.xlsx, committed, against one generated now,
part by part (as XlsxWriter's own tests compare with files Excel saved): the same zip
members in the same order, and every part byte for byte once the volatile one is
normalised (docProps/core.xml: the created/modified timestamps).

A failure shows which part changed and where.  After an intended change of the template
(look at it rendered first: README, LibreOffice to PDF), regenerate and commit it:

    PYTHONPATH=. python tests/template/test_golden.py
"""

from __future__ import annotations

import re
import sys
import zipfile
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden" / "gov-2021.xlsx"
AGENCY, YEAR = "示例县人民政府办公室", 2025
_STAMPS = re.compile(rb"(<dcterms:(?:created|modified)\b[^>]*>)[^<]*(</dcterms:)")


def generate(path: Path) -> Path:
    from toolkit.formats import spec
    from toolkit.template.writer import write_template

    return write_template(path, spec.get("gov-2021"), agency=AGENCY, year=YEAR)


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        out = {name: z.read(name) for name in z.namelist()}
    out["docProps/core.xml"] = _STAMPS.sub(rb"\1\2", out["docProps/core.xml"])
    return out


def _where(a: bytes, b: bytes) -> str:
    """The first difference, with some context on each side."""
    i = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return f"第 {i} 字节起：\n  golden: {a[max(0, i - 80):i + 80]!r}\n  now:    {b[max(0, i - 80):i + 80]!r}"


def test_generated_template_matches_the_golden_one_part_by_part(tmp_path):
    golden, now = parts(GOLDEN), parts(generate(tmp_path / "now.xlsx"))
    assert list(now) == list(golden), "zip members differ"
    for name in golden:
        assert now[name] == golden[name], f"{name} differs from tests/template/golden (regenerate: see docstring)\n" + _where(
            golden[name], now[name])


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    GOLDEN.parent.mkdir(exist_ok=True)
    print(generate(GOLDEN))
