"""Make click and typer speak 中文.

Both libraries fetch every message they print through gettext (bound at import as ``_``
and ``ngettext`` in each module); this routes those lookups through the table in
data/cli_zh.yaml, and re-derives the few panel titles typer computed at import."""

from __future__ import annotations

import importlib
import re
from functools import cache

import yaml

from toolkit.common.resources import package_file

MODULES = ("click.core", "click.exceptions", "click.decorators", "click.formatting",
           "click.parser", "click.types", "click.termui", "typer.core", "typer.rich_utils")
# typer.rich_utils constants evaluated from English at import.
RICH_CONSTANTS = ("DEPRECATED_STRING", "DEFAULT_STRING", "ENVVAR_STRING", "REQUIRED_LONG_STRING",
                  "ARGUMENTS_PANEL_TITLE", "OPTIONS_PANEL_TITLE", "COMMANDS_PANEL_TITLE",
                  "ERRORS_PANEL_TITLE", "ABORTED_TEXT", "RICH_HELP")


OPTIONS_METAVAR = "[选项]"  # click's "[OPTIONS]" in every usage line


@cache
def table() -> dict[str, str]:
    return yaml.safe_load(package_file("data", "cli_zh.yaml").read_text(encoding="utf-8"))


def table_types() -> dict[str, str]:
    """click's basic types (STRING, INT, FLOAT, BOOL) -> their 中文 names."""
    return {const: table()[f"type:{const}"] for const in ("STRING", "INT", "FLOAT", "BOOL")}


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
    # Metavars and "不是有效的…" name the type: click spells them in English at import.
    click_types = importlib.import_module("click.types")
    for const, name in table_types().items():
        getattr(click_types, const).name = name
    rich_utils = importlib.import_module("typer.rich_utils")
    _fold_help(rich_utils)
    _unnamed_arguments(rich_utils)
    _full_stop(importlib.import_module("click.exceptions").MissingParameter)
    _file_name_hint(importlib.import_module("click.exceptions").NoSuchOption)
    english = {v: k for k, v in table().items()}
    for const in RICH_CONSTANTS:
        value = getattr(rich_utils, const, None)
        if isinstance(value, str):
            setattr(rich_utils, const, gettext(english.get(value, value)))


def _fold_help(rich_utils) -> None:
    """中文 help has no spaces to wrap at: rich would cut it with "…" at the column
    edge; folded, every help text is shown whole."""
    make = rich_utils._make_rich_text
    if getattr(make, "folds", False):
        return

    def folded(*args, **kwargs):
        text = make(*args, **kwargs)
        if hasattr(text, "overflow"):
            text.overflow = "fold"
        return text

    folded.folds = True
    rich_utils._make_rich_text = folded


def _unnamed_arguments(rich_utils) -> None:
    """The 参数 panel shows an argument by its 中文 metavar only: typer would put the
    Python parameter's name (``paths``, ``folder``) in front of it, in English."""
    show = rich_utils._print_options_panel
    if getattr(show, "unnamed", False):
        return
    argument = importlib.import_module("click").Argument

    def panel(*args, params, **kwargs):
        named = [(p, p.opts) for p in params if isinstance(p, argument)]  # restored after
        for p, _ in named:
            p.opts = []
        try:
            return show(*args, params=params, **kwargs)
        finally:
            for p, opts in named:
                p.opts = opts

    panel.unnamed = True
    rich_utils._print_options_panel = panel


_HINT_STOP = re.compile(r"(['”])\.(?= |$)")


def _full_stop(missing) -> None:
    """click ends "缺少选项 '-o'" with an English full stop, outside any message table."""
    fmt = missing.format_message
    if getattr(fmt, "zh", False):
        return

    def format_message(self) -> str:
        return _HINT_STOP.sub("\\1。", fmt(self), count=1)

    format_message.zh = True
    missing.format_message = format_message


FILE_NAME_HINT = "若这是以“-”开头的文件名，请在前面加上 ./（如 ./-报表.xlsx）"


def _file_name_hint(no_such_option) -> None:
    """“-财政局.xlsx” is taken for options: an option's name is never 中文 nor has a dot,
    so such an unknown option is most likely a file name."""
    fmt = no_such_option.format_message
    if getattr(fmt, "zh", False):
        return

    def format_message(self) -> str:
        said = fmt(self)
        name = self.option_name or ""
        looks_like_a_file = not name.isascii() or "." in name
        return f"{said}{FILE_NAME_HINT}" if looks_like_a_file else said

    format_message.zh = True
    no_such_option.format_message = format_message
