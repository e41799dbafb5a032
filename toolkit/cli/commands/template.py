"""`disclosure template`: the locked template, one file or one per agency of a roster."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import NoReturn

import typer

from toolkit.cli.params import YEAR
from toolkit.cli.say import say
from toolkit.common import lock
from toolkit.common.oserrors import why


def _fail(message: str, code: int) -> NoReturn:
    say(message, err=True)
    raise typer.Exit(code)


def _years_zh(fmt) -> str:
    first, last = fmt.years
    return f"{first} 年度及以后" if last >= 2099 else f"{first}–{last} 年度"


def register(app: typer.Typer) -> None:
    app.command(
        "template",
        help="生成全国统一格式的填报模板（锁定表头，只能填写数字格）；给出 --roster 时为名单中每个单位各生成一份。",
    )(template_command)


def _format(format_id: str | None, year: int | None):
    """The format asked for, else the one in force in ``year``, else the newest; a usage
    error (exit 2) when there is none or it does not cover ``year``."""
    from toolkit.formats import spec

    known = spec.formats()
    if format_id is not None:
        if format_id not in known:
            _fail(f"没有名为 {format_id} 的报表格式。可用的格式：{'、'.join(known)}", 2)
        fmt = known[format_id]
    else:
        fmt = spec.for_year(year) if year is not None else spec.get()
    if format_id is not None and year is not None and not fmt.covers(year):
        _fail(f"{fmt.id}（{fmt.document}）适用于 {_years_zh(fmt)}，不适用于 {year} 年度；"
              f"{year} 年度请用 " + ("、".join(f.id for f in known.values() if f.covers(year)) or "（无）")
              + "，或不写 --format 按年度选择。", 2)
    if year is not None and not fmt.covers(year):
        ranges = "；".join(f"{f.id}（{f.document}）适用于 {f.years[0]} 年及以后" if f.years[1] >= 2099
                          else f"{f.id}（{f.document}）适用于 {f.years[0]}–{f.years[1]} 年" for f in known.values())
        _fail(f"没有适用于 {year} 年度的报表格式。已收录：{ranges}", 2)
    return fmt


def template_command(
    # Optional here so that a missing -o gets a 中文 message rather than click's.
    output: Path | None = typer.Option(None, "-o", "--output",
                                       help="必填。模板文件（如 模板.xlsx）；给出 --roster 时为输出文件夹",
                                       show_default=False),
    agency: str | None = typer.Option(None, "--agency", help="单位名称：填入模板并锁定"),
    year: int | None = typer.Option(None, "--year", click_type=YEAR, help="报告年度，如 2025：填入模板并锁定（按名单生成时默认上一年）"),
    format_id: str | None = typer.Option(None, "--format", help="报表格式，如 gov-2021；不填时按年度选择"),
    roster: Path | None = typer.Option(None, "--roster", help="单位名单（.xlsx 或 .csv，需有“单位名称”列）"),
) -> None:
    from toolkit.reading.roster import RosterError, read_roster
    from toolkit.template.batch import write_batch
    from toolkit.template.writer import TemplateError, write_template

    if output is None:
        _fail("请用 -o 指定输出：模板文件（如 -o 模板.xlsx），或按名单生成时的文件夹（如 -o 模板）。", 2)
    if roster is not None and agency is not None:
        _fail("--agency 与 --roster 不能同时使用：按名单生成时单位名称取自名单。", 2)
    if roster is not None and year is None:
        year = datetime.date.today().year - 1  # reports are on the year just ended
    if year is not None and not 1000 <= year <= 9999:
        _fail(f"年度应为四位数字，如 2025：{year}", 2)

    fmt = _format(format_id, year)

    if roster is None:
        if output.suffix.lower() != ".xlsx":
            _fail(f"模板文件名应以 .xlsx 结尾：{output}", 2)
        if output.is_dir():
            _fail(f"{output} 是文件夹；请给出模板文件名，如 {output / '模板.xlsx'}", 2)
        try:
            path = write_template(output, fmt, agency=agency, year=year)
        except TemplateError as exc:
            _fail(str(exc), 2)
        except OSError as exc:
            _fail(f"无法写入 {output}：{why(exc)}", 1)
        who = f"（{agency}，{year or '年度待填'}）" if agency else (f"（{year} 年度）" if year else "")
        say(f"已生成模板{who}：{path}")
        say(f"格式：{fmt.document}，数字格 {len(fmt.figures)} 个，均有名称（{fmt.name_prefix}…）。")
        return

    if output.suffix.lower() == ".xlsx" or (output.exists() and not output.is_dir()):
        _fail(f"按名单生成时 -o 应为文件夹：{output}", 2)
    try:
        entries = read_roster(roster)
        for entry in entries:
            if entry.note:  # a line break in a cell, made one line
                say(entry.note)
        with lock.locked(output):
            paths = write_batch(entries, output, year=year, fmt=fmt)
    except RosterError as exc:  # the file given cannot serve as a roster: wrong usage
        _fail(str(exc), 2)
    except OSError as exc:
        _fail(f"无法写入 {output}：{why(exc)}", 1)
    say(f"已为 {len(paths)} 个单位生成 {year} 年度模板（{fmt.document}），保存在：{output}")
    for entry, path in zip(entries, paths):
        say(f"  {entry.name} → {path.name}")
    for note in paths.notes():  # a duplicated agency is said, not silently renamed
        say(note)
