"""Safe, streaming reader for .xlsx / .xlsm (OOXML SpreadsheetML).

Why not openpyxl: it loads every cell of every sheet (~50 ms for a small template); a
batch of thousands of returns needs ~2 ms.  So:

* The zip's central directory is read by zipfile, but members are inflated here, with
  zlib, in 64 KB steps: the declared size and ratio are checked before inflating, and
  the bytes really produced are counted while inflating (a member that inflates past
  its declared size is refused at once; the total is capped, see Limits).
* XML goes through expat with handlers in Python, no tree.  A DOCTYPE or any entity
  declaration is refused by the parser itself (F7), before anything is expanded; no
  external entity is ever resolved.  Memory stays bounded: only the cells asked for
  are kept.
* A sheet scan stops as soon as the last row asked for has passed (the handler raises),
  so a sheet with a million rows costs what its first rows cost.
* <mergeCells> and <sheetProtection> come after <sheetData>.  Rather than parse every
  row to reach them, the raw inflated bytes are searched for the end of sheetData and
  the few tail elements are matched with a regex: inflating is ~10x cheaper than
  parsing.  The trade-off: merged_ranges/sheet protection of a huge sheet inflate it
  all (bounded by max_uncompressed_mb and max_seconds), and a malformed tail is read
  leniently (a mergeCell we cannot match is skipped, not an error).
* workbook.xml and its rels are parsed once, at open; styles, custom properties and
  the sheets' tails lazily, once; shared strings lazily and only as far as the highest
  index a read cell needs.
* Macros are never run or loaded: vbaProject.bin is never read.
"""

from __future__ import annotations

import posixpath
import pyexpat
import re
import struct
import zipfile
import zlib
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Callable, Container, Iterator
from urllib.parse import unquote

from . import sniff
from .book import Book, RawCell, ScanStats, SheetInfo, _raw_cell, parse_ref, ref_of
from .limits import MB, Deadline, Limits, Unreadable, fmt_mb, fmt_number

READ_STEP = 64 * 1024  # compressed bytes read at a time
OUT_STEP = 64 * 1024  # most bytes inflated (and fed to the parser) at a time
_PLACEHOLDER_FORMULA = "（共享公式）"  # a shared-formula dependent whose master is missing

# ------------------------------------------------------------------ the zip


class _Zip:
    """A zip whose members are inflated under Limits."""

    def __init__(self, path: Path, limits: Limits, deadline: Deadline):
        self.limits, self.deadline = limits, deadline
        self.fp = open(path, "rb")
        try:
            self.size = _check_directory(self.fp, limits)
            zf = zipfile.ZipFile(self.fp)
            infos = zf.infolist()
            if len(infos) > limits.max_zip_entries:
                raise Unreadable("F6", f"压缩包内有 {len(infos):,} 个文件，超过上限 {limits.max_zip_entries:,} 个")
            self.infos: dict[str, zipfile.ZipInfo] = {}
            for info in infos:
                self.infos.setdefault(info.filename.replace("\\", "/").lstrip("/").lower(), info)
        except BaseException:
            self.fp.close()
            raise
        self.inflated: dict[str, int] = {}  # most bytes inflated per member
        self.total = 0

    def close(self) -> None:
        self.fp.close()

    def has(self, name: str) -> bool:
        return name in self.infos

    def shown(self, name: str) -> str:
        """The member's name as stored (lookups are case-insensitive), for messages."""
        info = self.infos.get(name)
        return info.filename if info is not None else name

    def chunks(self, name: str) -> Iterator[bytes]:
        """Inflate member ``name`` (lower-cased) step by step, under the limits."""
        info = self.infos.get(name)
        if info is None:
            raise Unreadable("F3", f"缺少 {name}")
        key, name = name, info.filename  # name: for messages
        lim = self.limits
        declared, packed = info.file_size, info.compress_size
        if declared > lim.max_uncompressed_bytes:
            raise Unreadable("F6", f"{name} 解压后为 {fmt_mb(declared)}，超过上限 "
                                   f"{fmt_number(lim.max_uncompressed_mb)} MB（疑似压缩炸弹）")
        if declared > lim.ratio_min_mb * MB and declared > lim.max_ratio * max(packed, 1):
            raise Unreadable("F6", f"{name} 的压缩比为 {declared // max(packed, 1):,}:1，超过上限 "
                                   f"{fmt_number(lim.max_ratio)}:1（疑似压缩炸弹）")
        if info.flag_bits & 0x1:
            raise Unreadable("F4", f"{name} 已加密")
        method = info.compress_type
        if method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise Unreadable("F3", f"{name} 使用了不支持的压缩方式")
        fp = self.fp
        if not 0 <= info.header_offset < self.size:
            raise Unreadable("F3", f"{name} 的文件头已损坏")
        fp.seek(info.header_offset)
        header = fp.read(30)
        if len(header) < 30 or header[:4] != b"PK\x03\x04":
            raise Unreadable("F3", f"{name} 的文件头已损坏")
        n_name, n_extra = struct.unpack("<HH", header[26:30])
        pos = info.header_offset + 30 + n_name + n_extra
        left = packed
        if method == zipfile.ZIP_STORED and packed != declared:
            raise Unreadable("F3", f"{name} 的大小与目录不符")
        inflater = zlib.decompressobj(-15) if method == zipfile.ZIP_DEFLATED else None
        pending = b""
        produced = crc = 0
        deadline, budget = self.deadline, lim.max_uncompressed_bytes
        while True:
            deadline.check()
            if inflater is None:
                if not left:
                    break
                fp.seek(pos)
                out = fp.read(min(OUT_STEP, left))
                if not out:
                    raise Unreadable("F3", f"{name} 不完整（文件可能被截断）")
                pos += len(out)
                left -= len(out)
            else:
                if not pending and left:
                    fp.seek(pos)
                    pending = fp.read(min(READ_STEP, left))
                    if not pending:
                        raise Unreadable("F3", f"{name} 不完整（文件可能被截断）")
                    pos += len(pending)
                    left -= len(pending)
                out = inflater.decompress(pending, OUT_STEP)
                pending = inflater.unconsumed_tail
                if not out:
                    if inflater.eof:
                        break
                    if not pending and not left:
                        raise Unreadable("F3", f"{name} 的压缩数据不完整（文件可能被截断）")
                    continue
            produced += len(out)
            if produced > declared:
                self._overrun(name, inflater, pending, left, pos, produced, declared)
            before = self.inflated.get(key, 0)
            if produced > before:
                self.inflated[key] = produced
                self.total += produced - before
                if self.total > budget:
                    raise Unreadable("F6", f"解压后的内容超过上限 {fmt_number(lim.max_uncompressed_mb)} MB")
            crc = zlib.crc32(out, crc)
            yield out
        if produced != declared or crc != info.CRC:
            raise Unreadable("F3", f"{name} 校验失败（文件已损坏）")

    def _overrun(self, name, inflater, pending, left, pos, produced, declared) -> None:
        """A member inflates past its declared size: a zip bomb with a lying header, or a
        corrupt size field.  Inflate on (discarding, at most ``max(declared, 1 MB)`` more
        bytes) to tell which: past that it is a bomb (F6), an end within it is corruption."""
        slack = declared + max(declared, MB)
        fp = self.fp
        while inflater is not None and not inflater.eof and produced <= slack:
            self.deadline.check()
            if not pending and left:
                fp.seek(pos)
                pending = fp.read(min(READ_STEP, left))
                pos += len(pending)
                left -= len(pending)
            out = inflater.decompress(pending, OUT_STEP)
            pending = inflater.unconsumed_tail
            if not out and not pending and not left:
                break
            produced += len(out)
        if produced > slack:
            raise Unreadable("F6", f"{name} 解压后的实际大小超过压缩包中声明的 {declared:,} 字节（疑似压缩炸弹）")
        raise Unreadable("F3", f"{name} 的大小与压缩包目录不符（文件已损坏）")

    def read(self, name: str) -> bytes:
        return b"".join(self.chunks(name))


def _check_directory(fp, limits: Limits) -> int:
    """The end-of-central-directory record must be there (else the file was cut) and
    must not announce more members than allowed, before zipfile parses them all."""
    fp.seek(0, 2)
    size = fp.tell()
    span = min(size, 65_536 + 22)
    fp.seek(size - span)
    tail = fp.read(span)
    i = tail.rfind(b"PK\x05\x06")
    if i < 0 or len(tail) - i < 22:
        raise Unreadable("F3", "压缩包不完整，缺少文件目录（文件可能被截断）")
    entries = struct.unpack("<H", tail[i + 10:i + 12])[0]
    if entries != 0xFFFF and entries * 46 > size:  # 46 bytes: the smallest directory entry
        raise Unreadable("F3", "压缩包目录已损坏")
    if entries != 0xFFFF and entries > limits.max_zip_entries:
        raise Unreadable("F6", f"压缩包内有 {entries:,} 个文件，超过上限 {limits.max_zip_entries:,} 个")
    return size


# ------------------------------------------------------------------ expat, hardened

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


# ------------------------------------------------------------------ numbers, dates, names

_FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _number(text: str) -> int | float:
    """'5' -> 5, '-5' -> -5, '5.0' -> 5.0, '1E3' -> 1000.0; ValueError otherwise."""
    s = text.strip()
    if s.isascii():
        digits = s[1:] if s[:1] in "+-" else s
        if digits.isdigit() and len(digits) <= 300:
            return int(s)
        if _FLOAT.fullmatch(s):
            return float(s)
        if s in ("INF", "-INF", "NaN"):
            return float(s)
    raise ValueError(text)


# Built-in number formats that show dates or times (ECMA-376 18.8.30; 27–36 and 50–58 are
# the East Asian date formats, e.g. yyyy"年"m"月" in zh-CN).
_DATE_IDS = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59), *range(71, 82)])
_FMT_NOISE = re.compile(r'"[^"]*"|\\.|_.|\*.')
_FMT_ELAPSED = re.compile(r"\[(?:h+|m+|s+)\]", re.I)
_FMT_BRACKETS = re.compile(r"\[[^\]]*\]")
_FMT_DATE_CHARS = re.compile(r"[dmyhs]|e(?![+-])|g{1,3}(?!eneral)|aaa", re.I)


def is_date_format(code: str) -> bool:
    """Whether a number format code shows a date or a time."""
    c = _FMT_NOISE.sub("", code)
    if _FMT_ELAPSED.search(c):
        return True
    c = _FMT_BRACKETS.sub("", c)
    c = re.sub("general", "", c, flags=re.I)
    return bool(_FMT_DATE_CHARS.search(c.split(";")[0]))


_NAME_TARGET = re.compile(
    r"""^(?:'((?:[^']|'')+)'|([^'!:\[\]]+))!"""
    r"""\$?([A-Za-z]{1,3})\$?([0-9]{1,7})(?::\$?([A-Za-z]{1,3})\$?([0-9]{1,7}))?$""")


_TARGETS: dict[str, tuple[str, str] | None] = {}  # a batch holds the same names in every file


def parse_name_target(text: str) -> tuple[str, str] | None:
    """"'三、依申请公开'!$J$6" -> ('三、依申请公开', 'J6'); ranges -> 'B4:D4'; None when
    the target is #REF!, a formula, several areas or another workbook."""
    try:
        return _TARGETS[text]
    except KeyError:
        pass
    target = _parse_name_target(text)
    if len(_TARGETS) < 100_000:
        _TARGETS[text] = target
    return target


def _parse_name_target(text: str) -> tuple[str, str] | None:
    m = _NAME_TARGET.match(text.strip().lstrip("="))
    if not m:
        return None
    sheet = m.group(1).replace("''", "'") if m.group(1) is not None else m.group(2).strip()
    try:
        r1, c1 = parse_ref(m.group(3) + m.group(4))
        if m.group(5):
            r2, c2 = parse_ref(m.group(5) + m.group(6))
        else:
            r2, c2 = r1, c1
    except ValueError:
        return None
    r1, r2 = sorted((r1, r2))
    c1, c2 = sorted((c1, c2))
    ref = ref_of(r1, c1) if (r1, c1) == (r2, c2) else f"{ref_of(r1, c1)}:{ref_of(r2, c2)}"
    return sheet, ref


_COLS: dict[str, int] = {}


def _col_of(ref: str) -> int:
    col = _COLS.get(ref)
    if col is None:
        col = 0
        for ch in ref:
            o = ord(ch)
            if 65 <= o <= 90:
                col = col * 26 + o - 64
            elif 97 <= o <= 122:
                col = col * 26 + o - 96
            elif ch != "$":
                break
        if len(_COLS) < 100_000:
            _COLS[ref] = col
    return col


# ------------------------------------------------------------------ sheet tails (merges, protection)

_TAG_PREFIX = rb"(?:[A-Za-z_][\w.\-]*:)?"
_SHEETDATA_END = re.compile(rb"</" + _TAG_PREFIX + rb"sheetData\s*>|<" + _TAG_PREFIX + rb"sheetData\s*/>")
_MERGE = re.compile(rb"<" + _TAG_PREFIX + rb"mergeCell\b[^>]*?\bref\s*=\s*([\"'])([^\"'<>]*)\1")
_PROTECTION = re.compile(rb"<" + _TAG_PREFIX + rb"sheetProtection\b([^>]*)>")
_SHEET_ON = re.compile(rb"""(?:^|\s)sheet\s*=\s*["'](?:1|true)["']""")
_RANGE = re.compile(r"\$?[A-Za-z]{1,3}\$?\d{1,7}(?::\$?[A-Za-z]{1,3}\$?\d{1,7})?")


def _sheetdata_end(buf: bytes) -> int:
    i = buf.find(b"sheetData")
    while i >= 0:
        j = buf.rfind(b"<", max(0, i - 64), i)
        if j >= 0:
            m = _SHEETDATA_END.match(buf, j)
            if m:
                return m.end()
        i = buf.find(b"sheetData", i + 9)
    return -1


class _Tail:
    __slots__ = ("merges", "protected")

    def __init__(self):
        self.merges: list[str] = []
        self.protected = False

    def scan(self, part: bytes, limit: int) -> None:
        for m in _MERGE.finditer(part):
            ref = m.group(2).decode("ascii", "replace").replace("$", "").upper()
            if _RANGE.fullmatch(ref) and len(self.merges) < limit:
                self.merges.append(ref if ":" in ref else f"{ref}:{ref}")
        for m in _PROTECTION.finditer(part):
            if _SHEET_ON.search(m.group(1)):
                self.protected = True


# ------------------------------------------------------------------ shared strings


class _Strings:
    """sharedStrings.xml, parsed lazily and only as far as the highest index asked for."""

    def __init__(self, zip_: _Zip, name: str | None, limits: Limits):
        self.items: list[str] = []
        self.name = zip_.shown(name) if name else ""
        self._chunks = zip_.chunks(name) if name else None
        self._max = limits.max_strings
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


# ------------------------------------------------------------------ the book


class _Stop(Exception):
    """Raised by a sheet handler to stop the parse (early: the rows asked for are read)."""

    def __init__(self, early: bool):
        self.early = early


class _SheetPart:
    __slots__ = ("info", "part", "memo", "window", "tail")

    def __init__(self, info: SheetInfo, part: str | None):
        self.info, self.part = info, part
        self.memo: dict[tuple[int, int], RawCell | None] = {}  # cells read; None = empty
        self.window = (0, 0)  # rows x cols fully known from read_grid
        self.tail: _Tail | None = None


_REL_OFFICE_DOC = "/officedocument"
_SHEET_KINDS = {"worksheet": "worksheet", "chartsheet": "chartsheet", "dialogsheet": "dialogsheet",
                "xlmacrosheet": "macrosheet", "xlintlmacrosheet": "macrosheet"}
_STATES = {"visible": "visible", "hidden": "hidden", "veryhidden": "veryHidden"}


class OoxmlBook(Book):
    def __init__(self, path: Path, limits: Limits, deadline: Deadline):
        self.path, self.limits, self.deadline = path, limits, deadline
        self.last_scan = None
        with sniff.guard():
            self._zip = _Zip(path, limits, deadline)
        try:
            with sniff.guard():
                self._open()
        except BaseException:
            self._zip.close()
            raise

    # -- open: package rels, workbook.xml and its rels, once

    def _open(self) -> None:
        z = self._zip
        names = list(z.infos)
        self._package_rels = self._rels("_rels/.rels", "") if z.has("_rels/.rels") else []
        main = next((t for _, typ, t in self._package_rels if typ.lower().endswith(_REL_OFFICE_DOC)), None)
        self._workbook_part = sniff.classify_zip(names, main, lambda n: z.read(n)[:200])
        self.kind = "xlsm" if any(n.endswith("vbaproject.bin") for n in names) else "xlsx"
        wb_dir = posixpath.dirname(self._workbook_part)
        rels_name = posixpath.join(wb_dir, "_rels", posixpath.basename(self._workbook_part) + ".rels")
        rels = self._rels(rels_name, wb_dir) if z.has(rels_name) else []
        by_id = {}
        self._styles_part = self._strings_part = None
        for rid, typ, target in rels:
            kind = typ.rsplit("/", 1)[-1].lower()
            by_id[rid] = (kind, target)
            if kind == "styles":
                self._styles_part = target
            elif kind == "sharedstrings":
                self._strings_part = target
        raw_sheets, raw_names = self._parse_workbook()
        self._sheets: dict[str, _SheetPart] = {}
        order: list[str] = []
        for name, state, rid in raw_sheets:
            kind, target = by_id.get(rid, ("worksheet", None))
            kind = _SHEET_KINDS.get(kind, "worksheet")
            if kind == "worksheet" and (target is None or not z.has(target)):
                raise Unreadable("F3", f"缺少工作表“{name}”的数据")
            if name in self._sheets:
                raise Unreadable("F3", f"工作表名称“{name}”重复")
            info = SheetInfo(name=name, state=_STATES.get((state or "visible").lower(), "visible"), kind=kind)
            self._sheets[name] = _SheetPart(info, target if kind == "worksheet" else None)
            order.append(name)
        self._order = order
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

    def _rels(self, name: str, base: str) -> list[tuple[str, str, str]]:
        """[(Id, Type, resolved lower-cased target)] of a .rels part, external targets left out."""
        out: list[tuple[str, str, str]] = []

        def start(tag, attrs):
            if _local(tag) == "Relationship" and attrs.get("TargetMode", "").lower() != "external":
                target = unquote(attrs.get("Target", "")).replace("\\", "/")
                if target.startswith("/"):
                    resolved = posixpath.normpath(target.lstrip("/"))
                else:
                    resolved = posixpath.normpath(posixpath.join(base, target))
                out.append((attrs.get("Id", ""), attrs.get("Type", ""), resolved.lower()))

        self._parse(name, start)
        return out

    def _parse(self, name: str, start, end=None, chars=None, where: str | None = None) -> None:
        shown = self._zip.shown(name)
        p = _expat(where or shown)
        p.StartElementHandler = start
        if end:
            p.EndElementHandler = end
        if chars:
            p.CharacterDataHandler = chars
        with sniff.guard(shown):
            for chunk in self._zip.chunks(name):
                p.Parse(chunk, False)
            p.Parse(b"", True)

    def _parse_workbook(self):
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

        self._parse(self._workbook_part, start, end, chars)
        return sheets, names

    # -- lazily: styles, strings, custom properties, tails

    @cached_property
    def _date_styles(self) -> list[bool]:
        """Per cellXfs index: whether its number format shows a date/time."""
        if not self._styles_part or not self._zip.has(self._styles_part):
            return []
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

        self._parse(self._styles_part, start, end)
        memo: dict[int, bool] = {}
        out = []
        for fid in xfs:
            d = memo.get(fid)
            if d is None:
                d = memo[fid] = is_date_format(fmts[fid]) if fid in fmts else fid in _DATE_IDS
            out.append(d)
        return out

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

    def _tail(self, sp: _SheetPart) -> _Tail:
        if sp.tail is None:
            tail = _Tail()
            if sp.part is not None:
                with sniff.guard(self._zip.shown(sp.part)):
                    self._scan_tail(sp.part, tail)
            sp.tail = tail
        return sp.tail

    def _scan_tail(self, part: str, tail: _Tail) -> None:
        buf = b""
        in_tail = first = False
        limit = self.limits.max_cells
        for chunk in self._zip.chunks(part):
            if not first:
                first = True
                if b"<!DOCTYPE" in chunk[:4096] or b"<!ENTITY" in chunk[:4096]:
                    raise Unreadable("F7", f"{self._zip.shown(part)} 含有 DOCTYPE 或实体声明（XML 实体扩展攻击）")
            buf += chunk
            if not in_tail:
                i = _sheetdata_end(buf)
                if i < 0:
                    buf = buf[-128:]
                    continue
                in_tail, buf = True, buf[i:]
            cut = buf.rfind(b"<")
            if cut > 0:
                tail.scan(buf[:cut], limit)
                buf = buf[cut:]
        if in_tail:
            tail.scan(buf, limit)

    # -- the interface

    @property
    def sheets(self) -> list[SheetInfo]:
        out = []
        for name in self._order:
            sp = self._sheets[name]
            if sp.part is not None and not sp.info.protected and self._tail(sp).protected:
                sp.info = SheetInfo(sp.info.name, sp.info.state, True, sp.info.kind)
            out.append(sp.info)
        return out

    @property
    def sheet_names(self) -> list[str]:
        return list(self._order)

    def _sheet(self, name: str) -> _SheetPart:
        sp = self._sheets.get(name)
        if sp is None:
            raise KeyError(f"工作簿中没有工作表“{name}”")
        return sp

    def merged_ranges(self, sheet: str) -> list[str]:
        sp = self._sheet(sheet)
        return list(self._tail(sp).merges)

    def read_cells(self, sheet: str, refs) -> dict[str, object]:
        sp = self._sheet(sheet)
        asked = [(ref, parse_ref(ref)) for ref in refs]
        wr, wc = sp.window
        missing: dict[int, set[int]] = {}
        for _, (r, c) in asked:
            if (r, c) not in sp.memo and not (r <= wr and c <= wc):
                missing.setdefault(r, set()).add(c)
        if missing and sp.part is not None:
            found = self._scan(sp, missing.get, max(missing))
            for r, cols in missing.items():
                for c in cols:
                    sp.memo[(r, c)] = found.get((r, c))
        out = {}
        for ref, pos in asked:
            cell = sp.memo.get(pos)
            if cell is not None:
                out[ref] = cell
        return out

    def read_grid(self, sheet: str, max_rows: int = 300, max_cols: int = 40) -> dict[tuple[int, int], RawCell]:
        sp = self._sheet(sheet)
        wr, wc = sp.window
        if not (max_rows <= wr and max_cols <= wc) and sp.part is not None:
            cols = range(1, max_cols + 1)
            found = self._scan(sp, lambda r: cols, max_rows)
            if max_rows >= wr and max_cols >= wc:
                sp.memo = {k: v for k, v in sp.memo.items() if not (k[0] <= max_rows and k[1] <= max_cols)}
                sp.window = (max_rows, max_cols)
            sp.memo.update(found)
            return found
        return {k: v for k, v in sp.memo.items() if v is not None and k[0] <= max_rows and k[1] <= max_cols}

    def close(self) -> None:
        if "_strings" in self.__dict__:
            self._strings.close()
        self._zip.close()

    # -- the sheet scan

    def _scan(self, sp: _SheetPart, wanted: Callable[[int], Container[int] | None],
              last_row: int) -> dict[tuple[int, int], RawCell]:
        """Cells of the rows ``wanted(row)`` names (columns in the container it returns),
        stopping at the first row after ``last_row``."""
        name, part = sp.info.name, sp.part
        stats = self.last_scan = ScanStats(name)
        found: dict[tuple[int, int], RawCell] = {}
        max_rows = self.limits.max_rows
        masters: dict[str, tuple[int, int, str]] = {}
        row = col = rows = cells = 0
        want: Container[int] | None = None
        cell: list | None = None  # [col, t, s, v parts, f parts, f attrs, inline parts]
        target: list | None = None  # text being collected
        in_is = False
        rph = 0
        master: tuple[str, str, list] | None = None  # shared-formula master in a skipped cell

        def start(tag, attrs):
            nonlocal row, col, rows, cells, want, cell, target, in_is, rph, master
            loc = _LOCAL[tag]
            if loc == "c":
                cells += 1
                if want is not None:
                    r = attrs.get("r")
                    col = _col_of(r) if r else col + 1
                    cell = [col, attrs.get("t"), attrs.get("s"), None, None, None, None] if col in want else None
            elif loc == "row":
                rows += 1
                r = attrs.get("r")
                row = int(r) if r else row + 1
                if row > last_row:
                    raise _Stop(True)
                if rows > max_rows:
                    raise Unreadable("F6", f"工作表“{name}”读取超过 {max_rows:,} 行（上限）")
                want = wanted(row)
                col = 0
                cell = None
            elif cell is not None:
                if loc == "v":
                    target = cell[3] = []
                elif loc == "f":
                    target = cell[4] = []
                    cell[5] = attrs
                elif loc == "is":
                    in_is = True
                    cell[6] = []
                elif loc == "t":
                    if in_is and not rph:
                        target = cell[6]
                elif loc == "rPh":
                    rph += 1
            elif loc == "f" and "ref" in attrs and attrs.get("t") == "shared":
                target = []
                master = (attrs.get("si", ""), attrs["ref"], target)

        date_by_style: dict[str, bool] = {}
        date1904 = self.date1904

        def end(tag):
            nonlocal cell, target, in_is, rph, master
            loc = _LOCAL[tag]
            if loc == "c":
                if cell is not None:
                    c, cell = cell, None
                    vparts = c[3]
                    # Fast path for the common case, a plain whole number.
                    if vparts and c[1] is None and c[4] is None and len(vparts) == 1:
                        v = vparts[0]
                        if v.isdigit() and v.isascii() and len(v) < 16:
                            s = c[2]
                            is_date = date_by_style.get(s) if s else False
                            if is_date is None:
                                is_date = date_by_style[s] = self._date_style(s)
                            if is_date is not None:
                                found[(row, c[0])] = _raw_cell(int(v), None, False, None, is_date, date1904)
                                return
                    made = self._cell(name, row, c, masters)
                    if made is not None:
                        found[(row, c[0])] = made
            elif loc == "v" or loc == "t":
                target = None
            elif loc == "f":
                target = None
                if master is not None:
                    try:
                        r, c = parse_ref(master[1])
                        masters[master[0]] = (r, c, "".join(master[2]))
                    except ValueError:
                        pass
                    master = None
            elif loc == "is":
                in_is = False
            elif loc == "rPh":
                rph -= 1
            elif loc == "sheetData":
                raise _Stop(False)

        def chars(data):
            if target is not None:
                target.append(data)

        shown = self._zip.shown(part)
        p = _expat(f"工作表“{name}”（{shown}）")
        p.StartElementHandler, p.EndElementHandler, p.CharacterDataHandler = start, end, chars
        chunks = self._zip.chunks(part)
        max_cells = self.limits.max_cells
        try:
            with sniff.guard(shown):
                try:
                    for chunk in chunks:
                        stats.bytes_inflated += len(chunk)
                        p.Parse(chunk, False)
                        if cells > max_cells:
                            raise Unreadable("F6", f"工作表“{name}”读取超过 {max_cells:,} 个单元格（上限）")
                    p.Parse(b"", True)
                except _Stop as stop:
                    stats.stopped_early = stop.early
        finally:
            chunks.close()
            stats.rows_seen, stats.cells_seen = rows, cells
        return found

    def _date_style(self, s: str) -> bool | None:
        """Whether cell style ``s`` shows dates; None when ``s`` is not a style index."""
        try:
            i = int(s)
        except ValueError:
            return None
        styles = self._date_styles
        return 0 <= i < len(styles) and styles[i]

    def _cell(self, sheet: str, row: int, cell: list, masters) -> RawCell | None:
        col, t, s, vparts, fparts, fattrs, iparts = cell
        v = "".join(vparts) if vparts is not None else None
        formula = error = None
        is_date = False
        if fparts is not None:
            formula = "".join(fparts)
            ft = fattrs.get("t")
            if ft == "shared" and not formula:
                formula = self._shared(masters.get(fattrs.get("si", "")), row, col)
            elif ft == "shared" and "ref" in fattrs:
                try:
                    r, c = parse_ref(fattrs["ref"])
                    masters[fattrs.get("si", "")] = (r, c, formula)
                except ValueError:
                    pass
            elif ft == "dataTable":
                formula = f"TABLE({fattrs.get('r1', '')},{fattrs.get('r2', '')})"
        has_cache = v is not None and (v != "" or t == "str")
        value: object = None
        try:
            if t is None or t == "n":
                if v:
                    value = _number(v)
                    if s:
                        is_date = self._date_style(s)
                        if is_date is None:
                            raise ValueError(s)
            elif t == "s":
                if v:
                    value = self._strings.get(int(v), f"工作表“{sheet}”单元格 {ref_of(row, col)}")
            elif t == "str":
                value = _unescape(v) if v is not None else None
            elif t == "inlineStr":
                value = _unescape("".join(iparts)) if iparts is not None else v
            elif t == "b":
                if v:
                    value = v.strip() in ("1", "true")
            elif t == "e":
                error = v.strip() if v else None
                if error is None and formula is None:
                    return None
            elif t == "d":
                if v:
                    value = datetime.fromisoformat(v.strip().replace("Z", "+00:00"))
                    is_date = True
            else:
                raise ValueError(t)
        except ValueError:
            raise Unreadable("F3", f"工作表“{sheet}”单元格 {ref_of(row, col)} 的内容无法识别") from None
        if value is None and formula is None and error is None:
            return None
        return _raw_cell(value, formula, has_cache if formula is not None else False, error, is_date, self.date1904)

    @staticmethod
    def _shared(master: tuple[int, int, str] | None, row: int, col: int) -> str:
        """A shared formula's text, moved from its master cell to (row, col)."""
        if master is None or not master[2]:
            return _PLACEHOLDER_FORMULA
        mr, mc, text = master
        try:
            from openpyxl.formula.translate import Translator

            return Translator("=" + text, origin=ref_of(mr, mc)).translate_formula(ref_of(row, col))[1:]
        except Exception:  # noqa: BLE001 - an odd formula keeps the master's text
            return text
