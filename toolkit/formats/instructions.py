"""Our own words that are not the national format's (workbook_templates/instructions.yaml):
the template's 填报说明 and validation prompts, and the one instruction on where an
agency fixes its figures after a check, said the same way in the template's 填报说明,
the annotated copy's 校验结果 sheet and the feedback mail.

The 填报说明 lines are chosen and filled per format (``lines``): a line may be written
only for a format that has figures of a kind (``if_kind``) or none (``unless_kind``); the
lines are numbered (一、二、…) as written; ``{live_checks}`` lists, from the rule
catalogue's ``hint``, the sums the template checks while typing.  Placeholders and kinds
are checked when the file loads."""

from __future__ import annotations

import string
from functools import cache

import yaml

from toolkit.formats.catalogue import rules
from toolkit.formats.kinds import kinds
from toolkit.formats.spec import TEMPLATES_DIR, Format

INSTRUCTIONS = TEMPLATES_DIR / "instructions.yaml"
PLACEHOLDERS = {"document", "title", "sheets", "year", "signed", "live_checks", "where_to_fix"}
_DIGITS = "零一二三四五六七八九"


@cache
def instructions() -> dict:
    return parse(INSTRUCTIONS.read_text(encoding="utf-8"))


def where_to_fix() -> str:
    """Fix the figures in the annotated copy itself and send that file back (it keeps the
    template's protection, names and live checks; the original is never needed again)."""
    return instructions()["where_to_fix"]


def parse(text: str) -> dict:
    """instructions.yaml, every line's placeholders and kinds checked."""
    data = yaml.safe_load(text)
    for i, line in enumerate(data["lines"], start=1):
        line = line if isinstance(line, dict) else {"text": line}
        names = {name for _, name, _, _ in string.Formatter().parse(line["text"]) if name is not None}
        if names - PLACEHOLDERS:
            raise ValueError(f"instructions.yaml line {i}: unknown placeholder(s) {sorted(names - PLACEHOLDERS)}")
        for key in ("if_kind", "unless_kind"):
            if key in line and line[key] not in kinds():
                raise ValueError(f"instructions.yaml line {i}: {key} {line[key]!r} is no figure kind")
    return data


def numeral(n: int) -> str:
    """1 -> 一, 10 -> 十, 12 -> 十二, 20 -> 二十 (the 填报说明 numbers, up to 99)."""
    tens, ones = divmod(n, 10)
    return (("" if tens == 1 else _DIGITS[tens]) + "十" if tens else "") + (_DIGITS[ones] if ones else "")


def lines(fmt: Format, year: int | None) -> list[str]:
    """The 填报说明 lines for ``fmt``, numbered and filled."""
    used = {f.kind for f in fmt.figures.values()}
    signed = [f for f in fmt.figures.values() if kinds()[f.kind].signed]
    live = []
    for eq in fmt.equations:  # the sums the template checks while typing (formulas.py)
        hint = rules()[eq.rule].hint
        if not eq.needs_last_year and hint and hint not in live:
            live.append(hint)
    words = {
        "document": fmt.document,
        "title": fmt.title,
        "sheets": "”“".join(p.sheet for p in fmt.parts),
        "year": str(year) if year is not None else "本",
        "signed": "”“".join(dict.fromkeys(f.column_label.text for f in signed)),
        "live_checks": "；".join(live),
        "where_to_fix": where_to_fix(),
    }
    out = []
    for line in instructions()["lines"]:
        line = line if isinstance(line, dict) else {"text": line}
        if "if_kind" in line and line["if_kind"] not in used:
            continue
        if "unless_kind" in line and line["unless_kind"] in used:
            continue
        if "{live_checks}" in line["text"] and not live:
            continue
        out.append(f"{numeral(len(out) + 1)}、" + line["text"].format(**words))
    return out
