"""`disclosure collect`: returns fetched from an IMAP mailbox into the returns folder,
each recorded in the ledger with the message it came in.

Never twice: a message already in the ledger (by UID within the folder's UIDVALIDITY, the
fast path, else by Message-ID) is not fetched again, and an attachment already stored for
that Message-ID (by sha256) is not stored again.  A collect killed half-way leaves files
saved but not recorded: the rerun finds each under its name (same bytes) and records it
instead of saving a second copy.  Nothing already in the folder is ever overwritten.

The agency of a return: the sender's address on the roster, else the workbook's stamp or
its 单位名称, else a roster name in the file name; the file is saved as
``<agency>_<received time>_<name as sent>``.
"""

from __future__ import annotations

import hashlib
import imaplib
import os
import socket
import ssl
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

from toolkit.common import atomic, lock, ownership
from toolkit.common.filenames import safe_filename
from toolkit.common.oserrors import why
from toolkit.mailing.imapsettings import ImapSettings
from toolkit.mailing.inbox import Found, Received, parse
from toolkit.mailing.settings import PLAIN, SSL, SettingsError
from toolkit.mailing.sources import RosterIndex, parse_addresses
from toolkit.mailing.transport import MailError
from toolkit.reading.reader import read_return
from toolkit.reading.roster import RosterEntry
from toolkit.workbook.limits import Limits

UNKNOWN_AGENCY = "未识别单位"
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".et")


@dataclass
class Saved:
    agency: str
    path: Path
    name: str  # as sent
    how: str  # 中文: how the agency was known


@dataclass
class CollectRun:
    folder: Path
    saved: list[Saved] = field(default_factory=list)
    known: int = 0  # attachments already stored by an earlier run
    skipped_messages: int = 0  # messages an earlier run recorded (not fetched again)
    to_read: list[tuple[Received, str]] = field(default_factory=list)  # (message, why)
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def exit_code(self) -> int:
        return 1 if self.error else 0

    def lines_zh(self) -> list[str]:
        lines = list(self.notes)
        if self.error:
            lines.append(f"收取中止：{self.error}（已收到的都已记录，重新运行同一命令会接着收取）")
        if self.saved:
            lines.append(f"新收到 {len(self.saved)} 个报送文件，保存在 {self.folder}：")
            lines += [f"  {s.agency}：{s.path.name}（原名《{s.name}》，{s.how}）" for s in self.saved]
        else:
            lines.append("没有新的报送文件。")
        if self.known or self.skipped_messages:
            lines.append(f"此前已收取：{self.skipped_messages} 封邮件、{self.known} 个附件，未重复保存。")
        if self.to_read:
            lines.append(f"{len(self.to_read)} 封邮件没有报送文件，请人工阅读：")
            for msg, reason in self.to_read:
                when = msg.date.strftime("%Y-%m-%d %H:%M") if msg.date else "时间不详"
                lines.append(f"  {when}  {msg.sender or '（无发件人）'}  《{msg.subject or '（无主题）'}》：{reason}")
        return lines


def collect(settings: ImapSettings, outdir: str | Path, ledger, roster_entries: list | None = None, *,
            password_prompt: Callable[[], str] | None = None, limits: Limits | None = None) -> CollectRun:
    """Fetch every new message of ``settings.folder``; save its returns into ``outdir``.
    Without ``roster_entries`` the roster an earlier command recorded in the ledger is used.
    One run at a time writes ``outdir`` (common.lock: a second collect into the same
    folder waits, then refuses with lock.Busy)."""
    outdir = Path(outdir)
    try:
        ownership.make_dirs(outdir, holds=ownership.RETURN)  # before the lock: a folder of returns
    except OSError as exc:
        raise MailError(f"无法创建文件夹 {outdir}：{why(exc)}") from None
    with lock.locked(outdir):
        return _collect(settings, outdir, ledger, roster_entries, password_prompt, limits)


def _collect(settings: ImapSettings, outdir: Path, ledger, roster_entries: list | None,
             password_prompt: Callable[[], str] | None, limits: Limits | None) -> CollectRun:
    run = CollectRun(outdir)
    if roster_entries:
        ledger.record_roster(roster_entries)
    else:
        roster_entries = [RosterEntry(r["name"], r["contact"] or "", r["email"] or "", r["code"] or "")
                          for r in ledger.agencies()]
    index = _Index(roster_entries)
    limits = limits or Limits()
    try:
        ownership.sweep(outdir)  # our temporaries, from a killed run, in a folder of ours
    except OSError as exc:
        raise MailError(f"无法创建文件夹 {outdir}：{why(exc)}") from None
    mailbox = _connect(settings, password_prompt)
    try:
        try:
            status = mailbox.folder.status(settings.folder, ["UIDVALIDITY"])
            mailbox.folder.set(settings.folder, readonly=True)  # never marks anything read
        except Exception as exc:  # imap_tools' own error classes: no such folder
            raise MailError(f"无法打开邮件文件夹“{settings.folder}”：{_why(exc)}") from None
        validity = str(status.get("UIDVALIDITY", ""))
        seen = ledger.seen_uids(settings.folder, validity)
        for uid in mailbox.uids("ALL"):
            if uid in seen:
                run.skipped_messages += 1
                continue
            raw = _fetch(mailbox, uid)
            if raw is None:
                continue
            _one(run, ledger, index, parse(raw, limits), limits,
                 where={"folder": settings.folder, "uid": uid, "uidvalidity": validity})
    except (OSError, imaplib.IMAP4.error) as exc:  # the connection died mid-way
        run.error = f"与 IMAP 服务器的连接中断：{_why(exc)}"
    finally:
        _close(mailbox)
    return run


def _one(run: CollectRun, ledger, index: "_Index", msg: Received, limits: Limits, where: dict) -> None:
    if ledger.has_message(msg.message_id):  # seen before under another UID (moved, copied)
        run.skipped_messages += 1
        return
    entry = index.by_address(msg.sender)
    files, unique = [], set()
    for found in msg.returns:
        sha = hashlib.sha256(found.data).hexdigest()
        if sha in unique:
            continue  # the same file twice in one message (attached and zipped)
        unique.add(sha)
        if ledger.stored_attachment(msg.message_id, sha):
            run.known += 1
            continue
        saved = _save(run.folder, found, sha, msg, entry, index, limits)
        run.saved.append(saved)
        files.append({"path": str(saved.path.resolve()), "sha256": sha, "name": found.name,
                      "agency": None if saved.agency == UNKNOWN_AGENCY else saved.agency,
                      "saved_at": None})
    note = None
    if not msg.returns:
        note = "自动回复" if msg.auto_reply else "没有报送文件"
        if msg.skipped:
            note += "（" + "；".join(msg.skipped) + "）"
        run.to_read.append((msg, note))
    agencies = {f["agency"] for f in files if f["agency"]}
    agency = entry.name if entry else (agencies.pop() if len(agencies) == 1 else None)
    ledger.record_message({"message_id": msg.message_id, "sender": msg.sender, "subject": msg.subject,
                           "date": msg.date.isoformat() if msg.date else None, "agency": agency,
                           "note": note, **where}, files)


def _save(folder: Path, found: Found, sha: str, msg: Received, entry, index: "_Index", limits: Limits) -> Saved:
    """Saves one return under ``<agency>_<received>_<name>``; a file of that name with the
    same bytes is one a killed run saved (adopted, not copied again); with other bytes it
    is another file (``_2``…), never overwritten."""
    agency, how = (entry.name, "按发件地址识别") if entry else _agency_of(found, index, limits)
    when = (msg.date or datetime.now().astimezone()).strftime("%Y%m%d-%H%M%S")
    stem, suffix = os.path.splitext(found.name)
    base = safe_filename(f"{agency}_{when}_{stem}", suffix.lower())
    head, ext = os.path.splitext(base)
    for n in range(1, 10_000):
        target = folder / (base if n == 1 else f"{head}_{n}{ext}")
        if not target.exists():
            atomic.write_bytes(target, found.data, kind=ownership.RETURN)  # a return: checked
            break
        if _sha256(target) == sha:
            break  # saved by a run that was killed before recording it
    return Saved(agency, target, found.name, how + (f"，来自{found.via}" if found.via else ""))


def _agency_of(found: Found, index: "_Index", limits: Limits) -> tuple[str, str]:
    """The agency a workbook names (its stamp, else its 单位名称), matched to the roster;
    else a roster name in the file name."""
    if found.name.lower().endswith(WORKBOOK_SUFFIXES):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / ("return" + os.path.splitext(found.name)[1].lower())
            path.write_bytes(found.data)
            result = read_return(path, limits=limits)
        for name, how in ((result.meta.get("agency"), "按模板标记识别"), (result.agency, "按填写的单位名称识别")):
            if name:
                hit = index.roster.find(name)
                return (hit.name if hit else str(name)), how
    hit = index.roster.in_file_name(found.name)
    if hit:
        return hit.name, "按文件名识别"
    return UNKNOWN_AGENCY, "无法识别单位，请人工核对"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class _Index:
    def __init__(self, entries: list):
        self.roster = RosterIndex(entries)
        self.addresses = {}
        for e in self.roster.entries:
            for address in parse_addresses(e.email)[0]:
                self.addresses.setdefault(address.lower(), e)

    def by_address(self, address: str):
        return self.addresses.get((address or "").lower())


def _fetch(mailbox, uid: str) -> bytes | None:
    typ, data = mailbox.client.uid("FETCH", uid, "(BODY.PEEK[])")
    if typ != "OK":
        return None
    return next((item[1] for item in data if isinstance(item, tuple) and len(item) > 1), None)


def _connect(settings: ImapSettings, password_prompt: Callable[[], str] | None):
    """A logged-in imap_tools mailbox; MailError (中文) when that is not possible."""
    from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted

    password = settings.password
    if password is None and password_prompt is not None:
        password = password_prompt()
    if not password:
        raise SettingsError("没有 IMAP 密码：请设置环境变量 DISCLOSURE_IMAP_PASSWORD，或在提示时输入")
    host, port, timeout = settings.host, settings.effective_port, settings.timeout
    context = ssl.create_default_context(cafile=settings.cafile)
    try:
        if settings.security == SSL:
            box = MailBox(host, port, timeout=timeout, ssl_context=context)
        elif settings.security == PLAIN:
            box = MailBoxUnencrypted(host, port, timeout=timeout)
        else:
            box = MailBoxStartTls(host, port, timeout=timeout, ssl_context=context)
    except ssl.SSLCertVerificationError as exc:
        raise MailError(f"IMAP 服务器 {host}:{port} 的证书无法验证（{exc.verify_message}）；"
                        "内网服务器请用 --imap-cafile 指定其 CA 证书") from None
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailError(f"无法连接 IMAP 服务器 {host}:{port}：{_why(exc)}") from None
    try:
        box.login(settings.user, password, initial_folder=None)
    except Exception as exc:  # imap_tools raises its own error classes for a refused login
        _close(box)
        raise MailError(f"IMAP 登录失败（用户 {settings.user}），请核对用户名和密码：{_why(exc)}") from None
    return box


def _close(box) -> None:
    try:
        box.logout()
    except Exception:  # already gone: nothing to say goodbye to
        pass
    try:
        box.client.shutdown()
    except (OSError, imaplib.IMAP4.error):
        pass


def _why(exc: BaseException) -> str:
    if isinstance(exc, socket.gaierror):
        return "找不到这个服务器（域名无法解析），请检查服务器地址"
    if isinstance(exc, socket.timeout):
        return "连接超时"
    if isinstance(exc, ConnectionRefusedError):
        return "连接被拒绝（服务器地址或端口不对，或服务未运行）"
    if isinstance(exc, OSError):
        return why(exc)
    return str(exc)
