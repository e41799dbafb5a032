"""What a printed template says on every page: the agency and the year, so that a page
separated from the others still says whose it is."""

from __future__ import annotations


def page_header(agency: str | None, year: int | None) -> str:
    """The printed page header: every page names the agency and the year (blanks to
    write in by hand when the template is not for one agency)."""
    who = str(agency).strip().replace("&", "&&") if agency else "＿＿＿＿＿＿＿＿＿＿＿＿"
    when = f"{year}" if year is not None else "＿＿＿＿"
    return f"&L单位名称：{who}&R年度：{when}"
