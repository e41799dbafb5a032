"""Issue 14 (items 3, 4, 8, 9): what agencies read never names a rule by its ID; a sum
that fails does not blame the total; an untouched template is one finding; the rule
catalogue prints in full."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
from email import policy
from email.parser import BytesParser

import openpyxl
import pytest
from figures import consistent, fill
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.formats import spec
from toolkit.formats.catalogue import rules
from toolkit.outputs import check
from toolkit.reading.roster import RosterEntry, write_sample_roster
from toolkit.template.writer import write_template

# A rule ID as written in the catalogue (R3, R6.blank, F8, S2), not inside a longer word.
RULE_ID = re.compile(r"(?<![A-Za-z0-9_])[RFS]\d")
# A cell reference said as a place ("B4 格") looks like an ID (F5, S3) but is not one.
CELL_PLACE = re.compile(r"[A-Z]{1,3}\d+ 格")


def _bump(values, *keys, by=1):
    return {**values, **{k: values[k] + by for k in keys}}


def _broken(fmt: spec.Format, seed: int) -> dict[str, object]:
    """A return with one of every kind of mistake an agency makes, across the three parts."""
    values = consistent(fmt, random.Random(seed))
    p2 = [k for k in fmt.figures if k.startswith("p2.")]
    count = next(k for k in p2 if fmt.figures[k].kind == "count")
    values = _bump(values, "p3.open.total")  # R3
    values = _bump(values, "p3.partial.natural", "p3.partial.total")  # R4 (row kept right)
    values = _bump(values, "p3.carry_forward.other_org", "p3.carry_forward.total")  # R1
    values = _bump(values, "p4.cases.review_upheld")  # R5
    values.update({
        count: "3件",  # R6.unit
        "p3.received.natural": "无",  # R6.nil, sums over it not checkable
        "p3.received.business": "见附件",  # R6.text
        "p3.received.research": -2,  # R6.negative
        "p3.received.legal": 1.5,  # R6.fraction
        "p3.carried_over.natural": None,  # R6.blank
        "p4.cases.direct_upheld": "—",
    })
    return values


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("texts")
    returns = tmp / "returns"
    returns.mkdir()
    for format_id, year, agency in (("gov-2021", 2025, "甲局"), ("gov-2019", 2020, "乙局")):
        fmt = spec.get(format_id)
        path = write_template(returns / f"{agency}.xlsx", fmt, agency=agency, year=year)
        fill(path, _broken(fmt, 7))
    write_template(returns / "丙局.xlsx", spec.get("gov-2021"), agency="丙局", year=2025)  # untouched
    (returns / "丁局.xlsx").write_bytes(b"")  # F1
    (returns / "戊局.xlsx").write_text("单位,数字\n戊局,1\n", encoding="utf-8")  # F2
    out = tmp / "out"
    result = check.run([returns], out)
    roster = write_sample_roster(tmp / "名单.xlsx", [
        RosterEntry(name=a, contact="张三", email=f"{i}@example.org")
        for i, a in enumerate(("甲局", "乙局", "丙局", "丁局", "戊局"))])
    mailed = CliRunner().invoke(app, ["mail", str(out), "--roster", str(roster), "--dry-run"])
    assert mailed.exit_code in (0, 1), mailed.output
    return result, out


def test_the_broken_returns_give_every_kind_of_finding(batch):
    result, _ = batch
    seen = {f.rule for r in result.reports for f in r.findings}
    assert {"R1", "R3", "R4", "R5", "R6.unit", "R6.nil", "R6.text", "R6.negative", "R6.fraction",
            "R6.blank", "R6.unfilled", "F1", "F2"} <= seen
    formats = {r.format for r in result.reports if not r.unreadable}
    assert formats == {"gov-2021", "gov-2019"}


def test_no_rule_id_in_any_finding_message(batch):
    result, out = batch
    messages = [f.message for r in result.reports for f in r.findings]
    assert messages and not [m for m in messages if RULE_ID.search(m)]
    stored = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    assert not [f["message"] for r in stored["files"] for f in r["findings"] if RULE_ID.search(f["message"])]
    # A cell that is not a number says, in words, which sums it leaves unchecked.
    (nil,) = [f for r in result.reports if r.format == "gov-2021" for f in r.findings if f.rule == "R6.nil"
              and f.key == "p3.received.natural"]
    assert nil.message == "此格填了“无”，没有数据请填数字 0；本行总计、本列勾稽关系暂无法核对"


def test_no_rule_id_in_mail_bodies(batch):
    _, out = batch
    mails = sorted((out / "outbox").glob("*.eml"))
    assert len(mails) == 5  # 甲 乙 丙 need changes, 丁 戊 unreadable
    for path in mails:
        msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        body = msg.get_body(("plain",)).get_content()
        assert "各项之和为" in body or "报表未填写" in body or "无法读取" in body
        words = CELL_PLACE.sub("", body)
        assert not RULE_ID.search(words), (path.name, RULE_ID.findall(words))
        assert not RULE_ID.search(str(msg["Subject"]))


def test_no_rule_id_in_the_sentences_of_the_annotated_copies(batch):
    """校验结果: the ID keeps its own column (规则) for the office; the sentences above the
    list and the 说明 column are for the agency."""
    _, out = batch
    copies = sorted((out / "annotated").glob("*.xlsx"))
    assert len(copies) == 3
    for path in copies:
        ws = openpyxl.load_workbook(path).worksheets[0]
        header = next(row for row in ws.iter_rows() if any(c.value == "规则" for c in row))
        said = next(c.column for c in header if c.value == "说明")
        sentences = [c.value for row in ws.iter_rows(max_row=header[0].row - 1) for c in row
                     if isinstance(c.value, str)]
        sentences += [ws.cell(r, said).value for r in range(header[0].row + 1, ws.max_row + 1)]
        sentences = [s for s in sentences if s]
        assert len(sentences) > 2
        assert not [s for s in sentences if RULE_ID.search(s)], path.name


# -- item 4: a failing sum asks to check the items and the total -------------------------

@pytest.mark.parametrize("format_id", ["gov-2021", "gov-2019"])
def test_sums_never_blame_the_total(batch, format_id):
    result, _ = batch
    (report,) = [r for r in result.reports if r.format == format_id and r.agency != "丙局"]
    sums = {f.rule: f for f in report.findings if f.rule in ("R1", "R3", "R4", "R5")}
    assert set(sums) == {"R1", "R3", "R4", "R5"}
    for f in sums.values():
        assert "应为" not in f.message and "填报为" not in f.message, f.message
        assert f.message.endswith(("请核对各项和总计", "请核对各项和（七）总计", "请核对这几项")), f.message
    r3 = sums["R3"]
    assert r3.message.startswith(f"本行各项之和为 {int(r3.expected)}（")
    assert f"与总计 {int(r3.value)} 不符" in r3.message
    assert sums["R5"].message.startswith("行政复议：各项之和为 ")


# -- item 8: an untouched template --------------------------------------------------------

def test_an_untouched_template_is_one_finding(batch):
    result, _ = batch
    (report,) = [r for r in result.reports if r.agency == "丙局"]
    assert report.status == "fail"
    assert [(f.rule, f.severity, f.sheet, f.cell) for f in report.findings] == [
        ("R6.unfilled", "error", None, None)]
    assert report.findings[0].message == (
        "报表未填写：全部 200 个数字格都是空的，请填写后重新报送（没有数据的格填 0）")


def test_one_figure_typed_is_not_an_untouched_template(template_2021, tmp_path):
    path = fill(shutil.copy(template_2021, tmp_path / "甲.xlsx"), {"p2.rules.issued": 1,
                                                                   "p3.open.natural": "\u3000"})
    (report,) = check.run([path], tmp_path / "out", annotate=False).reports
    assert {f.rule for f in report.findings} == {"R6.blank"}
    assert len(report.findings) == 199


# -- item 9: the catalogue printed in full ------------------------------------------------

def test_formula_error_description_is_whole():
    assert rules()["R6.formula_error"].description == "此格的值是错误值（如 #REF!、#DIV/0!、#VALUE!）。"
    assert all(not r.description.endswith(("（如", "（")) for r in rules().values())


@pytest.mark.parametrize("columns", ["40", "80", "120", None])
def test_rules_command_prints_every_description_in_full(columns):
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    if columns:
        env["COLUMNS"] = columns
    done = subprocess.run([sys.executable, "-c", "from toolkit.cli import main; main()", "rules"],
                          capture_output=True, text=True, env=env, timeout=120)  # piped
    assert done.returncode == 0, done.stderr
    assert "…" not in done.stdout
    flat = re.sub(r"\s+", "", done.stdout)
    for r in rules().values():
        assert re.sub(r"\s+", "", r.id + SEVERITY(r) + r.title) in flat
        assert re.sub(r"\s+", "", r.description) in flat, r.id
    if columns:
        assert max(len(line.rstrip()) for line in done.stdout.splitlines()) <= int(columns)


def SEVERITY(rule) -> str:
    from toolkit.formats.catalogue import SEVERITY_ZH

    return SEVERITY_ZH[rule.severity]


# -- item 11: the distribution mail and the demo roster ----------------------------------

def test_distribution_mail_asks_to_check_the_locked_fields_not_to_fill_them(tmp_path):
    from datetime import date

    from toolkit.mailing.messages import Attachment, template_message

    fmt = spec.get("gov-2021")
    path = write_template(tmp_path / "甲局_2025年政府信息公开年度报表.xlsx", fmt, agency="甲局", year=2025)
    mail = template_message("甲局", ["jia@example.cn"], Attachment(path.name, path.read_bytes()), year=2025,
                            format_id=fmt.id, deadline=date(2026, 1, 31), signer=None, today=date(2026, 1, 5),
                            key=None)
    labels = {f.key: f.text for f in fmt.info.fields}
    others = "、".join(t for k, t in labels.items() if k not in ("agency", "year"))
    assert (f"1. 在“{fmt.info.sheet}”工作表核对{labels['agency']}、{labels['year']}（已填好并锁定，"
            f"如有错误请回复告知），填写{others}；") in mail.body
    assert "根据校验结果" not in mail.body and "本邮件由报表工具按单位名单生成" in mail.body


def test_demo_roster_names_people_as_contacts(tmp_path):
    from toolkit.cli.demo import ROSTER, run_demo
    from toolkit.reading.roster import read_roster

    run_demo(tmp_path / "演示")
    contacts = [e.contact for e in read_roster(tmp_path / "演示" / ROSTER)]
    assert contacts and all(c and c != "联系人" for c in contacts)
