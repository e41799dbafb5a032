"""Defined-name targets ('Sheet'!$A$1) as (sheet, A1 ref)."""

from __future__ import annotations

import re

from toolkit.common.a1 import parse_range, range_of

_NAME_TARGET = re.compile(
    r"""^(?:'((?:[^']|'')+)'|([^'!:\[\]]+))!"""
    r"""\$?([A-Za-z]{1,3})\$?([0-9]{1,7})(?::\$?([A-Za-z]{1,3})\$?([0-9]{1,7}))?$""")


_TARGETS: dict[str, tuple[str, str] | None] = {}  # a batch holds the same names in every file


def parse_name_target(text: str) -> tuple[str, str] | None:
    """"'三、依申请公开'!$J$6" -> ('三、依申请公开', 'J6'); ranges -> 'B4:D4'; None when
    the target is #REF!, a formula, several areas or another workbook."""
    try:
        return _TARGETS[text]
    except KeyError:
        pass
    target = _parse_name_target(text)
    if len(_TARGETS) < 100_000:
        _TARGETS[text] = target
    return target


def _parse_name_target(text: str) -> tuple[str, str] | None:
    m = _NAME_TARGET.match(text.strip().lstrip("="))
    if not m:
        return None
    sheet = m.group(1).replace("''", "'") if m.group(1) is not None else m.group(2).strip()
    try:
        area = parse_range(m.group(3) + m.group(4) + (":" + m.group(5) + m.group(6) if m.group(5) else ""))
    except ValueError:
        return None
    return sheet, range_of(*area)
