"""Our own words that are not the national format's (workbook_templates/instructions.yaml):
the template's 填报说明 and validation prompts, and the one instruction on where an
agency fixes its figures after a check, said the same way in the template's 填报说明,
the annotated copy's 校验结果 sheet and the feedback mail."""

from __future__ import annotations

from functools import cache

import yaml

from toolkit.formats.spec import TEMPLATES_DIR

INSTRUCTIONS = TEMPLATES_DIR / "instructions.yaml"


@cache
def instructions() -> dict:
    return yaml.safe_load(INSTRUCTIONS.read_text(encoding="utf-8"))


def where_to_fix() -> str:
    """Fix the figures in the annotated copy itself and send that file back (it keeps the
    template's protection, names and live checks; the original is never needed again)."""
    return instructions()["where_to_fix"]
