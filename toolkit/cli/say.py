"""Printing for the commands: every line goes out as text, shown safely
(common.display: no control characters, no undecodable file names), never as markup."""

from __future__ import annotations

import typer

from toolkit.common.display import shown


def say(text: object = "", *, err: bool = False) -> None:
    typer.echo(shown(text), err=err)
