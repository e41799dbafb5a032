"""Issue 6: returns of the 2019 trial format and the 2021 format in one batch, each
checked against its own format."""

from __future__ import annotations

import json
import random

from figures import consistent, fill

from toolkit.formats import spec
from toolkit.outputs import check
from toolkit.template.writer import write_template

F2019, F2021 = spec.get("gov-2019"), spec.get("gov-2021")


def test_mixed_batch_each_return_gets_its_own_format(tmp_path):
    folder = tmp_path / "returns"
    folder.mkdir()
    new = write_template(folder / "甲局2021.xlsx", F2021, agency="甲局", year=2024)
    fill(new, consistent(F2021, random.Random(1)))
    old = write_template(folder / "乙局2019.xlsx", F2019, agency="乙局", year=2020)
    values = consistent(F2019, random.Random(2))
    signed = [k for k, f in F2019.figures.items() if f.kind == "signed_count"]
    values[signed[0]] = -2  # 本年增/减 may be negative in 2019
    fill(old, values)

    batch = check.run([folder], tmp_path / "out", annotate=False)
    by_agency = {r.agency: r for r in batch.reports}
    assert by_agency["甲局"].format == "gov-2021" and by_agency["甲局"].status == "pass"
    assert by_agency["乙局"].format == "gov-2019" and by_agency["乙局"].status == "pass", \
        [f.message for f in by_agency["乙局"].findings]
    assert by_agency["乙局"].figures[signed[0]] == -2
    data = json.loads((tmp_path / "out" / "findings.json").read_text(encoding="utf-8"))
    assert data["format"] == ["gov-2019", "gov-2021"]


def test_2019_rules_flag_2019_cells(tmp_path):
    path = write_template(tmp_path / "乙局.xlsx", F2019, agency="乙局", year=2020)
    values = consistent(F2019, random.Random(3))
    values["p3.other.total"] += 1  # （六）其他处理 is one row in 2019
    fill(path, values)
    (report,) = check.read_reports([path])
    assert [(f.rule, f.cell) for f in report.findings] == [("R3", F2019.figures["p3.other.total"].cell)]
    assert F2019.figures["p3.other.total"].row_label.text == "（六）其他处理"
