"""`disclosure aggregate`: the regional roll-up (toolkit/aggregate.py)."""

from __future__ import annotations

from pathlib import Path

import typer

from toolkit.cli.ledger_option import LedgerOption, open_ledger
from toolkit.cli.params import YEAR
from toolkit.cli.say import say
from toolkit.common.oserrors import why


def register(app) -> None:
    @app.command("aggregate", help="汇总：把通过校验的报表数字相加，生成一份全国格式的汇总表（附汇总说明）。")
    def aggregate_command(
        sources: list[Path] = typer.Argument(
            ..., metavar="文件夹或文件...", help="校验输出文件夹（含 findings.json）、报表文件夹或报表文件，可以多个", show_default=False),
        output: Path = typer.Option(..., "-o", "--output", help="汇总表文件，如 汇总表.xlsx", show_default=False),
        region: str | None = typer.Option(None, "--region", help="地区或汇总单位名称，如 某某市"),
        year: int | None = typer.Option(None, "--year", click_type=YEAR, help="汇总年度；不填时取报表中最多的年度"),
        workers: int | None = typer.Option(None, "--workers", help="并行读取的进程数"),
        ledger: LedgerOption = None,
    ) -> None:
        from toolkit.ledger import ledger_path
        from toolkit.outputs.aggregate import AggregateError, aggregate

        if output.suffix.lower() != ".xlsx":
            say(f"汇总表文件名应以 .xlsx 结尾：{output}", err=True)
            raise typer.Exit(2)
        missing = [str(s) for s in sources if not s.exists()]
        if missing:  # a mistyped path is wrong usage, as in check
            say(f"找不到要汇总的文件或文件夹：{'、'.join(missing)}", err=True)
            raise typer.Exit(2)
        # Read only: a ledger that exists says when returns were received; none is made.
        book = open_ledger(ledger) if ledger_path(ledger).is_file() else None
        try:
            rollup = aggregate(sources, output, region=region, year=year, workers=workers, ledger=book)
        except AggregateError as exc:
            say(str(exc), err=True)
            raise typer.Exit(1)
        except OSError as exc:
            say(f"无法写入 {output}：{why(exc)}", err=True)
            raise typer.Exit(2)
        finally:
            if book is not None:
                book.close()
        for line in rollup.lines_zh():
            say(line)
