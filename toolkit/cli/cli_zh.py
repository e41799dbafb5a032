"""Make click and typer speak 中文.

Both libraries fetch every message they print through gettext (bound at import as ``_``
and ``ngettext`` in each module); this routes those lookups through the table in
data/cli_zh.yaml, and re-derives the few panel titles typer computed at import."""

from __future__ import annotations

import importlib
from functools import cache

import yaml

from toolkit.common.resources import package_file

MODULES = ("click.core", "click.exceptions", "click.decorators", "click.formatting",
           "click.parser", "click.types", "click.termui", "typer.core", "typer.rich_utils")
# typer.rich_utils constants evaluated from English at import.
RICH_CONSTANTS = ("DEPRECATED_STRING", "DEFAULT_STRING", "ENVVAR_STRING", "REQUIRED_LONG_STRING",
                  "ARGUMENTS_PANEL_TITLE", "OPTIONS_PANEL_TITLE", "COMMANDS_PANEL_TITLE",
                  "ERRORS_PANEL_TITLE", "ABORTED_TEXT", "RICH_HELP")


@cache
def table() -> dict[str, str]:
    return yaml.safe_load(package_file("data", "cli_zh.yaml").read_text(encoding="utf-8"))


def gettext(message: str) -> str:
    return table().get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return gettext(singular if n == 1 else plural)


def install() -> None:
    for name in MODULES:
        module = importlib.import_module(name)
        if hasattr(module, "_"):
            module._ = gettext
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext
    rich_utils = importlib.import_module("typer.rich_utils")
    english = {v: k for k, v in table().items()}
    for const in RICH_CONSTANTS:
        value = getattr(rich_utils, const, None)
        if isinstance(value, str):
            setattr(rich_utils, const, gettext(english.get(value, value)))
