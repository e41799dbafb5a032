"""Printing for the commands: every line goes out as text, shown safely
(common.display: no control characters, no undecodable file names), never as markup."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click
import typer

from toolkit.common.display import shown


def say(text: object = "", *, err: bool = False) -> None:
    typer.echo(shown(text), err=err)


def password_prompt(label: str) -> Callable[[], str]:
    """Asks for a password on the terminal (typed unseen).  Without a terminal, the first
    line piped in is the password, "" when there is none (a scheduled task: the caller
    then names the environment variable): never Python's English warning that the input
    may be echoed."""
    def ask() -> str:
        if not sys.stdin.isatty():
            try:
                return sys.stdin.readline().rstrip("\r\n")
            except (OSError, ValueError):  # stdin closed
                return ""
        try:
            return typer.prompt(label, hide_input=True, default="", show_default=False)
        except (click.exceptions.Abort, EOFError):
            return ""

    return ask
