"""Numbers as written in <v>, and which number formats show dates or times."""

from __future__ import annotations

import re

_FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _number(text: str) -> int | float:
    """'5' -> 5, '-5' -> -5, '5.0' -> 5.0, '1E3' -> 1000.0; ValueError otherwise."""
    s = text.strip()
    if s.isascii():
        digits = s[1:] if s[:1] in "+-" else s
        if digits.isdigit() and len(digits) <= 300:
            return int(s)
        if _FLOAT.fullmatch(s):
            return float(s)
        if s in ("INF", "-INF", "NaN"):
            return float(s)
    raise ValueError(text)


# Built-in number formats that show dates or times (ECMA-376 18.8.30; 27–36 and 50–58 are
# the East Asian date formats, e.g. yyyy"年"m"月" in zh-CN).
_DATE_IDS = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59), *range(71, 82)])
_FMT_NOISE = re.compile(r'"[^"]*"|\\.|_.|\*.')
_FMT_ELAPSED = re.compile(r"\[(?:h+|m+|s+)\]", re.I)
_FMT_BRACKETS = re.compile(r"\[[^\]]*\]")
_FMT_DATE_CHARS = re.compile(r"[dmyhs]|e(?![+-])|g{1,3}(?!eneral)|aaa", re.I)


def is_date_format(code: str) -> bool:
    """Whether a number format code shows a date or a time."""
    c = _FMT_NOISE.sub("", code)
    if _FMT_ELAPSED.search(c):
        return True
    c = _FMT_BRACKETS.sub("", c)
    c = re.sub("general", "", c, flags=re.I)
    return bool(_FMT_DATE_CHARS.search(c.split(";")[0]))
