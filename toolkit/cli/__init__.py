"""The `disclosure` console command.  Each subcommand is a thin layer over a library
function (see toolkit/commands/); this module only assembles them and makes sure a user
never sees a traceback."""

from __future__ import annotations

import sys

import typer

from toolkit.cli import cli_zh
from toolkit.cli.commands import register_all
from toolkit.common.display import shown

cli_zh.install()

app = typer.Typer(
    name="disclosure",
    help="政府信息公开工作年度报告：生成模板、校验报送文件、批注反馈、邮件通知。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
register_all(app)


def main() -> None:  # pragma: no cover - exercised through the console script
    try:
        app()
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # a traceback shown to a user is a bug; say what happened
        print(shown(f"出错了：{exc}（这是本工具的缺陷，请把这条信息反馈给开发者）"), file=sys.stderr)
        sys.exit(3)
