"""expat, hardened: DOCTYPE and entity declarations refused (F7), names without their
namespace, OOXML's _xHHHH_ escapes undone."""

from __future__ import annotations

import pyexpat
import re

from toolkit.workbook.limits import Unreadable


class _Locals(dict):
    """'http://…/main row' -> 'row' (namespaces are not checked: prefixes vary by writer).
    Remembers up to 4096 names (a hostile file may invent any number)."""

    def __missing__(self, name: str) -> str:
        loc = name.rpartition(" ")[2]
        if len(self) < 4096:
            self[name] = loc
        return loc


_LOCAL = _Locals()
_local = _LOCAL.__getitem__


def _expat(where: str) -> "pyexpat.XMLParserType":
    """An expat parser that refuses any DOCTYPE or entity declaration (F7)."""
    p = pyexpat.ParserCreate(namespace_separator=" ")

    def refuse(*_args):
        raise Unreadable("F7", f"{where} 含有 DOCTYPE 或实体声明（XML 实体扩展攻击）")

    p.StartDoctypeDeclHandler = refuse
    p.EntityDeclHandler = refuse
    p.UnparsedEntityDeclHandler = refuse
    p.NotationDeclHandler = refuse
    p.ExternalEntityRefHandler = refuse
    p.SetParamEntityParsing(pyexpat.XML_PARAM_ENTITY_PARSING_NEVER)
    p.buffer_text = True
    return p


def _truthy(v: str | None) -> bool:
    return v is not None and v.strip().lower() in ("1", "true")


_ESC = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _unescape(s: str) -> str:
    """OOXML escapes control characters as _xHHHH_ (and '_' itself as _x005F_)."""
    if "_x" not in s:
        return s
    out = _ESC.sub(lambda m: chr(int(m.group(1), 16)), s)
    if any("\ud800" <= ch <= "\udfff" for ch in out):  # pairs escaped one half at a time
        out = out.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return out
