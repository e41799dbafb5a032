"""`disclosure import`: a published report's figures into the national-format workbook."""

from __future__ import annotations

from pathlib import Path

import typer

from toolkit.common.oserrors import why


def register(app) -> None:
    @app.command("import", help="导入已公开的年报（PDF、Word、网页、文本）：把其中的数字原样写入全国格式的报表工作簿。")
    def import_command(
        source: Path = typer.Argument(..., metavar="年报文件", help="已公开的年报，如 年报.pdf", show_default=False),
        output: Path = typer.Option(..., "-o", "--output", help="报表工作簿，如 年报.xlsx", show_default=False),
    ) -> None:
        from toolkit.checking.batch import check_files
        from toolkit.formats.catalogue import SEVERITY_ZH
        from toolkit.outputs.imported import NotImported, is_imported, write_imported

        if not source.is_file():
            typer.echo(f"找不到文件：{source}", err=True)
            raise typer.Exit(2)
        if output.suffix.lower() != ".xlsx":
            typer.echo(f"报表工作簿的文件名应以 .xlsx 结尾：{output}", err=True)
            raise typer.Exit(2)
        if output.exists() and not is_imported(output):
            # Never overwrite a file this tool did not make.
            typer.echo(f"{output} 已存在，且不是本工具导入生成的文件，未覆盖；请换一个文件名", err=True)
            raise typer.Exit(2)
        (report,), _ = check_files([source], workers=1)
        if report.form is None:
            typer.echo(f"{source.name} 不是已公开的年报（PDF、Word、网页或文本），无法导入", err=True)
            raise typer.Exit(1)
        try:
            write_imported(report, output)
        except NotImported as exc:
            for f in report.findings:
                typer.echo(f.message, err=True)
            typer.echo(str(exc), err=True)
            raise typer.Exit(1)
        except OSError as exc:
            typer.echo(f"无法写入 {output}：{why(exc)}", err=True)
            raise typer.Exit(2)
        typer.echo(f"已导入：{output}（{report.agency or '单位名称未读出'}，{report.year or '年度未读出'}，"
                   f"{len(report.typed)} 个数字格）")
        typer.echo(f"校验：错误 {report.errors}，提醒 {report.warnings}")
        for f in report.findings:
            typer.echo(f"  {f.where_zh or f.cell or ''} {SEVERITY_ZH[f.severity]}：{f.message}")
        raise typer.Exit(0 if report.status == "pass" else 1)
