"""Option types that read what an office types: a year as 2025, ２０２５, 二〇二五 or
二〇二五年, and says in 中文 what it could not read."""

from __future__ import annotations

import click

# 中文 digits as written in dates: 〇/零 for 0 (a year is read digit by digit).
_DIGITS = {**{c: str(i) for i, c in enumerate("〇一二三四五六七八九")}, "零": "0",
           **{chr(0xFF10 + i): str(i) for i in range(10)}}


def parse_year(text: str) -> int | None:
    """The year ``text`` names, or None: four digits, half- or full-width or 中文,
    optionally followed by 年 / 年度."""
    text = str(text).strip()
    for tail in ("年度", "年"):
        if text.endswith(tail):
            text = text[: -len(tail)].strip()
            break
    digits = "".join(_DIGITS.get(c, c) for c in text)
    if len(digits) == 4 and digits.isascii() and digits.isdigit():
        return int(digits)
    return None


class YearType(click.ParamType):
    name = "年份"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        year = parse_year(value)
        if year is None or year < 1000:
            self.fail(f"“{value}”不是年份，请写四位数字，如 2025（也可写 ２０２５ 或 二〇二五）", param, ctx)
        return year


YEAR = YearType()
