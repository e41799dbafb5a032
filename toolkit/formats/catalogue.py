"""The rule catalogue (workbook_templates/rules.yaml): IDs, severities, 中文 titles and
message templates.  Every finding and every file verdict is rendered from here."""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import cache

import yaml

from toolkit.formats.spec import TEMPLATES_DIR

ERROR, WARNING = "error", "warning"
SEVERITY_ZH = {ERROR: "错误", WARNING: "提醒"}


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    title: str
    description: str
    message: str
    checked: bool = True

    @property
    def placeholders(self) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(self.message) if name}

    def render(self, **fields) -> str:
        """The message with its placeholders filled; a missing field renders empty."""
        values = {name: "" for name in self.placeholders}
        values.update({k: _show(v) for k, v in fields.items()})
        return self.message.format(**values)


def _show(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


@cache
def rules() -> dict[str, Rule]:
    data = yaml.safe_load((TEMPLATES_DIR / "rules.yaml").read_text(encoding="utf-8"))
    return {rid: Rule(id=rid, **fields) for rid, fields in data["rules"].items()}


def rule(rule_id: str) -> Rule:
    return rules()[rule_id]
