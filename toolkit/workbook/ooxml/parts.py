"""The book's parts other than sheet data: workbook.xml (sheets, defined names, date1904,
protection), .rels, styles (which cell styles show dates) and custom properties.  Parsed
results are remembered by the parts' exact bytes (a batch repeats the template's parts)."""

from __future__ import annotations

import posixpath
import re
from functools import cached_property
from typing import Callable
from urllib.parse import unquote

from toolkit.workbook import sniff
from toolkit.workbook.limits import Unreadable
from toolkit.workbook.ooxml.numfmt import _DATE_IDS, is_date_format
from toolkit.workbook.ooxml.onepass import (
    _A,
    _attr_map,
    _Fallback,
    _plain,
    _tag_starts,
    _xml_text,
)
from toolkit.workbook.ooxml.refs import parse_name_target
from toolkit.workbook.ooxml.strings import _Strings
from toolkit.workbook.ooxml.xmlsafe import _LOCAL, _expat, _local, _truthy

_PARSED: dict[tuple, object] = {}  # (what, part bytes) -> parsed; a batch repeats the template's parts
_PARSED_MAX = 32


def _memo(key: tuple, make: Callable[[], object]):
    """``make()``, remembered by the exact bytes of the part it parses (never by a hash
    or CRC alone: a crafted part must not borrow the template's result)."""
    hit = _PARSED.get(key)
    if hit is None:
        hit = make()
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.pop(next(iter(_PARSED)))
        _PARSED[key] = hit
    return hit


_PROPERTY = re.compile(rb"<property(" + _A + rb")\s*+(?:/>|>((?:[^<]++|<(?!/?property[\s/>]))*+)</property\s*+>)")
_PROPERTY_PREFIXED = re.compile(rb"<[^\s/<>:]+:property[\s/>]")
_TAG_OR_TEXT = re.compile(rb"<(/?)[^\s/<>]+" + _A + rb"\s*+(/?)>|([^<]+)")


def _all_properties(data: bytes, where: str) -> dict[str, str]:
    """docProps/custom.xml at once (Limits.one_pass_max): property name -> the text inside it."""
    _plain(data, where)
    if data.find(b":property") >= 0 and _PROPERTY_PREFIXED.search(data):
        raise _Fallback
    tokens = _PROPERTY.findall(data)
    if len(tokens) != _tag_starts(data, 0, len(data), b"<property", len(tokens)):
        raise _Fallback
    props: dict[str, str] = {}
    for attrs, inner in tokens:
        depth, parts = 0, []
        for close, empty, text in _TAG_OR_TEXT.findall(inner):
            if text:
                if depth > 0:
                    parts.append(text)
            elif close:
                depth -= 1
            elif not empty:
                depth += 1
        props.setdefault(_attr_map(attrs).get("name", ""), _xml_text(b"".join(parts)).strip())
    return props


class _Parts:
    """OoxmlBook's reading of its parts (a mixin: self is the OoxmlBook)."""

    def _names(self, raw_names) -> tuple[dict, dict, list]:
        """Defined names -> targets (a function of workbook.xml alone: remembered)."""
        order = self._order
        self.defined_names, self.local_names, self.broken_names = {}, {}, []
        by_lower = {n.lower(): n for n in reversed(order)}  # Excel compares sheet names ignoring case
        for name, local_id, text in raw_names:
            if name.lower().startswith("_xlnm."):
                continue  # print areas, filters: Excel's own
            target = parse_name_target(text)
            scope = None
            if local_id is not None:
                idx = int(local_id) if local_id.strip().isdigit() else -1
                scope = order[idx] if 0 <= idx < len(order) else None
                if scope is None:
                    target = None
            if target is not None and target[0] not in self._sheets:
                sheet = by_lower.get(target[0].lower())
                target = (sheet, target[1]) if sheet else None
            if target is None:
                self.broken_names.append(name)
                continue
            bucket = self.defined_names if scope is None else self.local_names.setdefault(scope, {})
            bucket.setdefault(name.lower(), target)
        return self.defined_names, self.local_names, self.broken_names

    def _rels(self, name: str, base: str) -> list[tuple[str, str, str]]:
        """[(Id, Type, resolved lower-cased target)] of a .rels part, external targets left out."""
        with sniff.guard(self._zip.shown(name)):
            data = self._zip.read(name)
        return _memo(("rels", base, data), lambda: self._parse_rels(name, data, base))

    def _parse_rels(self, name: str, data: bytes, base: str) -> list[tuple[str, str, str]]:
        out: list[tuple[str, str, str]] = []

        def start(tag, attrs):
            if _local(tag) == "Relationship" and attrs.get("TargetMode", "").lower() != "external":
                target = unquote(attrs.get("Target", "")).replace("\\", "/")
                if target.startswith("/"):
                    resolved = posixpath.normpath(target.lstrip("/"))
                else:
                    resolved = posixpath.normpath(posixpath.join(base, target))
                out.append((attrs.get("Id", ""), attrs.get("Type", ""), resolved.lower()))

        self._parse(name, start, data=data)
        return tuple(out)

    def _parse(self, name: str, start, end=None, chars=None, where: str | None = None,
               data: bytes | None = None) -> None:
        shown = self._zip.shown(name)
        p = _expat(where or shown)
        p.StartElementHandler = start
        if end:
            p.EndElementHandler = end
        if chars:
            p.CharacterDataHandler = chars
        with sniff.guard(shown):
            if data is not None:
                p.Parse(data, True)
                return
            for chunk in self._zip.chunks(name):
                p.Parse(chunk, False)
            p.Parse(b"", True)

    def _parse_workbook(self, data: bytes):
        sheets: list[tuple[str, str | None, str]] = []
        names: list[tuple[str, str | None, str]] = []
        current: list | None = None
        self.date1904 = False
        self.workbook_protected = False

        def start(tag, attrs):
            nonlocal current
            loc = _LOCAL[tag]
            if loc == "sheet":
                rid = next((v for k, v in attrs.items() if k.endswith(" id")), "")
                sheets.append((attrs.get("name", ""), attrs.get("state"), rid))
            elif loc == "definedName":
                current = [attrs.get("name", ""), attrs.get("localSheetId"), []]
            elif loc == "workbookPr":
                self.date1904 = _truthy(attrs.get("date1904"))
            elif loc == "workbookProtection":
                self.workbook_protected = _truthy(attrs.get("lockStructure"))

        def end(tag):
            nonlocal current
            if current is not None and (_LOCAL[tag]) == "definedName":
                names.append((current[0], current[1], "".join(current[2])))
                current = None

        def chars(data):
            if current is not None:
                current[2].append(data)

        self._parse(self._workbook_part, start, end, chars, data=data)
        return tuple(sheets), tuple(names), self.date1904, self.workbook_protected


    # -- lazily: styles, strings, custom properties, tails

    @cached_property
    def _date_styles(self) -> tuple[bool, ...]:
        """Per cellXfs index: whether its number format shows a date/time."""
        if not self._styles_part or not self._zip.has(self._styles_part):
            return ()
        with sniff.guard(self._zip.shown(self._styles_part)):
            data = self._zip.read(self._styles_part)
        return _memo(("styles", data), lambda: self._parse_styles(data))

    def _parse_styles(self, data: bytes) -> tuple[bool, ...]:
        xfs: list[int] = []
        fmts: dict[int, str] = {}
        where = {"cellXfs": False, "numFmts": False}

        def start(tag, attrs):
            loc = _local(tag)
            if loc in where:
                where[loc] = True
            elif loc == "xf" and where["cellXfs"]:
                try:
                    xfs.append(int(attrs.get("numFmtId", "0")))
                except ValueError:
                    xfs.append(0)
            elif loc == "numFmt" and where["numFmts"]:
                try:
                    fmts[int(attrs.get("numFmtId", ""))] = attrs.get("formatCode", "")
                except ValueError:
                    pass

        def end(tag):
            loc = _local(tag)
            if loc in where:
                where[loc] = False

        self._parse(self._styles_part, start, end, data=data)
        memo: dict[int, bool] = {}
        out = []
        for fid in xfs:
            d = memo.get(fid)
            if d is None:
                d = memo[fid] = is_date_format(fmts[fid]) if fid in fmts else fid in _DATE_IDS
            out.append(d)
        return tuple(out)

    @cached_property
    def _strings(self) -> _Strings:
        part = self._strings_part if self._strings_part and self._zip.has(self._strings_part) else None
        return _Strings(self._zip, part, self.limits)

    @cached_property
    def custom_properties(self) -> dict[str, str]:
        part = next((t for _, typ, t in self._package_rels if typ.lower().endswith("/custom-properties")),
                    "docprops/custom.xml")
        props: dict[str, str] = {}
        if not self._zip.has(part):
            return props
        if self._zip.infos[part].file_size <= self.limits.one_pass_max:
            shown = self._zip.shown(part)
            with sniff.guard(shown):
                data = self._zip.read(part)
                try:
                    return _all_properties(data, shown)
                except Unreadable:
                    raise
                except Exception:  # noqa: BLE001 - _Fallback, or XML expat refuses: parsed below
                    pass
        state: dict = {"name": None, "depth": 0, "parts": None}

        def start(tag, attrs):
            loc = _local(tag)
            if loc == "property":
                state["name"], state["parts"] = attrs.get("name", ""), []
            elif state["name"] is not None:
                state["depth"] += 1

        def end(tag):
            if _local(tag) == "property" and state["name"] is not None:
                props.setdefault(state["name"], "".join(state["parts"]).strip())
                state["name"] = None
            elif state["name"] is not None:
                state["depth"] -= 1

        def chars(data):
            if state["name"] is not None and state["depth"] > 0:
                state["parts"].append(data)

        self._parse(part, start, end, chars)
        return props
