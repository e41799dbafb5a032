"""What a received message carries: the returns attached to it (at any depth: inside a
forwarded message, inside a zip), under the names their senders gave them, whatever the
encoding (RFC 2231, RFC 2047, raw GBK bytes from old clients); and whether it is an
auto-reply."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path, PurePath

from toolkit.workbook.limits import Limits, Unreadable
from toolkit.workbook.ooxml.zipguard import archive_members

# Spreadsheets and published reports (Word, WPS, web pages, text): what an agency returns.
RETURN_SUFFIXES = frozenset(".xlsx .xlsm .xls .et .pdf .docx .doc .wps .html .htm .mht .txt".split())
ARCHIVE_SUFFIXES = frozenset({".zip"})
_AUTO_SUBJECT = re.compile(r"^\s*(自动回复|自动答复|Auto(matic)?[ -]?Reply|Out of Office|不在办公室)", re.I)
_ENCODED_WORD = re.compile(r"=\?[^?]+\?[bqBQ]\?")
_FILENAME = re.compile(r'\bfilename\s*=\s*"?([^";\r\n]+)', re.I)
_NAME = re.compile(r'\bname\s*=\s*"?([^";\r\n]+)', re.I)


@dataclass
class Found:
    """One return taken from a message."""

    name: str  # as the sender named it (a zip member: its name inside the zip)
    data: bytes
    via: str = ""  # 中文: where it was found (转发的邮件、压缩包 x.zip)


@dataclass
class Received:
    message_id: str
    sender: str  # address, lower-case
    subject: str
    date: datetime | None
    auto_reply: bool
    returns: list[Found] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # 中文: attachments not taken, and why


def parse(raw: bytes, limits: Limits | None = None) -> Received:
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    message_id = _header(msg, "Message-ID").strip()
    if not message_id:  # no Message-ID: the message's own bytes identify it
        import hashlib

        message_id = "<sha256-" + hashlib.sha256(raw).hexdigest() + "@disclosure>"
    try:
        date = parsedate_to_datetime(_header(msg, "Date"))
    except (TypeError, ValueError, IndexError):
        date = None
    subject = _header(msg, "Subject")
    received = Received(message_id, parseaddr(_header(msg, "From"))[1].strip().lower(), subject, date,
                        _is_auto_reply(msg, subject))
    _walk(msg, received, limits or Limits(), via="")
    return received


def _walk(msg: EmailMessage, received: Received, limits: Limits, via: str) -> None:
    for part in msg.walk():
        if part.get_content_type() == "message/rfc822" and part is not msg:
            continue  # walk() goes into it; its parts say "转发的邮件" through their own name
        name = filename(part)
        if not name:
            continue
        suffix = PurePath(name).suffix.lower()
        if suffix not in RETURN_SUFFIXES | ARCHIVE_SUFFIXES:
            received.skipped.append(f"《{name}》不是报表或年度报告文件")
            continue
        data = part.get_payload(decode=True) or b""
        if suffix in ARCHIVE_SUFFIXES:
            _unzip(name, data, received, limits)
        else:
            received.returns.append(Found(name, data, via))


def _unzip(name: str, data: bytes, received: Received, limits: Limits) -> None:
    """The returns inside a zip, bounded like a workbook's zip (size, ratio, count, time)."""
    if len(data) > limits.max_file_bytes:
        received.skipped.append(f"压缩包《{name}》超过 {limits.max_file_mb:g} MB，未解压")
        return
    with tempfile.NamedTemporaryFile(suffix=".zip") as tmp:
        tmp.write(data)
        tmp.flush()
        try:
            members = list(archive_members(tmp.name, limits))
        except Unreadable as exc:
            received.skipped.append(f"压缩包《{name}》无法解压：{exc.detail}")
            return
    for member, content in members:
        base = PurePath(member).name
        if base.startswith(("~$", ".")) or "__MACOSX" in member:
            continue  # Office lock files, macOS resource forks
        if PurePath(base).suffix.lower() in RETURN_SUFFIXES:
            received.returns.append(Found(base, content, f"压缩包《{name}》"))
        else:
            received.skipped.append(f"压缩包《{name}》中的《{base}》不是报表或年度报告文件")


def filename(part) -> str | None:
    """The attachment's name, decoded: RFC 2231 (filename*=), RFC 2047 encoded words
    (what Outlook and Foxmail write), raw 8-bit names (old clients write GBK bytes)."""
    name = _raw_8bit_name(part) or part.get_filename()
    if not name:
        return None
    name = str(name)
    if _ENCODED_WORD.search(name):
        try:
            name = str(make_header(decode_header(name)))
        except (LookupError, ValueError, UnicodeDecodeError):
            pass
    return PurePath(name.replace("\\", "/")).name.strip() or None


def _raw_8bit_name(part) -> str | None:
    """A name sent as raw 8-bit bytes (no encoding declared): the parser keeps them as
    surrogates in the raw header (its decoded view has only U+FFFD); UTF-8, else GBK."""
    for key, value in part.raw_items():
        if key.lower() not in ("content-disposition", "content-type"):
            continue
        if not any("\udc80" <= ch <= "\udcff" for ch in value):
            continue
        m = _FILENAME.search(value) or _NAME.search(value)
        if not m:
            continue
        raw = m.group(1).strip().encode("utf-8", "surrogateescape")
        for encoding in ("utf-8", "gb18030"):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                continue
    return None


def _header(msg, name: str) -> str:
    try:
        value = msg.get(name)
    except (IndexError, ValueError, TypeError):  # a malformed header: as if absent
        return ""
    return str(value) if value is not None else ""


def _is_auto_reply(msg, subject: str) -> bool:
    auto = _header(msg, "Auto-Submitted").strip().lower()
    return bool((auto and auto != "no") or _header(msg, "X-Autoreply") or _header(msg, "X-Autorespond")
                or _header(msg, "Precedence").strip().lower() == "auto_reply" or _AUTO_SUBJECT.search(subject))


def suffix_ok(path: str | Path) -> bool:
    return Path(path).suffix.lower() in RETURN_SUFFIXES
