"""The README tells the truth: its opening commands, and the rule catalogue."""

from __future__ import annotations

from pathlib import Path

from toolkit.formats.catalogue import SEVERITY_ZH, rules

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
CI = (Path(__file__).parent.parent / ".ci" / "run").read_text(encoding="utf-8")


def test_opens_with_demo_and_test_commands():
    block = README.split("```bash\n", 1)[1].split("```", 1)[0].splitlines()
    assert "disclosure demo" in block[0]
    test_command = block[1].split("#")[0].strip()
    assert "pytest" in test_command
    assert test_command in CI, "CI must run the README's test command"


def test_rule_table_matches_the_catalogue():
    table = README.split("<!-- rules:start -->", 1)[1].split("<!-- rules:end -->", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| 编号")]
    assert len(rows) == len(rules())
    for line, rule in zip(rows, rules().values()):
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[:3] == [rule.id, SEVERITY_ZH[rule.severity], rule.title]
        assert cells[3].startswith(rule.description)
