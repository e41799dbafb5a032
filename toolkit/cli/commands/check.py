"""`disclosure check` and `disclosure rules`."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from toolkit.cli.fold import fold
from toolkit.cli.ledger_option import LedgerOption, open_ledger
from toolkit.cli.options import at_least_one, megabytes
from toolkit.cli.options import seconds as limit_seconds
from toolkit.common.display import shown, shown_name
from toolkit.formats import spec
from toolkit.formats.catalogue import SEVERITY_ZH, rules
from toolkit.formats.findings import STATUS_ZH
from toolkit.workbook.limits import Limits

FEW = 20  # up to this many files, every finding is printed; beyond, a progress bar
LISTED = 30  # beyond FEW files: agencies named per status on screen (the rest in 汇总.xlsx)


def register(app: typer.Typer) -> None:
    app.command("check", help="校验报送的工作簿和已公开的年报，写出 findings.json、批注文件和 汇总.xlsx。")(check)
    app.command("rules", help="列出全部校验规则（编号、严重程度、说明）。")(rules_command)


def check(
    paths: list[Path] = typer.Argument(..., metavar="文件或文件夹...", help="报送文件、已公开的年报或文件夹（递归查找 .xlsx .xlsm .xls .et 和 .pdf .docx .doc .wps .html .htm .mht .txt .md）"),
    outdir: Path = typer.Option(..., "-o", "--outdir", help="输出文件夹"),
    roster: Path | None = typer.Option(None, "--roster", help="单位名单（.xlsx/.csv），用于统计未报送、重复报送"),
    previous: list[Path] | None = typer.Option(None, "--previous", help="上年报表（文件或文件夹），核对 R7、R8"),
    format_id: str | None = typer.Option(None, "--format", help="要求的报表格式，如 gov-2021；不填则自动识别"),
    workers: int | None = typer.Option(None, "--workers", help="并行读取的进程数（默认按 CPU 核数）",
                                       callback=at_least_one),
    max_mb: float | None = typer.Option(None, "--max-mb", help=f"单个文件大小上限（MB，默认 {Limits.max_file_mb:g}）", callback=megabytes),
    seconds: float | None = typer.Option(None, "--seconds", help=f"单个文件处理时间上限（秒，默认 {Limits.max_seconds:g}）",
                                    callback=limit_seconds),
    annotate: bool = typer.Option(True, "--annotate/--no-annotate", show_default=False,
                                  help="是否生成批注文件（默认生成；--no-annotate 不生成）"),
    ledger: LedgerOption = None,
    against: list[Path] | None = typer.Option(None, "--against", help="审定的报表（文件或文件夹）：与已公开的年报逐项比对"),
) -> None:
    from toolkit.outputs.check import collect, prepare, run

    console = Console()
    # A link that leads nowhere is there (it gets its verdict); only a name of nothing is missing.
    missing = [str(p) for p in paths if not os.path.lexists(p)]
    missing_last = [str(p) for p in previous or [] if not os.path.lexists(p)]
    missing_against = [str(p) for p in against or [] if not os.path.lexists(p)]
    if missing or missing_last or missing_against:
        said = ([f"找不到要校验的文件或文件夹：{'、'.join(missing)}"] if missing else []) + (
            [f"找不到 --previous 给出的上年报表：{'、'.join(missing_last)}"] if missing_last else []) + (
            [f"找不到 --against 给出的文件：{'、'.join(missing_against)}"] if missing_against else [])
        console.print(Text(shown("\n".join(said)), "red"), soft_wrap=True)
        raise typer.Exit(2)
    if outdir.exists() and not outdir.is_dir():
        console.print(Text(shown(f"输出目录 {outdir} 已存在，但它是文件，不是文件夹"), "red"))
        raise typer.Exit(2)
    if format_id is not None and format_id not in spec.formats():
        console.print(Text(shown(f"未知的报表格式 {format_id}，可选：{'、'.join(spec.formats())}"), "red"))
        raise typer.Exit(2)
    overrides = {"max_file_mb": max_mb, "max_seconds": seconds}
    limits = Limits(**{k: v for k, v in overrides.items() if v is not None})
    prepare(outdir)  # OUTDIR writable and ours to write (exit 2 otherwise) before anything is read
    from toolkit.checking.batch import _outputs
    from toolkit.checking.others import sort_out

    files = collect(paths, exclude=outdir)
    extra, others = sort_out(paths, files, _outputs(outdir))
    files += extra
    if not files:
        for other in others:
            console.print(Text(f"{shown_name(other.path)}：{other.verdict}"))
        console.print(Text(shown(f"{'、'.join(map(str, paths))} 中没有找到要校验的文件（报表 .xlsx .xlsm .xls .et，"
                                 "或已公开的年报 .pdf .docx .doc .wps .html .htm .mht .txt .md）。")), soft_wrap=True)
        raise typer.Exit(1)
    expect = spec.get(format_id) if format_id else None
    book = open_ledger(ledger)
    kwargs = dict(workers=workers, roster=roster, previous=previous, limits=limits, expect=expect,
                  annotate=annotate, ledger=book, against=against)
    from toolkit.reading.roster import RosterError

    try:
        if len(files) > FEW:
            with Progress(TextColumn("校验中"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                          console=console, transient=True) as bar:
                task = bar.add_task("check", total=len(files))
                batch = run(paths, outdir, progress=lambda done, total: bar.update(task, completed=done), **kwargs)
        else:
            batch = run(paths, outdir, **kwargs)
    except RosterError as exc:
        console.print(Text(shown(exc), "red"))
        raise typer.Exit(2)
    finally:
        book.close()
    print_batch(console, batch, detailed=len(files) <= FEW)
    raise typer.Exit(0 if batch.ok else 1)


def print_batch(console: Console, batch, *, detailed: bool) -> None:
    counts = {status: 0 for status in STATUS_ZH}
    for report in batch.reports:
        counts[report.status] += 1
        if not detailed:
            continue
        who = report.agency or ("（未能读取）" if report.unreadable else "（未填单位名称）")
        colour = {"pass": "green", "fail": "red", "unreadable": "red"}[report.status]
        # Agency text is printed as text (Text objects: "乙局[/b]" is no markup), shown safely.
        name = Text(shown_name(report.path), "bold")
        verdict = Text.assemble(shown(who), "  ", (STATUS_ZH[report.status], colour),
                                f"  错误 {report.errors}，提醒 {report.warnings}")
        if name.cell_len + 2 + verdict.cell_len <= console.width:
            console.print(Text.assemble(name, "  ", verdict))
        else:  # a long file name on a line of its own: the verdict is never cut in two
            console.print(name)
            console.print(Text.assemble("  ", verdict))
        # One heading line per finding, its message folded under it (as `disclosure rules`):
        # a table column would cut a long 中文 message with "…"; fold breaks it as 中文 is set.
        for f in report.findings:
            # A published report's finding points into the document (page, table, line).
            where = f.where_zh if f.location else (f.cell or "")
            head = " ".join(x for x in (f.sheet or "", where) if x)
            console.print(Text.assemble("  ", f"{shown(head)}  " if head else "",
                                        (f"{f.rule} {SEVERITY_ZH[f.severity]}", colour_of(f))))
            _print_folded(console, shown(f.message))
    console.print(f"共 {len(batch.reports)} 个文件：通过 {counts['pass']}，需修改 {counts['fail']}，"
                  f"无法读取 {counts['unreadable']}。")
    if not detailed:  # the files are not listed above: who needs to act, at least
        unused = batch.unused()
        for status in ("fail", "unreadable"):
            who = [r.agency or shown_name(r.path) for r in batch.reports if r.status == status and r.path not in unused]
            if who:
                more = f" 等 {len(who)} 个" if len(who) > LISTED else ""
                console.print(Text(shown(f"{STATUS_ZH[status]}（{len(who)} 个）：{'、'.join(who[:LISTED])}{more}")),
                              soft_wrap=True)
    if batch.others:
        console.print(f"另有 {len(batch.others)} 个文件未校验：")
        for other in batch.others:
            console.print(Text(f"  {shown_name(other.path)}：{other.verdict}"))
    if batch.previous is not None:
        for line in batch.previous.lines_zh():
            console.print(Text(shown(line)))
    for line in batch.against or []:
        console.print(Text(shown(line)))
    if batch.coverage is not None:
        for line in batch.coverage.lines():
            console.print(Text(shown(line)), soft_wrap=True)
    else:  # duplicates are a fact of the returns: said with or without a roster
        from toolkit.outputs.coverage import duplicate_lines

        for line in duplicate_lines(batch.duplicates):
            console.print(Text(shown(line)), soft_wrap=True)
    if batch.outdir is not None:  # paths unfolded: a terminal wraps them, a copy takes them whole
        console.print(Text(shown(f"结果：{batch.outdir / 'findings.json'}")), soft_wrap=True)
        if batch.summary:
            console.print(Text(shown(f"汇总：{batch.summary}")), soft_wrap=True)
        if batch.annotated:
            console.print(Text(shown(f"批注文件：{batch.outdir / 'annotated'}（{len(batch.annotated)} 个）")),
                          soft_wrap=True)


def _print_folded(console: Console, text: str, indent: int = 4) -> None:
    """``text`` under a heading line, indented and folded as 中文 is set (cli.fold)."""
    for line in fold(text, console.width - indent):
        console.print(Text(" " * indent + line), soft_wrap=True)


def colour_of(finding) -> str:
    return "red" if finding.severity == "error" else "yellow"


def rules_command() -> None:
    """The catalogue in full, one rule per paragraph: 中文 has no spaces to wrap at, so a
    table column cuts long descriptions with "…"; text folded (cli.fold) under a heading
    line is whole, at any width and when piped."""
    console = Console()
    console.print("[bold]校验规则[/bold]（编号、严重程度、名称，下一行是说明）")
    for r in rules().values():
        console.print()
        console.print(Text(f"{r.id}  {SEVERITY_ZH[r.severity]}  {r.title}", style="bold"))
        _print_folded(console, r.explained)
