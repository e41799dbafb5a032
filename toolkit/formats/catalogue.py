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
    unchecked: str | None = None  # over sums: what a cell that is not a number leaves unchecked

    @property
    def placeholders(self) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(self.message) if name}

    def render(self, **fields) -> str:
        """The message with its placeholders filled; a missing field renders empty."""
        return _fill(self.message, fields)

    def render_unchecked(self, **fields) -> str:
        """What this rule cannot check when a cell it reads is not a number, said in the
        words of that cell's row or column (“本行总计”), never by the rule's ID."""
        return _fill(self.unchecked or self.title, fields)


def _fill(template: str, fields: dict) -> str:
    names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    values = {name: "" for name in names}
    values.update({k: _show(v) for k, v in fields.items()})
    return template.format(**values)


def _show(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


@cache
def _data() -> dict:
    return yaml.safe_load((TEMPLATES_DIR / "rules.yaml").read_text(encoding="utf-8"))


@cache
def rules() -> dict[str, Rule]:
    return {rid: Rule(id=rid, **fields) for rid, fields in _data()["rules"].items()}


def phrase(name: str, **fields) -> str:
    """A sentence part of the catalogue's ``phrases`` with its placeholders filled."""
    return _fill(_data()["phrases"][name], fields)


def rule(rule_id: str) -> Rule:
    return rules()[rule_id]
