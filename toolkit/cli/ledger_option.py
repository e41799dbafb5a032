"""The --ledger option every command that records shares, and opening the ledger with a
中文 verdict instead of a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from toolkit.cli.say import say
from toolkit.ledger import DEFAULT_NAME, ENV_VAR, Ledger, LedgerError, ledger_path

LedgerOption = Annotated[Optional[Path], typer.Option(
    "--ledger", help=f"台账文件（SQLite；默认为环境变量 {ENV_VAR}，否则当前文件夹的 {DEFAULT_NAME}）")]


def open_ledger(option: Path | None, *, existing: bool = False) -> Ledger:
    """The ledger, created when absent unless ``existing`` (a command that only reads it:
    a mistyped --ledger would otherwise make an empty one and blame something else)."""
    path = ledger_path(option)
    if existing and not path.exists():
        say(f"找不到台账 {path}：台账由 disclosure distribute、collect、check 建立，请在建立它的文件夹中运行，"
            "或用 --ledger 指定台账文件", err=True)
        raise typer.Exit(2)
    try:
        return Ledger(path)
    except LedgerError as exc:
        say(str(exc), err=True)
        raise typer.Exit(2) from None
