"""`disclosure mail` (feedback after a check) and `disclosure distribute` (templates before
one): options in, library call, 中文 lines out.  The SMTP password is never an option."""

from __future__ import annotations

import contextlib
import re
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer

from toolkit.cli.ledger_option import LedgerOption, open_ledger
from toolkit.cli.params import YEAR
from toolkit.cli.say import password_prompt, say
from toolkit.common import lock
from toolkit.mailing import (
    MailError,
    MailRun,
    SettingsError,
    distribute_templates,
    load_settings,
    send_feedback,
)
from toolkit.mailing.settings import DEFAULT_CONFIG, PASSWORD_ENV
from toolkit.reading.roster import RosterError, read_roster

_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")

Roster = Annotated[Path, typer.Option("--roster", help="单位名单（.xlsx 或 .csv），含单位名称和电子邮箱")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="不发送，只把邮件草稿（.eml）写入 outbox 文件夹供检查")]
Host = Annotated[Optional[str], typer.Option("--smtp-host", help="SMTP 服务器地址（或环境变量 DISCLOSURE_SMTP_HOST）")]
Port = Annotated[Optional[int], typer.Option("--smtp-port", help="端口：465（ssl）、587（starttls）或 25")]
User = Annotated[Optional[str], typer.Option("--smtp-user", help="登录用户名；密码只从环境变量 "
                                             f"{PASSWORD_ENV} 读取或在运行时输入")]
Sender = Annotated[Optional[str], typer.Option("--from", help="发件地址（默认同用户名）")]
Security = Annotated[Optional[str], typer.Option("--smtp-security", help="ssl、starttls 或 plain（不加密，仅限本机转发）")]
SenderName = Annotated[Optional[str], typer.Option("--sender-name", help="发件人名称和落款，如“某某市政务公开办”")]
CaFile = Annotated[Optional[Path], typer.Option(
    "--smtp-cafile", help="信任的 CA 证书（PEM），用于使用自建证书的内网邮件服务器")]
Config = Annotated[Optional[Path], typer.Option(
    "--config", help=f"SMTP 配置文件（TOML，默认读取当前文件夹的 {DEFAULT_CONFIG}）")]


def register(app: typer.Typer) -> None:
    app.command("remind", help="截止前给还没报送或还没改好的单位发催报邮件，说明还欠什么。")(remind)
    app.command("mail", help="按校验结果给各单位发邮件：需修改的附上批注文件，可选给通过的单位发确认。")(mail)
    app.command("distribute", help="给名单中每个单位发送它自己的填报模板，说明年度、填报要求和截止日期。")(distribute)


def mail(
    outdir: Annotated[Path, typer.Argument(metavar="校验输出文件夹", help="disclosure check 的输出文件夹（含 findings.json）")],
    roster: Roster,
    confirm_passed: Annotated[bool, typer.Option("--confirm-passed", help="也给已通过校验的单位发一封简短的确认邮件")] = False,
    dry_run: DryRun = False,
    smtp_host: Host = None, smtp_port: Port = None, smtp_user: User = None, sender: Sender = None,
    smtp_security: Security = None, sender_name: SenderName = None, smtp_cafile: CaFile = None,
    config: Config = None, ledger: LedgerOption = None,
) -> None:
    def work(entries, settings, prompt, book) -> MailRun:
        with lock.locked(outdir) if outdir.is_dir() else contextlib.nullcontext():  # one run at a time
            return send_feedback(outdir, entries, settings, dry_run=dry_run, confirm_passed=confirm_passed,
                                 password_prompt=prompt, ledger=book)

    _run(work, roster, dry_run, ledger, dict(host=smtp_host, port=smtp_port, user=smtp_user, sender=sender,
                                     security=smtp_security, sender_name=sender_name, cafile=smtp_cafile,
                                     config=config))


def distribute(
    template_dir: Annotated[Path, typer.Argument(metavar="模板文件夹", help="各单位模板所在的文件夹（disclosure template 的输出）")],
    roster: Roster,
    deadline: Annotated[str, typer.Option("--deadline", help="报送截止日期，如 2026-01-31")],
    year: Annotated[Optional[int], typer.Option("--year", click_type=YEAR, help="只发送这一年度的模板")] = None,
    out: Annotated[Optional[Path], typer.Option(
        "-o", "--out", help="发送记录和草稿（outbox）放在哪个文件夹；默认为模板文件夹")] = None,
    dry_run: DryRun = False,
    smtp_host: Host = None, smtp_port: Port = None, smtp_user: User = None, sender: Sender = None,
    smtp_security: Security = None, sender_name: SenderName = None, smtp_cafile: CaFile = None,
    config: Config = None, ledger: LedgerOption = None,
) -> None:
    due = parse_date(deadline)

    def work(entries, settings, prompt, book) -> MailRun:
        with lock.locked(out or template_dir):
            return distribute_templates(template_dir, entries, settings, deadline=due, year=year,
                                        dry_run=dry_run, log_dir=out, password_prompt=prompt, ledger=book)

    _run(work, roster, dry_run, ledger, dict(host=smtp_host, port=smtp_port, user=smtp_user, sender=sender,
                                     security=smtp_security, sender_name=sender_name, cafile=smtp_cafile,
                                     config=config))


def remind(
    before: Annotated[int, typer.Option("--before", help="截止前几天内催报（如 3：离截止不超过 3 天才发）")] = 3,
    deadline: Annotated[Optional[str], typer.Option("--deadline", help="截止日期（默认为下发模板时记入台账的日期）")] = None,
    out: Annotated[Path, typer.Option("-o", "--out", show_default=False,
                                      help="发送记录和草稿（outbox）放在哪个文件夹；默认为当前文件夹")] = Path("."),
    dry_run: DryRun = False,
    smtp_host: Host = None, smtp_port: Port = None, smtp_user: User = None, sender: Sender = None,
    smtp_security: Security = None, sender_name: SenderName = None, smtp_cafile: CaFile = None,
    config: Config = None, ledger: LedgerOption = None,
) -> None:
    from toolkit.mailing.remind import remind as run_remind

    due = parse_date(deadline) if deadline else None

    def work(_entries, settings, prompt, book) -> MailRun:
        with lock.locked(out):  # two reminds at once would both send before either logs
            return run_remind(book, settings, out, before=before, dry_run=dry_run, deadline=due,
                              password_prompt=prompt)[0]

    _run(work, None, dry_run, ledger, dict(host=smtp_host, port=smtp_port, user=smtp_user, sender=sender,
                                   security=smtp_security, sender_name=sender_name, cafile=smtp_cafile,
                                   config=config))


def parse_date(text: str) -> date:
    m = _DATE.match(text or "")
    try:
        if not m:
            raise ValueError
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:  # wrong usage (exit 2), as a bad --year is
        say(f"截止日期“{text}”无法识别，请写成 2026-01-31 这样的形式", err=True)
        raise typer.Exit(2) from None


def _run(work, roster: Path | None, dry_run: bool, ledger: Path | None, options: dict) -> None:
    """Roster (when given), SMTP settings and the ledger, then ``work``; what came of it
    said by _report.  remind has no roster: the ledger names the agencies."""
    book = None
    try:
        entries = read_roster(roster) if roster is not None else None
        for entry in entries or ():
            if entry.note:  # a line break in a cell, made one line
                say(entry.note)
        settings = load_settings(**options)
        if not dry_run:
            settings.check_for_sending()
        book = open_ledger(ledger, existing=roster is None)  # remind: the ledger names the agencies
        if entries is not None:
            book.record_roster(entries)
        run = work(entries, settings, password_prompt(f"SMTP 密码（{settings.user}）"), book)
    except (RosterError, SettingsError, MailError) as exc:
        _fail(str(exc))
        return
    finally:
        if book is not None:
            book.close()
    _report(run)


def _fail(message: str) -> None:
    say(message, err=True)
    raise typer.Exit(1)


def _report(run) -> None:
    """What came of a send, on screen; exit 1 when something that should have gone did not."""
    for line in run.lines_zh():
        say(line)
    if run.exit_code:
        raise typer.Exit(run.exit_code)
