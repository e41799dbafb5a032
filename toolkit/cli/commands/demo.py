"""`disclosure demo`."""

from __future__ import annotations

from pathlib import Path

import typer

from toolkit.cli.params import YEAR
from toolkit.cli.say import say


def register(app: typer.Typer) -> None:
    app.command("demo", help="演示完整流程：示例单位名单、下发模板、模拟报送、校验、批注、汇总和邮件草稿。")(demo)


def demo(folder: Path = typer.Argument(Path("disclosure-demo"), metavar="[演示文件夹]", help="演示文件夹（默认 disclosure-demo）"),
         year: int | None = typer.Option(None, "--year", click_type=YEAR, help="年度（默认用真实样例报告的年度）")) -> None:
    from toolkit.cli.demo import run_demo

    result = run_demo(folder, year=year)
    for line in result.lines:
        say(line)
