"""Attachment names in every encoding mail clients use, read back as the sender typed them."""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest

from toolkit.mailing.inbox import parse

NAME = "示例县教育局2025年报表.xlsx"


def mail(disposition: bytes, content_type: bytes = b"application/octet-stream") -> bytes:
    return (b"From: jy@example.cn\r\nSubject: x\r\nMessage-ID: <m@x>\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
            b"--B\r\nContent-Type: " + content_type + b"\r\nContent-Disposition: " + disposition + b"\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(b"data") + b"\r\n--B--\r\n")


@pytest.mark.parametrize("disposition", [
    b"attachment; filename*=utf-8''" + quote(NAME).encode(),                      # RFC 2231, UTF-8
    b"attachment; filename*=gbk''" + quote(NAME.encode("gbk")).encode(),         # RFC 2231, GBK
    b'attachment; filename="=?GBK?B?' + base64.b64encode(NAME.encode("gbk")) + b'?="',   # RFC 2047 (Outlook)
    b'attachment; filename="=?utf-8?B?' + base64.b64encode(NAME.encode()) + b'?="',
    b'attachment; filename="' + NAME.encode("gbk") + b'"',                         # raw GBK (old clients)
    b'attachment; filename="' + NAME.encode("utf-8") + b'"',                       # raw UTF-8
], ids=["2231-utf8", "2231-gbk", "2047-gbk", "2047-utf8", "raw-gbk", "raw-utf8"])
def test_attachment_names(disposition):
    [found] = parse(mail(disposition)).returns
    assert (found.name, found.data) == (NAME, b"data")


def test_name_only_in_content_type_and_no_message_id():
    raw = mail(b"attachment", b'application/vnd.ms-excel; name="=?GBK?B?'
               + base64.b64encode("乙局.xls".encode("gbk")) + b'?="').replace(b"Message-ID: <m@x>\r\n", b"")
    got = parse(raw)
    assert [f.name for f in got.returns] == ["乙局.xls"]
    assert got.message_id.startswith("<sha256-")  # the message's own bytes identify it
    assert parse(raw).message_id == got.message_id
