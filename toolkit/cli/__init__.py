"""The `disclosure` console command.  Each subcommand is a thin layer over a library
function (see toolkit/commands/); this module only assembles them and makes sure a user
never sees a traceback."""

from __future__ import annotations

import sys

import typer

from toolkit.cli import cli_zh
from toolkit.cli.commands import register_all
from toolkit.common.display import shown
from toolkit.common.ownership import Refused

cli_zh.install()
INTERRUPTED = 130  # what typer exits with on Ctrl-C

app = typer.Typer(
    name="disclosure",
    help="政府信息公开工作年度报告：生成模板、校验报送文件、批注反馈、邮件通知。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    suggest_commands=False,  # click suggests in 中文 (cli_zh); typer's would add English
    options_metavar=cli_zh.OPTIONS_METAVAR,
    subcommand_metavar="命令 [参数]...",
)


def _version(value: bool) -> None:
    if value:
        from toolkit import __version__

        typer.echo(f"disclosure {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="显示版本并退出。")) -> None:
    """政府信息公开工作年度报告：生成模板、校验报送文件、批注反馈、邮件通知。"""


register_all(app)


def main() -> None:  # pragma: no cover - exercised through the console script
    try:
        app(prog_name="disclosure")
    except SystemExit as exc:
        # typer turns Ctrl-C into a silent exit 130; say it, and keep to the codes 0/1/2.
        if exc.code == INTERRUPTED:
            print("已中断。", file=sys.stderr)
            sys.exit(1)
        raise
    except Refused as exc:  # would touch what is not ours, or cannot write: nothing was read
        print(shown(exc), file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        sys.exit(1)
    except Exception as exc:  # a traceback shown to a user is a bug; say what happened
        # Exit codes are 0, 1 and 2 only: the run could not be completed, as for a usage error.
        print(shown(f"出错了：{exc}（这是本工具的缺陷，请把这条信息反馈给开发者）"), file=sys.stderr)
        sys.exit(2)
