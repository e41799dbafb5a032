"""Issue 7: `disclosure demo` runs the whole flow in an empty folder."""

from __future__ import annotations

import email
import json
import subprocess
import sys
from email import policy

import pytest
from openpyxl import load_workbook

from toolkit.cli.demo import RESULTS
from toolkit.cli.demo import samples_list as all_samples
from toolkit.formats import samples, spec


@pytest.mark.parametrize("year", [None, 2020, 2025])
def test_demo_whole_flow(tmp_path, year):
    """The default year (the seed report's), a year of the 2019 format and a later one:
    the planted mistakes are chosen by role from each format's data."""
    folder = tmp_path / "演示"
    fmt = spec.for_year(year or samples.seed_agency()[1])
    result = subprocess.run([sys.executable, "-c", "from toolkit.cli import main; main()", "demo", str(folder),
                             *(["--year", str(year)] if year else [])],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "演示完成" in result.stdout and "汇总表" in result.stdout
    # Round one, agency by agency: each named as the roster names it (an unreadable file too).
    first = result.stdout.split("第一轮各单位情况：\n", 1)[1].split("第二轮", 1)[0].splitlines()
    assert sorted(line.split("：", 1)[0].strip() for line in first) == sorted(c.name for c in all_samples(fmt))
    assert f"{fmt.document}格式" in result.stdout
    samples_list = lambda: all_samples(fmt)  # noqa: E731

    ws = load_workbook(folder / RESULTS / "汇总.xlsx")["全部文件"]
    rows = list(ws.iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r and r[0] == "序号")
    cols = {name: j for j, name in enumerate(rows[header])}
    verdicts = {}
    for r in rows[header + 1:]:
        if r[cols["序号"]] is None:
            continue
        # An unreadable file has no agency inside it: its file name carries the agency.
        who = next(c.name for c in samples_list() if c.name in f"{r[cols['单位名称']]}{r[cols['文件']]}")
        verdicts[who] = r[cols["状态"]]
    assert verdicts == {case.name: case.verdict for case in samples_list()}

    # A dry-run feedback draft per agency with problems, the annotated copy attached.
    drafts = sorted((folder / RESULTS / "outbox").glob("*.eml"))
    needing = [c for c in samples_list() if c.verdict != "通过"]
    assert len(drafts) == len(needing)
    subjects = [email.message_from_bytes(p.read_bytes(), policy=policy.default)["subject"] for p in drafts]
    # Each names its agency and verdict (an unreadable file says so instead of 需修改).
    assert sorted(s.split("】")[0] + s.rsplit(" ", 1)[-1] for s in subjects) == sorted(
        f"【{c.verdict}{c.name}" for c in needing)
    assert sorted((folder / RESULTS / "annotated").glob("*_校验意见.xlsx"))

    # Round 2: the corrected returns pass, 卫健委 has not fixed its return yet and gets a
    # reminder draft; the output ends with the status table (80 columns).
    from rich.cells import cell_len

    from toolkit.cli.demo import REMINDERS, RESULTS_2

    table = result.stdout[result.stdout.index("报送进度："):].splitlines()
    assert table[0] == "报送进度：共 7 个单位：已通过 6 个，待修改 1 个，待校验 0 个，未报送 0 个"
    assert table[1].startswith("截止 ") and table[1].endswith("还有 3 天")
    assert all(cell_len(line) <= 80 for line in table)
    # The files used: a name too long for the line goes on its own line, indented.
    used = table[table.index("一个单位有多份报送文件时采用的文件：") + 1:]
    assert len(used) >= 8 and all(line.startswith("  ") or line.endswith(("：采用", ".xlsx")) for line in used)
    assert "示例县市场监督管理局：采用" in used
    # Each corrected return was saved after the first (never a tie decided by file times).
    reasons = [line for line in used if line.startswith("  理由：")]
    assert reasons and all(r.startswith(("  理由：文件保存时间最新（", "  理由：唯一可以读取的文件")) for r in reasons)
    stuck = [c for c in samples_list() if c.verdict != "通过" and not c.fixes]
    assert [c.name for c in stuck] == ["示例县卫生健康委员会"]
    [draft] = (folder / REMINDERS / "outbox").glob("*.eml")
    assert draft.name == "示例县卫生健康委员会_催报.eml"
    body = email.message_from_bytes(draft.read_bytes(), policy=policy.default).get_content()
    assert "经校验有 1 处需要修改。报送截止日期为" in body  # feedback was only drafted: not said to be sent
    first = load_workbook(folder / RESULTS_2 / "汇总.xlsx").worksheets[0]
    assert first.title == "报送进度"
    states = {first.cell(r, 2).value: first.cell(r, 7).value for r in range(4, 11)}
    assert all(first.cell(r, 3).value.endswith(" 草稿") for r in range(4, 11))  # templates drafted, not sent
    assert states == {c.name: ("待修改" if c in stuck else "已通过") for c in samples_list()}

    # Each planted mistake gives the finding a person expects, in every format.
    files = json.loads((folder / RESULTS / "findings.json").read_text(encoding="utf-8"))["files"]
    rules = {f["agency"]: sorted(x["rule"] for x in f["findings"] if x["severity"] == "error")
             for f in files if f["agency"]}
    assert {name: rules[name] for name in ("示例县教育局", "示例县财政局", "示例县卫生健康委员会", "示例县交通运输局")} == {
        "示例县教育局": ["R6.blank", "R6.blank", "R6.nil"], "示例县财政局": ["R3"],
        "示例县卫生健康委员会": ["R1"], "示例县交通运输局": ["R6.negative", "R6.unit"]}
