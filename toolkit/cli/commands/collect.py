"""`disclosure collect`: returns from the mailbox into a folder, recorded in the ledger.
The IMAP password is never an option."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from toolkit.cli.ledger_option import LedgerOption, open_ledger
from toolkit.cli.say import password_prompt, say
from toolkit.mailing.imapsettings import PASSWORD_ENV, load_imap_settings
from toolkit.mailing.settings import DEFAULT_CONFIG, SettingsError
from toolkit.mailing.transport import MailError
from toolkit.reading.roster import RosterError, read_roster


def register(app: typer.Typer) -> None:
    app.command("collect", help="从邮箱（IMAP）收取各单位报送的文件，按单位和收到时间保存，记入台账；不会重复收取。")(collect)


def collect(
    outdir: Annotated[Path, typer.Option("-o", "--out", help="报送文件保存到哪个文件夹")],
    roster: Annotated[Optional[Path], typer.Option("--roster", help="单位名单：按发件地址识别单位")] = None,
    imap_host: Annotated[Optional[str], typer.Option("--imap-host", help="IMAP 服务器地址（或环境变量 DISCLOSURE_IMAP_HOST）")] = None,
    imap_port: Annotated[Optional[int], typer.Option("--imap-port", help="端口：993（ssl）或 143（starttls、plain）")] = None,
    imap_user: Annotated[Optional[str], typer.Option("--imap-user", help=f"登录用户名；密码只从环境变量 {PASSWORD_ENV} 读取或在运行时输入")] = None,
    imap_security: Annotated[Optional[str], typer.Option("--imap-security", help="ssl、starttls 或 plain（不加密，仅限本机）")] = None,
    imap_cafile: Annotated[Optional[Path], typer.Option("--imap-cafile", help="信任的 CA 证书（PEM），用于内网邮件服务器")] = None,
    folder: Annotated[Optional[str], typer.Option("--folder", help="邮件文件夹（默认 INBOX）")] = None,
    config: Annotated[Optional[Path], typer.Option("--config", help=f"配置文件（TOML 的 \\[imap] 部分，默认读取当前文件夹的 {DEFAULT_CONFIG}）")] = None,
    ledger: LedgerOption = None,
) -> None:
    from toolkit.mailing.collect import collect as run_collect

    try:
        entries = read_roster(roster) if roster else []
        settings = load_imap_settings(host=imap_host, port=imap_port, user=imap_user, security=imap_security,
                                      cafile=imap_cafile, folder=folder, config=config)
        settings.check()
    except (RosterError, SettingsError) as exc:
        say(str(exc), err=True)
        raise typer.Exit(2) from None
    if outdir.exists() and not outdir.is_dir():
        say(f"{outdir} 已存在，但它是文件，不是文件夹", err=True)
        raise typer.Exit(2)
    book = open_ledger(ledger)
    try:
        ask = password_prompt(f"IMAP 密码（{settings.user}）")
        run = run_collect(settings, outdir, book, entries, password_prompt=ask)
    except (SettingsError, MailError) as exc:
        say(str(exc), err=True)
        raise typer.Exit(1) from None
    finally:
        book.close()
    for line in run.lines_zh():
        say(line)
    raise typer.Exit(run.exit_code)
