"""Shared strings (sharedStrings.xml): read at once when small, else parsed lazily and
only as far as the highest index asked for."""

from __future__ import annotations

import re

from toolkit.workbook import sniff
from toolkit.workbook.limits import Limits, Unreadable
from toolkit.workbook.ooxml.onepass import _A, _Fallback, _plain, _tag_starts, _xml_text
from toolkit.workbook.ooxml.xmlsafe import _LOCAL, _expat, _unescape
from toolkit.workbook.ooxml.zipguard import _Zip

_SI_PREFIXED = re.compile(r"<[^\s/<>:]+:(?:si|t|r|rPh)[\s/>]")
_SI_TOKEN = re.compile(
    r'<si><t>([^<]*+)</t></si>|<si><t xml:space="preserve">([^<]*+)</t></si>'
    r"|<si" + _A.decode("ascii") + r"\s*+/>|<si" + _A.decode("ascii") + r"\s*+>((?:[^<]++|<(?!/?si[\s/>]))*+)</si\s*+>")
_A_TEXT = _A.decode("ascii")
_INNER_T = re.compile(r"<(/?)([^\s/<>]+)" + _A_TEXT + r"\s*+(/?)>|([^<]+)")


def _all_strings(data: bytes, where: str, most: int) -> list[str]:
    """Every shared string of a small sharedStrings.xml at once (Limits.one_pass_max): the text of
    its <t> runs, phonetic runs (<rPh>) left out, as the streaming parser collects it."""
    _plain(data, where)
    text = data.decode("utf-8")
    if b"xmlns:" in data and _SI_PREFIXED.search(text):  # a prefix must be declared (expat checked)
        raise _Fallback
    tokens = _SI_TOKEN.findall(text)
    if len(tokens) > most or len(tokens) != _tag_starts(data, 0, len(data), b"<si", len(tokens)):
        raise _Fallback
    items = []
    for plain, kept, inner in tokens:
        t = plain or kept
        if not t and inner:
            t = _runs(inner)
        elif "&" in t or "\r" in t:
            t = _xml_text(t.encode("utf-8"))
        items.append(_unescape(t) if "_x" in t else t)
    return items


def _runs(inner: str) -> str:
    parts: list[str] = []
    collecting = False
    rph = 0
    for close, name, empty, chars in _INNER_T.findall(inner):
        if chars:
            if collecting:
                parts.append(chars)
            continue
        loc = name.rpartition(":")[2]
        if not close:
            if loc == "t":
                collecting = not rph
            elif loc == "rPh":
                rph += 1
            if not empty:
                continue
        if loc == "t":
            collecting = False
        elif loc == "rPh":
            rph -= 1
    return _xml_text("".join(parts).encode("utf-8"))



class _Strings:
    """sharedStrings.xml, parsed lazily and only as far as the highest index asked for."""

    def __init__(self, zip_: _Zip, name: str | None, limits: Limits):
        self.items: list[str] = []
        self.name = zip_.shown(name) if name else ""
        self._max = limits.max_strings
        if name and zip_.infos[name].file_size <= limits.one_pass_max:
            with sniff.guard(self.name):
                data = zip_.read(name)
                try:
                    self.items = _all_strings(data, f"共享字符串（{self.name}）", self._max)
                    self._chunks = None
                    return
                except Unreadable:
                    raise
                except Exception:  # noqa: BLE001 - _Fallback, or XML expat refuses: the streaming
                    pass  # parser below gives its own verdict, when an item is asked for
        self._chunks = zip_.chunks(name) if name else None
        p = self._parser = _expat(f"共享字符串（{self.name}）")
        parts: list[str] | None = None
        collecting = False
        rph = 0
        items = self.items

        def start(tag, attrs):
            nonlocal parts, collecting, rph
            loc = _LOCAL[tag]
            if loc == "si":
                parts = []
            elif loc == "t":
                collecting = parts is not None and not rph
            elif loc == "rPh":
                rph += 1

        def end(tag):
            nonlocal parts, collecting, rph
            loc = _LOCAL[tag]
            if loc == "t":
                collecting = False
            elif loc == "si":
                items.append(_unescape("".join(parts)) if parts else "")
                parts = None
                if len(items) > self._max:
                    raise Unreadable("F6", f"共享字符串超过上限 {self._max:,} 个")
            elif loc == "rPh":
                rph -= 1

        def chars(data):
            if collecting:
                parts.append(data)

        p.StartElementHandler, p.EndElementHandler, p.CharacterDataHandler = start, end, chars

    def get(self, i: int, where: str) -> str:
        items = self.items
        if i >= len(items) and self._chunks is not None:
            with sniff.guard(self.name):
                while i >= len(items) and self._chunks is not None:
                    chunk = next(self._chunks, None)
                    if chunk is None:
                        self._parser.Parse(b"", True)
                        self._chunks = None
                    else:
                        self._parser.Parse(chunk, False)
        if 0 <= i < len(items):
            return items[i]
        raise Unreadable("F3", f"{where} 引用的共享字符串（第 {i} 个）不存在")

    def close(self) -> None:
        if self._chunks is not None:
            self._chunks.close()
            self._chunks = None
