"""Cell references: defined-name targets ('Sheet'!$A$1) and column letters."""

from __future__ import annotations

import re

from toolkit.workbook.book import parse_ref, ref_of

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
        r1, c1 = parse_ref(m.group(3) + m.group(4))
        if m.group(5):
            r2, c2 = parse_ref(m.group(5) + m.group(6))
        else:
            r2, c2 = r1, c1
    except ValueError:
        return None
    r1, r2 = sorted((r1, r2))
    c1, c2 = sorted((c1, c2))
    ref = ref_of(r1, c1) if (r1, c1) == (r2, c2) else f"{ref_of(r1, c1)}:{ref_of(r2, c2)}"
    return sheet, ref


_COLS: dict[str, int] = {}


def _col_of(ref: str) -> int:
    col = _COLS.get(ref)
    if col is None:
        col = 0
        for ch in ref:
            o = ord(ch)
            if 65 <= o <= 90:
                col = col * 26 + o - 64
            elif 97 <= o <= 122:
                col = col * 26 + o - 96
            elif ch != "$":
                break
        if len(_COLS) < 100_000:
            _COLS[ref] = col
    return col
