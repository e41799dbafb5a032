"""`disclosure status`: the campaign per agency, from the ledger, on one screen (80
columns)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table

from toolkit.cli.ledger_option import LedgerOption, open_ledger
from toolkit.cli.say import say
from toolkit.common.display import shown

WIDTH = 80


def register(app: typer.Typer) -> None:
    app.command("status", help="按单位名单列出每个单位的进度：模板下发、收到报送、各轮校验、校验意见、还欠什么、离截止还有几天。")(status)


def status(
    roster: Annotated[Optional[Path], typer.Option("--roster", help="单位名单（先记入台账；不给则用台账中的名单）")] = None,
    deadline: Annotated[Optional[str], typer.Option("--deadline", help="截止日期，如 2026-01-31（默认为下发模板时的截止日期）")] = None,
    ledger: LedgerOption = None,
) -> None:
    from toolkit.cli.commands.mail import parse_date
    from toolkit.outputs.status import progress
    from toolkit.reading.roster import RosterError, read_roster

    due = parse_date(deadline) if deadline else None
    book = open_ledger(ledger, existing=roster is None)  # a roster given starts one
    try:
        if roster is not None:
            try:
                book.record_roster(read_roster(roster))
            except RosterError as exc:
                say(str(exc), err=True)
                raise typer.Exit(2) from None
        if due is not None:
            book.set_campaign(deadline=due.isoformat())
        state = progress(book)
        unread = book.messages_to_read()
    finally:
        book.close()
    if not state.agencies:
        say(f"台账 {book.path} 中还没有单位名单：请用 --roster 单位名单.xlsx 给出")
        raise typer.Exit(1)
    show(Console(width=WIDTH, markup=False, highlight=False), state, len(unread))


def show(console: Console, state, unread: int = 0) -> None:
    from toolkit.outputs.status import COLUMNS, rows, used_lines

    console.print("报送进度：" + state.headline())
    console.print(state.due_line())
    # One space between columns; only the agency's name may fold, the rest stay whole.
    table = Table(box=None, padding=(0, 1, 0, 0), pad_edge=False, header_style="bold")
    for name in COLUMNS:
        table.add_column(name, overflow="fold", no_wrap=name != "单位名称")
    for values in rows(state, compact=True):
        table.add_row(*(shown(v) for v in values))  # names as typed: no control characters
    console.print(table)
    for line in used_lines(state, lambda line: cell_len(shown(line)) <= console.width):
        console.print(shown(line))
    if unread:
        console.print(f"另有 {unread} 封收到的邮件没有报送文件，需人工阅读（见 disclosure collect 的输出）。")
