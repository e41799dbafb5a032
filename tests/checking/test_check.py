"""Issue 3: returns filled as agencies fill them, checked; exact cells, rules, severities."""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
from pathlib import Path

import pandera.pandas as pa
import pytest
from figures import consistent, fill, rewrite_zip, solve
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.checking import schemas
from toolkit.formats import spec
from toolkit.formats.samples import seed_figures
from toolkit.outputs import check

FMT = spec.get("gov-2021")


def run_one(path, tmp_path, **kw):
    batch = check.run([path], tmp_path / "out", annotate=False, **kw)
    (report,) = batch.reports
    return report


def flagged(report):
    return sorted((f.sheet, f.cell, f.rule, f.severity) for f in report.findings)


@pytest.fixture(scope="module")
def base_figures():
    """A consistent filling with figures in every row, so that sums mean something."""
    return consistent(FMT, random.Random(20251231))


def test_seed_report_checks_clean(blank_return, tmp_path):
    """The real published figures, typed as the agency typed them ("2　", NBSP 31)."""
    fill(blank_return, seed_figures())
    report = run_one(blank_return, tmp_path)
    assert report.status == "pass", report.findings
    assert report.errors == 0 and report.warnings == 0
    assert report.read_by == "names"
    assert report.figures["p2.penalty.decisions"] == 2
    assert report.figures["p2.licensing.decisions"] == 31
    assert report.figures["p2.coercion.decisions"] == 4
    assert report.figures["p2.fees.amount"] == 24.1982
    assert report.agency == "示例县人民政府办公室" and report.year == 2025


def test_consistent_filling_passes(blank_return, tmp_path, base_figures):
    fill(blank_return, base_figures)
    report = run_one(blank_return, tmp_path)
    assert report.status == "pass", [f.message for f in report.findings]


# Value classes: one cell typed badly.  (figure key, as typed, sheet, cell, rule, severity, expected)
P2, P3, P4 = "二、主动公开", "三、依申请公开", "四、复议诉讼"
VALUE_CASES = {
    "blank": ("p3.open.natural", None, P3, "D7", "R6.blank", "error", None),
    "ideographic space only": ("p3.open.natural", "\u3000", P3, "D7", "R6.blank", "error", None),
    "no-break space only": ("p3.deny_secret.legal", "\u00a0", P3, "H9", "R6.blank", "error", None),
    "无": ("p3.partial.business", "无", P3, "E8", "R6.nil", "error", 0),
    "dash": ("p3.reject_repeat.natural", "—", P3, "D21", "R6.nil", "error", 0),
    "slash": ("p4.cases.review_upheld", "/", P4, "A5", "R6.nil", "error", 0),
    "不适用": ("p3.unable_none.research", "不适用", P3, "F17", "R6.nil", "error", 0),
    "零": ("p3.open.research", "零", P3, "F7", "R6.nil", "error", 0),
    "count with unit": ("p3.open.natural", "3件", P3, "D7", "R6.unit", "error", 3),
    "yuan where 万元": ("p2.fees.amount", "251000元", P2, "B15", "R6.unit", "error", 25.1),
    "万元 typed": ("p2.fees.amount", "24.1982万元", P2, "B15", "R6.unit", "error", 24.1982),
    "text": ("p2.licensing.decisions", "见附件", P2, "B8", "R6.text", "error", None),
    "formula without cached value": ("p3.open.natural", "=1+2", P3, "D7", "R6.formula", "error", None),
    "error value": ("p3.open.natural", "#REF!", P3, "D7", "R6.formula_error", "error", None),
    "date": ("p3.open.natural", dt.datetime(2025, 1, 31), P3, "D7", "R6.date", "error", None),
    "boolean": ("p4.cases.review_upheld", True, P4, "A5", "R6.bool", "error", None),
}


@pytest.mark.parametrize("case", VALUE_CASES, ids=list(VALUE_CASES))
def test_value_class_flags_one_cell(case, blank_return, tmp_path, base_figures):
    key, typed, sheet, cell, rule, severity, expected = VALUE_CASES[case]
    fill(blank_return, {**base_figures, key: typed})
    report = run_one(blank_return, tmp_path)
    assert flagged(report) == [(sheet, cell, rule, severity)], [f.message for f in report.findings]
    (finding,) = report.findings
    assert finding.expected == expected
    assert report.status == "fail"


ACCEPTED_CASES = {
    "figure then ideographic space": ("2\u3000", 2),
    "no-break space then figure": ("\u00a031", 31),
    "full-width digits": ("１２", 12),
    "number stored as text": ("7", 7),
}


@pytest.mark.parametrize("case", ACCEPTED_CASES, ids=list(ACCEPTED_CASES))
def test_text_numbers_are_the_same_figure(case, blank_return, tmp_path, base_figures):
    typed, number = ACCEPTED_CASES[case]
    key = "p2.licensing.decisions"
    fill(blank_return, {**base_figures, key: typed})
    report = run_one(blank_return, tmp_path)
    assert report.findings == []
    assert report.figures[key] == number


def _replant(base, key, value):
    """Change one free figure and re-solve the totals: only the figure itself is wrong."""
    return solve(FMT, {**base, key: value})


def test_negative_count(blank_return, tmp_path, base_figures):
    fill(blank_return, _replant(base_figures, "p3.open.natural", -1))
    report = run_one(blank_return, tmp_path)
    assert flagged(report) == [(P3, "D7", "R6.negative", "error")]


def test_fraction_count(blank_return, tmp_path, base_figures):
    # 行政许可 enters no sum: a half there is the only defect (in part 三 the totals over
    # it would be fractions too, each rightly flagged).
    fill(blank_return, {**base_figures, "p2.licensing.decisions": 1.5})
    report = run_one(blank_return, tmp_path)
    assert flagged(report) == [(P2, "B8", "R6.fraction", "error")]


def test_fee_with_five_decimals_is_a_warning(blank_return, tmp_path, base_figures):
    fill(blank_return, {**base_figures, "p2.fees.amount": 1.23456})
    report = run_one(blank_return, tmp_path)
    assert flagged(report) == [(P2, "B15", "R6.decimals", "warning")]
    assert report.status == "pass"  # warnings allowed


def _bump(values, *keys, by=1):
    return {**values, **{k: values[k] + by for k in keys}}


def test_R3_row_total(blank_return, tmp_path, base_figures):
    fill(blank_return, _bump(base_figures, "p3.open.total"))
    report = run_one(blank_return, tmp_path)
    assert flagged(report) == [(P3, "J7", "R3", "error")]
    (f,) = report.findings
    right = base_figures["p3.open.total"]
    assert f.expected == right and f.value == right + 1
    # The sum and the total disagree: both are to be checked, the total is not blamed.
    assert f.message.startswith(f"本行各项之和为 {int(right)}（自然人 ")
    assert f.message.endswith(f"），与总计 {int(right) + 1} 不符，请核对各项和总计")


def test_R4_column_total(blank_return, tmp_path, base_figures):
    # The row stays consistent (detail and its row total both +1): only the column sum breaks.
    fill(blank_return, _bump(base_figures, "p3.open.natural", "p3.open.total"))
    report = run_one(blank_return, tmp_path)
    assert flagged(report) == [(P3, "D28", "R4", "error")]
    (f,) = report.findings
    assert f.expected == base_figures["p3.result_total.natural"] + 1
    assert "（一）予以公开" in f.message
    assert f.message.startswith(f"本列各项之和为 {int(f.expected)}（")
    assert f.message.endswith(f"），与（七）总计 {int(f.value)} 不符，请核对各项和（七）总计")


def test_R1_balance(blank_return, tmp_path, base_figures):
    fill(blank_return, _bump(base_figures, "p3.carry_forward.business", "p3.carry_forward.total"))
    report = run_one(blank_return, tmp_path)
    assert flagged(report) == [(P3, "E29", "R1", "error")]
    (f,) = report.findings
    assert f.expected == base_figures["p3.carry_forward.business"]
    assert f.row == "四、结转下年度继续办理" and f.column == "申请人情况 法人或其他组织 商业企业"
    assert f.message.startswith("本列勾稽关系不成立：一 ")
    assert f.message.endswith("两者应相等，请核对这几项") and "应为" not in f.message


def test_R5_review_total(blank_return, tmp_path, base_figures):
    fill(blank_return, _bump(base_figures, "p4.cases.after_corrected"))
    report = run_one(blank_return, tmp_path)
    assert flagged(report) == [(P4, "O5", "R5", "error")]
    message = report.findings[0].message
    assert message.startswith("行政诉讼 复议后起诉：各项之和为 ")
    assert message.endswith(" 不符，请核对各项和总计") and "应为" not in message


def test_sums_over_a_non_number_are_not_checkable(blank_return, tmp_path, base_figures):
    """A wrong total beside a 无 is not reported wrong: its sum cannot be checked."""
    values = _bump({**base_figures, "p3.open.natural": "无"}, "p3.open.total", by=5)
    fill(blank_return, values)
    report = run_one(blank_return, tmp_path)
    assert flagged(report) == [(P3, "D7", "R6.nil", "error")]
    assert report.findings[0].message.endswith("；本行总计、本列（七）总计暂无法核对")


PARTS_3_4 = [k for k in FMT.figures if k.startswith(("p3.", "p4."))]


@pytest.fixture(scope="module")
def hypothesis_template(tmp_path_factory):
    from toolkit.template.writer import write_template

    return write_template(tmp_path_factory.mktemp("h") / "t.xlsx", FMT, agency="甲", year=2024)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), key=st.sampled_from(PARTS_3_4),
       delta=st.integers(-3, 3).filter(bool))
def test_any_single_change_is_flagged(hypothesis_template, tmp_path_factory, seed, key, delta):
    """Any consistent filling passes; one figure of 三/四 changed is flagged at that figure
    or at a total that includes it."""
    work = tmp_path_factory.mktemp("fill")
    values = consistent(FMT, random.Random(seed))
    clean = fill(shutil.copy(hypothesis_template, work / "a.xlsx"), values)
    assert check.read_reports([clean])[0].findings == []
    changed = fill(shutil.copy(hypothesis_template, work / "b.xlsx"), {**values, key: values[key] + delta})
    report = check.read_reports([changed])[0]
    totals = {eq.anchor for eq in FMT.equations if key in eq.keys and not eq.needs_last_year}
    allowed = {FMT.figures[k].cell for k in {key, *totals}}
    cells = {f.cell for f in report.findings}
    assert cells & allowed, (key, delta, [f.message for f in report.findings])


def test_findings_json_is_the_documented_interface(blank_return, tmp_path, base_figures):
    fill(blank_return, _bump(base_figures, "p3.open.total"))
    check.run([blank_return], tmp_path / "out", annotate=False)
    data = json.loads((tmp_path / "out" / "findings.json").read_text(encoding="utf-8"))
    assert set(data) == {"format", "generated_at", "files", "others"}
    (entry,) = data["files"]
    assert set(entry) >= {"path", "sha256", "agency", "year", "format", "status", "errors", "warnings",
                          "read_by", "findings"}
    assert entry["status"] == "fail" and entry["errors"] == 1 and entry["read_by"] == "names"
    assert entry["agency"] == entry["stamped_agency"] == "示例县人民政府办公室"  # the template's own
    (finding,) = entry["findings"]
    assert set(finding) == {"rule", "severity", "sheet", "cell", "part", "row", "column", "value",
                            "expected", "message", "location"}
    assert finding["part"] == "三" and finding["cell"] == "J7"
    assert finding["location"] is None and entry["form"] is None  # a workbook: sheet and cell say where


@pytest.mark.parametrize("format_id", list(spec.formats()))
@pytest.mark.parametrize("which", list(schemas.BUILDERS))
def test_committed_schema_yaml_matches_the_spec(format_id, which):
    fmt = spec.get(format_id)
    built = schemas.BUILDERS[which](fmt)
    committed = schemas.schema_path(fmt, which).read_text(encoding="utf-8")
    assert committed == built.to_yaml(), "schemas/ 已过期：运行 python -m toolkit.checking.schemas"
    # And the YAML is a working schema on its own (custom checks registered on import).
    assert pa.DataFrameSchema.from_yaml(committed).to_yaml() == committed


def test_chunked_validation_gives_the_same_reports(template_2021, tmp_path, monkeypatch):
    """A batch is screened and validated a chunk at a time (memory flat in N): chunking
    changes nothing."""
    files = []
    for i in range(5):
        values = consistent(FMT, random.Random(100 + i))
        if i % 2:
            values["p3.open.total"] += i
        files.append(fill(shutil.copy(template_2021, tmp_path / f"{i}.xlsx"), values))
    whole = check.read_reports(files, workers=1)
    from toolkit.checking import batch
    monkeypatch.setattr(batch, "WAITING", 2)  # failing files validated two at a time
    monkeypatch.setattr(batch, "SCREEN", 2)  # files screened two at a time
    chunked = check.read_reports(files, workers=1)
    assert [r.to_json() for r in chunked] == [r.to_json() for r in whole]
    assert [dict(r.figures) for r in chunked] == [dict(r.figures) for r in whole]
    assert [r.status for r in whole] == ["pass", "fail", "pass", "fail", "pass"]


def test_outdir_may_be_the_returns_folder(template_2021, tmp_path, base_figures):
    """check DIR -o DIR: the returns are read; the check's own outputs never are."""
    values = _bump(base_figures, "p3.open.total")
    fill(shutil.copy(template_2021, tmp_path / "甲局.xlsx"), values)
    first = check.run([tmp_path], tmp_path)
    assert [Path(r.path).name for r in first.reports] == ["甲局.xlsx"]
    again = check.run([tmp_path], tmp_path)  # annotated copy and 汇总.xlsx now beside it
    assert [Path(r.path).name for r in again.reports] == ["甲局.xlsx"]


@pytest.mark.parametrize("stored", ["NaN", "INF"])
def test_a_stored_nan_or_infinity_is_no_figure(blank_return, tmp_path, base_figures, stored):
    fill(blank_return, base_figures)

    def store(data: bytes) -> bytes:
        head, rest = data.split(b'<c r="D7"', 1)
        cell, tail = rest.split(b"</c>", 1)
        value = cell.split(b"<v>")[0] + b"<v>" + stored.encode() + b"</v>"
        return head + b'<c r="D7"' + value + b"</c>" + tail

    patched = rewrite_zip(blank_return, {"xl/worksheets/sheet3.xml": store},  # 三、依申请公开
                          tmp_path / "patched.xlsx")
    report = run_one(patched, tmp_path)
    assert flagged(report) == [(P3, "D7", "R6.formula_error", "error")]
    json.dumps(report.to_json(), allow_nan=False)  # findings.json stays valid JSON


@pytest.mark.parametrize("typed", ["4²", "④", "١٢"])
def test_lookalike_digits_are_not_silently_read_as_figures(typed, blank_return, tmp_path, base_figures):
    fill(blank_return, {**base_figures, "p2.licensing.decisions": typed})
    report = run_one(blank_return, tmp_path)
    assert flagged(report) == [(P2, "B8", "R6.text", "error")]


def test_a_negative_count_is_reported_once(blank_return, tmp_path, base_figures):
    """Sign typo with right totals: the sums over it are not checkable, not wrong."""
    values = {**base_figures, "p3.open.natural": -base_figures["p3.open.natural"] or -4}
    fill(blank_return, values)
    report = run_one(blank_return, tmp_path)
    assert flagged(report) == [(P3, "D7", "R6.negative", "error")]
    assert report.findings[0].message.endswith("；本行总计、本列（七）总计暂无法核对")
