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
    hint: str | None = None  # over sums: what the template checks while typing (填报说明)
    local: bool = False  # our side (permissions, special files): never mailed to an agency

    @property
    def placeholders(self) -> set[str]:
        return _names(self.message)

    @property
    def explained(self) -> str:
        """The description as `disclosure rules` and the README give it."""
        return self.description + ("" if self.checked else phrase("not_reported"))

    def render(self, **fields) -> str:
        """The message with its placeholders filled; a missing field renders empty."""
        return _fill(self.message, fields)

    def render_unchecked(self, **fields) -> str:
        """What this rule cannot check when a cell it reads is not a number, said in the
        words of that cell's row or column (“本行总计”), never by the rule's ID."""
        return _fill(self.unchecked or self.title, fields)


def _names(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def _fill(template: str, fields: dict) -> str:
    values = {name: "" for name in _names(template)}
    values.update({k: _show(v) for k, v in fields.items()})
    return template.format(**values)


def _show(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


@cache
def _data() -> dict:
    return parse((TEMPLATES_DIR / "rules.yaml").read_text(encoding="utf-8"))


def parse(text: str) -> dict:
    """rules.yaml, its templates checked: a message, an `unchecked` text or a phrase that
    names a placeholder not listed under `placeholders` (or a positional or malformed
    one) is an error here, not a message rendered wrong in front of an agency."""
    data = yaml.safe_load(text)
    known = set(data.get("placeholders") or {})
    templates = [(f"phrases.{k}", v) for k, v in (data.get("phrases") or {}).items()]
    for rid, fields in data["rules"].items():
        templates += [(f"{rid}.{k}", fields[k]) for k in ("message", "unchecked") if fields.get(k)]
    for where, template in templates:
        try:
            names = _names(template)
        except ValueError as exc:
            raise ValueError(f"rules.yaml {where}: {exc}") from None
        wrong = sorted(n for n in names if n not in known)
        if wrong:
            raise ValueError(f"rules.yaml {where}: unknown placeholder(s) {wrong}; known: {sorted(known)}")
    return data


def markdown_table() -> str:
    """The catalogue as the README's rule table (between its rules:start/end marks)."""
    lines = ["| 编号 | 严重程度 | 名称 | 说明 |", "|---|---|---|---|"]
    for r in rules().values():
        cells = (r.id, SEVERITY_ZH[r.severity], r.title, r.explained)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


@cache
def rules() -> dict[str, Rule]:
    return {rid: Rule(id=rid, **fields) for rid, fields in _data()["rules"].items()}


def phrase(name: str, **fields) -> str:
    """A sentence part of the catalogue's ``phrases`` with its placeholders filled."""
    return _fill(_data()["phrases"][name], fields)


def rule(rule_id: str) -> Rule:
    return rules()[rule_id]


def is_local(rule_id: object) -> bool:
    """A verdict about this machine (no permission, not a regular file, a killed worker),
    not about the agency's file: never mailed."""
    found = rules().get(rule_id) if isinstance(rule_id, str) else None
    return found is not None and found.local


if __name__ == "__main__":  # python -m toolkit.formats.catalogue: the README's rule table
    print(markdown_table(), end="")
