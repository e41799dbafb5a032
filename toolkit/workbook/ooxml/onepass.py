"""Primitives of the one-pass readers of small parts (Limits.one_pass_max): the
bare expat check, and XML text/attributes decoded as expat would report them."""

from __future__ import annotations

import re

from toolkit.workbook.ooxml.xmlsafe import _expat


class _Fallback(Exception):
    """The one-pass reader's assumptions do not hold: use the streaming path."""


_DECL = re.compile(rb"<\?xml[^>]*\?>")
_DECL_ENCODING = re.compile(rb"""encoding\s*=\s*["']([^"']*)["']""")
_ENTITY = re.compile(r"&(?:(amp)|(lt)|(gt)|(quot)|(apos)|#([0-9]+)|#[xX]([0-9a-fA-F]+));")
_PREDEFINED = (None, "&", "<", ">", '"', "'")


def _entity(m: re.Match) -> str:
    i = m.lastindex
    if i <= 5:
        return _PREDEFINED[i]
    return chr(int(m.group(6))) if i == 6 else chr(int(m.group(7), 16))


def _xml_text(b: bytes) -> str:
    """Character data as expat reports it: line ends normalised, references resolved."""
    s = b.decode("utf-8")
    if "\r" in s:
        s = s.replace("\r\n", "\n").replace("\r", "\n")
    if "&" in s:
        s = _ENTITY.sub(_entity, s)
    return s


_ATTR_WS = {9: 32, 10: 32}


def _xml_attr(b: bytes) -> str:
    """An attribute value as expat reports it (whitespace normalised, then references)."""
    s = b.decode("utf-8")
    if "\r" in s:
        s = s.replace("\r\n", "\n").replace("\r", "\n")
    if "\t" in s or "\n" in s:
        s = s.translate(_ATTR_WS)
    if "&" in s:
        s = _ENTITY.sub(_entity, s)
    return s


_A = rb"""(?:\s++[^\s=/<>]++\s*+=\s*+(?:"[^"<]*+"|'[^'<]*+'))*+"""  # attributes of a checked tag
_ATTR = re.compile(rb"""([^\s=/<>]+)\s*=\s*(?:"([^"<]*)"|'([^'<]*)')""")


def _attr_map(b: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, dq, sq in _ATTR.findall(b):
        out.setdefault(name.decode("utf-8"), _xml_attr(dq or sq))
    return out


def _plain(data: bytes, where: str, end: int | None = None) -> int:
    """Check ``data`` (up to ``end``: the rest is not parsed, as the streaming scan stops
    there too) for the one-pass readers: raise _Fallback when it is not plain UTF-8 XML,
    Unreadable/ExpatError when expat refuses it.  Returns where content starts (after the
    XML declaration)."""
    if end is not None:
        data = data[:end]
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    m = _DECL.match(data, start)
    if m:
        enc = _DECL_ENCODING.search(m.group(0))
        if enc and enc.group(1).lower() not in (b"utf-8", b"utf8"):
            raise _Fallback
        start = m.end()
    elif data.startswith(b"<?", start) or data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _Fallback
    if b"<!" in data or data.find(b"<?", start) >= 0:
        raise _Fallback
    p = _expat(where)
    p.buffer_text = False
    p.Parse(data, end is None)
    return start



def _tag_starts(data: bytes, a: int, b: int, tag: bytes, expect: int) -> int:
    """How many start tags ``tag`` (b"<c") has between a and b; ``expect``: the likely
    answer, checked with one count (other tags seldom share the prefix)."""
    n = data.count(tag, a, b)
    if n == expect:
        return n
    return sum(data.count(tag + end, a, b) for end in (b" ", b">", b"/", b"\t", b"\n", b"\r"))
