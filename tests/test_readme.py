"""The README tells the truth: its opening commands, and the rule catalogue."""

from __future__ import annotations

from pathlib import Path

from toolkit.formats.catalogue import markdown_table, rules

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
CI = (Path(__file__).parent.parent / ".ci" / "run").read_text(encoding="utf-8")


def test_opens_with_demo_and_test_commands():
    block = README.split("```bash\n", 1)[1].split("```", 1)[0].splitlines()
    assert "disclosure demo" in block[0]
    test_command = block[1].split("#")[0].strip()
    assert "pytest" in test_command
    assert test_command in CI, "CI must run the README's test command"


def test_rule_table_is_the_generated_one():
    """README's table is what the catalogue generates (python -m toolkit.formats.catalogue)."""
    table = README.split("<!-- rules:start -->\n", 1)[1].split("<!-- rules:end -->", 1)[0]
    assert table == markdown_table()
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| 编号")]
    assert [row.split(" | ")[0].lstrip("| ") for row in rows] == list(rules())
