"""Messages built the way mail clients build them, for the collect tests."""

from __future__ import annotations

import base64
import io
import zipfile
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def message(sender: str, subject: str, when: datetime, attachments=(), *, body: str = "请查收。",
            message_id: str | None = None, to: str = "office@example.cn") -> EmailMessage:
    """A modern client's message: names RFC 2231-encoded (Python's default, as Outlook)."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = message_id or make_msgid(domain="example.cn")
    msg.set_content(body)
    for name, data in attachments:
        maintype, subtype = XLSX.split("/") if name.endswith(".xlsx") else ("application", "octet-stream")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg


def raw_gbk_named(sender: str, subject: str, when: datetime, name: str, data: bytes) -> bytes:
    """An old client's message: the attachment's name as raw GBK bytes, no encoding said."""
    boundary = "----=_NextPart_000_0001"
    gbk = name.encode("gbk")
    head = (f"From: {sender}\r\nTo: office@example.cn\r\nSubject: =?GBK?B?"
            f"{base64.b64encode(subject.encode('gbk')).decode()}?=\r\n"
            f"Date: {format_datetime(when)}\r\nMessage-ID: {make_msgid(domain='old.example.cn')}\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n").encode()
    text = (f"--{boundary}\r\nContent-Type: text/plain; charset=GBK\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + base64.b64encode("请查收。".encode("gbk")).decode() + "\r\n").encode()
    part = (f"--{boundary}\r\nContent-Type: application/octet-stream; name=\"").encode() + gbk + (
        b"\"\r\nContent-Disposition: attachment; filename=\"" + gbk + b"\"\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(data).replace(b"\n", b"\r\n"))
    return head + text + part + f"--{boundary}--\r\n".encode()


def forwarded(sender: str, subject: str, when: datetime, inner: EmailMessage) -> EmailMessage:
    """A message forwarded as an attachment (message/rfc822), as Outlook and Foxmail do."""
    msg = message(sender, subject, when, body="转发单位的报表，请查收。")
    msg.add_attachment(inner)
    return msg


def gbk_zip(members: dict[str, bytes]) -> bytes:
    """A zip made on Chinese Windows: member names in GBK, without the UTF-8 flag."""
    placeholders = {}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for i, (name, data) in enumerate(members.items()):
            gbk = name.encode("gbk")
            stand_in = f"{i:02d}".encode() + b"x" * (len(gbk) - 2)  # same length, ASCII
            placeholders[stand_in] = gbk
            zf.writestr(stand_in.decode(), data)
    out = buf.getvalue()
    for stand_in, gbk in placeholders.items():
        out = out.replace(stand_in, gbk)
    return out


def auto_reply(sender: str, when: datetime) -> EmailMessage:
    msg = message(sender, "自动回复：关于报送政府信息公开工作年度报告报表的通知", when,
                  body="您好，我已休假，1月10日返回，期间邮件不能及时处理。")
    msg["Auto-Submitted"] = "auto-replied"
    return msg
