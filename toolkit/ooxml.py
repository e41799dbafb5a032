"""Safe, fast reader for .xlsx / .xlsm (OOXML SpreadsheetML).

Why not openpyxl: it loads every cell of every sheet (~50 ms for a small template); a
batch of thousands of returns needs ~1.5 ms per file.  So:

* The zip's central directory is read by zipfile (a file up to 4 MB is read into memory
  first), but members are inflated here, with zlib: the declared size and ratio are
  checked before inflating, and the bytes really produced are counted while inflating
  (a member that inflates past its declared size is refused at once; the total is
  capped, see Limits).  Small members are inflated in one call, large ones in 64 KB steps.
* Small parts (sheets, shared strings, custom properties up to FAST_MAX) are read in ONE
  PASS: inflated whole, checked by expat without Python handlers (well-formedness,
  encoding, DOCTYPE/entities refused: C speed), then taken apart with regexes (also C
  speed) instead of one Python call per XML event.  Every cell of the sheet is indexed
  raw and turned into a RawCell only when asked for (a malformed cell nobody reads is no
  error, as before), so the second read of a sheet is free.  The regexes rely on what
  expat proved plus checks of their own (UTF-8, no comment/CDATA/PI/DOCTYPE, no prefix on
  row and c, every <row>/<c> accounted for); whenever one fails, the part is read by
  the streaming path below, which stays the reference: both paths give the same answers
  (tests/test_book.py runs every test through both).  A book indexes at most
  FAST_BUDGET bytes of sheets this way, so memory stays bounded.
* Streaming path (large parts, odd parts): expat with handlers in Python, no tree.  A
  DOCTYPE or any entity declaration is refused by the parser itself (F7), before anything
  is expanded; no external entity is ever resolved.  Only the cells asked for are kept,
  and a sheet scan stops as soon as the last row asked for has passed (the handler
  raises), so a sheet with a million rows costs what its first rows cost.
* <mergeCells> and <sheetProtection> come after <sheetData>.  A one-pass read takes them
  from the bytes it already holds; otherwise the raw inflated bytes are searched for the
  end of sheetData and the few tail elements are matched with a regex: inflating is ~10x
  cheaper than parsing.  The trade-off: merged_ranges/sheet protection of a huge sheet
  inflate it all (bounded by max_uncompressed_mb and max_seconds), and a malformed tail
  is read leniently (a mergeCell we cannot match is skipped, not an error).  Neither
  parser checks the XML after the end of sheetData: no reader needs it.
* workbook.xml and its rels are parsed once, at open; styles, custom properties and
  the sheets' tails lazily, once (a sheet's protection only when asked for).  workbook.xml,
  .rels and styles.xml results are remembered by their exact bytes (a batch repeats the
  template's parts; a key is the bytes themselves, never a hash or CRC a crafted part
  could match).
* Macros are never run or loaded: vbaProject.bin is never read.
"""

from __future__ import annotations

import io
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
from .book import _REF_CACHE, Book, RawCell, ScanStats, SheetInfo, _raw_cell, parse_ref, ref_of
from .limits import MB, Deadline, Limits, Unreadable, fmt_mb, fmt_number

READ_STEP = 64 * 1024  # compressed bytes read at a time
IN_MEMORY_MAX = 4 * 1024 * 1024  # files up to this size are read into memory at once
OUT_STEP = 64 * 1024  # most bytes inflated (and fed to the parser) at a time
_PLACEHOLDER_FORMULA = "（共享公式）"  # a shared-formula dependent whose master is missing

# ------------------------------------------------------------------ the zip


class _Zip:
    """A zip whose members are inflated under Limits."""

    def __init__(self, path: Path, limits: Limits, deadline: Deadline):
        self.limits, self.deadline = limits, deadline
        self.fp = open(path, "rb")
        try:
            if self.fp.seek(0, 2) <= IN_MEMORY_MAX:  # one read, then no system call per seek
                self.fp.seek(0)
                fp, self.fp = self.fp, io.BytesIO(self.fp.read())
                fp.close()
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

    def _member(self, name: str) -> tuple[str, str, zipfile.ZipInfo, int]:
        """(key, name as stored, info, where its data starts), after the checks that need
        no inflating: declared size and ratio, encryption, method, local header."""
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
        if method == zipfile.ZIP_STORED and packed != declared:
            raise Unreadable("F3", f"{name} 的大小与目录不符")
        return key, name, info, pos

    def _count(self, key: str, produced: int) -> None:
        """Count bytes inflated against the total budget (a member read twice counts once)."""
        before = self.inflated.get(key, 0)
        if produced > before:
            self.inflated[key] = produced
            self.total += produced - before
            if self.total > self.limits.max_uncompressed_bytes:
                raise Unreadable("F6", f"解压后的内容超过上限 {fmt_number(self.limits.max_uncompressed_mb)} MB")

    def chunks(self, name: str) -> Iterator[bytes]:
        """Inflate member ``name`` (lower-cased) step by step, under the limits."""
        key, name, info, pos = self._member(name)
        if info.compress_size <= READ_STEP and info.file_size <= OUT_STEP:
            yield self._whole(key, name, info, pos)
            return
        fp, lim = self.fp, self.limits
        declared, left, method = info.file_size, info.compress_size, info.compress_type
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

    def _whole(self, key: str, name: str, info: zipfile.ZipInfo, pos: int) -> bytes:
        """A small member (one step) inflated in one call, with the same checks."""
        self.deadline.check()
        declared, packed = info.file_size, info.compress_size
        self.fp.seek(pos)
        data = self.fp.read(packed)
        if len(data) < packed:
            raise Unreadable("F3", f"{name} 不完整（文件可能被截断）")
        if info.compress_type == zipfile.ZIP_STORED:
            out = data
        else:
            inflater = zlib.decompressobj(-15)
            out = inflater.decompress(data, declared + 1)  # one byte more than declared: a bomb shows
            if len(out) > declared:
                self._overrun(name, inflater, inflater.unconsumed_tail, 0, pos + packed, len(out), declared)
            if not inflater.eof:
                raise Unreadable("F3", f"{name} 的压缩数据不完整（文件可能被截断）")
        self._count(key, len(out))
        if len(out) != declared or zlib.crc32(out) != info.CRC:
            raise Unreadable("F3", f"{name} 校验失败（文件已损坏）")
        return out


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


# ------------------------------------------------------------------ one-pass reading of small parts

# A part up to FAST_MAX bytes is inflated whole and checked by expat without Python
# handlers (well-formedness, encoding, DOCTYPE refused: C speed); its content is then
# taken out with regexes, also at C speed, instead of one Python call per XML event.
# The regexes rely on what the bare parse proved plus a few checks of their own: UTF-8,
# no comment, CDATA, DOCTYPE or processing instruction (so every '<' starts a tag and
# text holds only the five predefined entities and character references), and the
# elements that matter written without a prefix.  Whenever one of those fails, or the
# part breaks a limit, the streaming parser reads the part exactly as before.
FAST_MAX = 256 * 1024
FAST_BUDGET = 4 * 1024 * 1024  # most sheet bytes one book indexes whole (memory stays bounded)


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


_SD_START = re.compile(rb"<sheetData\s*(/?)>")
_SD_END = re.compile(rb"</sheetData\s*>")
_ROW_OR_CELL = re.compile(rb"<(?:[^\s/<>:]+:)?(?:row|c)[\s/>]")
_PREFIXED_ROW_OR_CELL = re.compile(rb"<[^\s/<>:]+:(?:row|c)[\s/>]")
_INNER = rb"(?:[^<]++|<(?!/?c[\s/>]))*+"
# One token per <row> start tag and per <c> element.  Groups: 1 row number (common form),
# 2-3 any other row; 4-7 a cell in the common form (letters, s, t, a non-empty <v>);
# 8-10 any other cell (attributes, content).
_SD_TOKEN = re.compile(
    rb"<(?:"
    rb'row r="([0-9]{1,7})"' + _A + rb"\s*+/?>"
    rb"|(row)(" + _A + rb")\s*+/?>"
    rb'|c r="([A-Z]{1,3})[0-9]{1,7}"(?: s="([0-9]{1,9})")?(?: t="([a-zA-Z]{1,9})")?'
    rb"(?:/>|>(?:<v>([^<]++)</v>)?</c>)"
    rb"|(c)(" + _A + rb")\s*+(?:/>|>(" + _INNER + rb")</c\s*+>))")
_INNER_TOKEN = re.compile(rb"<(/?)([^\s/<>]+)(" + _A + rb")\s*+(/?)>|([^<]+)")
_COLS_B: dict[bytes, int] = {}


def _tag_starts(data: bytes, a: int, b: int, tag: bytes, expect: int) -> int:
    """How many start tags ``tag`` (b"<c") has between a and b; ``expect``: the likely
    answer, checked with one count (other tags seldom share the prefix)."""
    n = data.count(tag, a, b)
    if n == expect:
        return n
    return sum(data.count(tag + end, a, b) for end in (b" ", b">", b"/", b"\t", b"\n", b"\r"))


def _index_sheet(data: bytes, where: str, max_rows: int, max_cells: int
                 ) -> tuple[dict[tuple[int, int], tuple | list], int, int, int]:
    """Every non-empty cell of a small sheet, in file order, raw: (t, s, v) bytes for the
    common form, else [col, t, s, v parts, f parts, f attrs, inline parts, shared-formula
    master] as the streaming handlers collect them; with the row and cell counts and where
    sheetData ends.  Raises _Fallback when the one-pass assumptions fail."""
    i = data.find(b"sheetData")
    m = _SD_START.match(data, i - 1) if i > 0 else None
    if m is None or _ROW_OR_CELL.search(data, 0, i):
        raise _Fallback
    if m.group(1):
        _plain(data, where, m.end())
        return {}, 0, 0, m.end()
    a = m.end()
    e = _SD_END.search(data, a)
    if e is None:
        raise _Fallback
    b = e.start()
    _plain(data, where, e.end())  # up to the end of sheetData, where the streaming scan stops
    if (data.find(b":c", a, b) >= 0 or data.find(b":row", a, b) >= 0) and _PREFIXED_ROW_OR_CELL.search(data, a, b):
        raise _Fallback
    tokens = _SD_TOKEN.findall(data, a, b)
    if len(tokens) > max_cells:
        raise _Fallback  # the limits: the streaming path's verdicts
    found: dict[tuple[int, int], tuple | list] = {}
    masters: dict[str, tuple[int, int, str]] = {}
    row = rows = 0
    col: int | None = 0
    cols_b = _COLS_B
    for rr, grow, row_attrs, letters, s, t, v, gc, attrs, inner in tokens:
        if letters:
            if v:
                col = cols_b.get(letters)
                if col is None:
                    col = _col_of(letters.decode("ascii"))
                    if len(cols_b) < 100_000:
                        cols_b[letters] = col
                found[(row, col)] = (t, s, v)
            else:
                col = None  # column known only by letters (not needed unless a cell lacks r=)
            continue
        if rr:
            row, col = int(rr), 0
            rows += 1
            continue
        if grow:
            r = _attr_map(row_attrs).get("r")
            row, col = (int(r) if r else row + 1), 0
            rows += 1
            continue
        am = _attr_map(attrs)
        r = am.get("r")
        if r:
            col = _col_of(r)
        elif col is None:
            raise _Fallback
        else:
            col += 1
        if inner:
            cell = [col, am.get("t"), am.get("s"), None, None, None, None, None]
            _inner_cell(inner, cell, masters)
            found[(row, col)] = cell
    n_cells = len(tokens) - rows
    if (rows > max_rows or n_cells > max_cells or rows != _tag_starts(data, a, b, b"<row", rows)
            or n_cells != _tag_starts(data, a, b, b"<c", n_cells)):
        raise _Fallback  # every <row> and <c> must be a token; limits: the streaming path's verdicts
    return found, rows, n_cells, e.end()


def _inner_cell(inner: bytes, cell: list, masters: dict) -> None:
    """The children of one <c> (f, v, is/t runs), as the streaming handlers collect them."""
    target: list | None = None
    in_is = False
    rph = 0
    for close, name, attrs, empty, text in _INNER_TOKEN.findall(inner):
        if text:
            if target is not None:
                target.append(_xml_text(text))
            continue
        loc = name.rpartition(b":")[2]
        if not close:
            if loc == b"v":
                target = cell[3] = []
            elif loc == b"f":
                target = cell[4] = []
                cell[5] = _attr_map(attrs)
            elif loc == b"is":
                in_is = True
                cell[6] = []
            elif loc == b"t":
                if in_is and not rph:
                    target = cell[6]
            elif loc == b"rPh":
                rph += 1
            if not empty:
                continue
        if loc == b"v" or loc == b"t" or loc == b"f":
            target = None
        elif loc == b"is":
            in_is = False
        elif loc == b"rPh":
            rph -= 1
    fattrs = cell[5]
    if fattrs is not None and fattrs.get("t") == "shared":
        # Masters in file order, as the streaming scan meets them.
        si = fattrs.get("si", "")
        if not "".join(cell[4]):
            cell[7] = masters.get(si)
        elif "ref" in fattrs:
            try:
                r, c = parse_ref(fattrs["ref"])
                masters[si] = (r, c, "".join(cell[4]))
            except ValueError:
                pass


# ------------------------------------------------------------------ shared strings


_SI_PREFIXED = re.compile(r"<[^\s/<>:]+:(?:si|t|r|rPh)[\s/>]")
_SI_TOKEN = re.compile(
    r'<si><t>([^<]*+)</t></si>|<si><t xml:space="preserve">([^<]*+)</t></si>'
    r"|<si" + _A.decode("ascii") + r"\s*+/>|<si" + _A.decode("ascii") + r"\s*+>((?:[^<]++|<(?!/?si[\s/>]))*+)</si\s*+>")
_A_TEXT = _A.decode("ascii")
_INNER_T = re.compile(r"<(/?)([^\s/<>]+)" + _A_TEXT + r"\s*+(/?)>|([^<]+)")


def _all_strings(data: bytes, where: str, most: int) -> list[str]:
    """Every shared string of a small sharedStrings.xml at once (see FAST_MAX): the text of
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


_PROPERTY = re.compile(rb"<property(" + _A + rb")\s*+(?:/>|>((?:[^<]++|<(?!/?property[\s/>]))*+)</property\s*+>)")
_PROPERTY_PREFIXED = re.compile(rb"<[^\s/<>:]+:property[\s/>]")
_TAG_OR_TEXT = re.compile(rb"<(/?)[^\s/<>]+" + _A + rb"\s*+(/?)>|([^<]+)")


def _all_properties(data: bytes, where: str) -> dict[str, str]:
    """docProps/custom.xml at once (see FAST_MAX): property name -> the text inside it."""
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


class _Strings:
    """sharedStrings.xml, parsed lazily and only as far as the highest index asked for."""

    def __init__(self, zip_: _Zip, name: str | None, limits: Limits):
        self.items: list[str] = []
        self.name = zip_.shown(name) if name else ""
        self._max = limits.max_strings
        if name and zip_.infos[name].file_size <= FAST_MAX:
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


# ------------------------------------------------------------------ the book


class _Stop(Exception):
    """Raised by a sheet handler to stop the parse (early: the rows asked for are read)."""

    def __init__(self, early: bool):
        self.early = early


class _SheetPart:
    __slots__ = ("info", "part", "memo", "window", "tail", "index", "streamed")

    def __init__(self, info: SheetInfo, part: str | None):
        self.info, self.part = info, part
        self.memo: dict[tuple[int, int], RawCell | None] = {}  # cells read; None = empty
        self.window = (0, 0)  # rows x cols fully known from read_grid
        self.tail: _Tail | None = None
        # One-pass read (small sheets): every non-empty cell, raw until asked for, then
        # its RawCell (None: empty).  ``streamed``: the sheet must go the streaming way.
        self.index: dict[tuple[int, int], list | RawCell | None] | None = None
        self.streamed = part is None


_WHOLE: dict[tuple[bytes, bool, bool], RawCell] = {}  # plain whole numbers, shared (RawCell is immutable)
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


_REL_OFFICE_DOC = "/officedocument"
_SHEET_KINDS = {"worksheet": "worksheet", "chartsheet": "chartsheet", "dialogsheet": "dialogsheet",
                "xlmacrosheet": "macrosheet", "xlintlmacrosheet": "macrosheet"}
_STATES = {"visible": "visible", "hidden": "hidden", "veryhidden": "veryHidden"}


class OoxmlBook(Book):
    def __init__(self, path: Path, limits: Limits, deadline: Deadline):
        self.path, self.limits, self.deadline = path, limits, deadline
        self.last_scan = None
        self._date_by_style: dict[bytes, bool | None] = {}  # style index -> shows dates
        self._fast_left = FAST_BUDGET
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
        wb_data = z.read(self._workbook_part)
        raw_sheets, raw_names, self.date1904, self.workbook_protected = _memo(
            ("workbook", wb_data), lambda: self._parse_workbook(wb_data))
        self._sheets: dict[str, _SheetPart] = {}
        order: list[str] = []
        for name, state, rid in raw_sheets:
            kind, target = by_id.get(rid, ("worksheet", None))
            kind = _SHEET_KINDS.get(kind, "worksheet")
            if kind == "worksheet" and (target is None or not z.has(target)):
                raise Unreadable("F3", f"缺少工作表“{name}”的数据")
            if name in self._sheets:
                raise Unreadable("F3", f"工作表名称“{name}”重复")
            part = target if kind == "worksheet" else None
            sp = _SheetPart(None, part)
            # Protection sits in the sheet's tail: looked at only when asked for.
            protected = (lambda sp=sp: self._tail(sp).protected) if part is not None else False
            sp.info = SheetInfo(name, _STATES.get((state or "visible").lower(), "visible"), protected, kind)
            self._sheets[name] = sp
            order.append(name)
        self._order = order
        defined, local, broken = _memo(("names", wb_data), lambda: self._names(raw_names))
        self.defined_names = dict(defined)
        self.local_names = {k: dict(v) for k, v in local.items()}
        self.broken_names = list(broken)

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
        if self._zip.infos[part].file_size <= FAST_MAX:
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

    def _tail(self, sp: _SheetPart) -> _Tail:
        if sp.tail is None and not self._one_pass(sp):
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
        return [self._sheets[name].info for name in self._order]

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
        if sp.index is not None or self._one_pass(sp):
            index, known = sp.index, _REF_CACHE
            out = {}
            for ref in refs:
                pos = known.get(ref) or parse_ref(ref)
                cell = index.get(pos)
                if cell is None:
                    continue
                if cell.__class__ is tuple or cell.__class__ is list:
                    cell = index[pos] = self._convert(sp, pos, cell)
                    if cell is None:
                        continue
                out[ref] = cell
            return out
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
        if sp.index is not None or self._one_pass(sp):
            index = sp.index
            out = {}
            for pos, cell in list(index.items()):
                if pos[0] <= max_rows and pos[1] <= max_cols:
                    if cell.__class__ is list or cell.__class__ is tuple:
                        cell = index[pos] = self._convert(sp, pos, cell)
                    if cell is not None:
                        out[pos] = cell
            return out
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

    # -- one pass (small sheets)

    def _one_pass(self, sp: _SheetPart) -> bool:
        """Index every cell and the tail of a small sheet at once (see FAST_MAX); False
        when the sheet must be streamed (large, or the one-pass assumptions fail)."""
        if sp.index is not None:
            return True
        if sp.streamed:
            return False
        sp.streamed = True  # until proven otherwise
        part, lim = sp.part, self.limits
        size = self._zip.infos[part].file_size
        if size > FAST_MAX or size > self._fast_left:
            return False
        self._fast_left -= size
        shown = self._zip.shown(part)
        with sniff.guard(shown):
            data = self._zip.read(part)
            try:
                found, rows, cells, tail_at = _index_sheet(
                    data, f"工作表“{sp.info.name}”（{shown}）", lim.max_rows, lim.max_cells)
            except Unreadable:
                raise
            except Exception:  # noqa: BLE001 - _Fallback, or XML expat refuses: the streaming
                return False  # path reads the part, with its own verdicts
        sp.index, sp.streamed = found, False
        if sp.tail is None:
            tail = _Tail()
            tail.scan(data[tail_at:], lim.max_cells)
            sp.tail = tail
        self.last_scan = ScanStats(sp.info.name, rows, cells, len(data), False)
        return True

    def _convert(self, sp: _SheetPart, pos: tuple[int, int], raw: tuple | list) -> RawCell | None:
        """A raw indexed cell -> RawCell (None: empty), as the streaming scan builds it."""
        if raw.__class__ is tuple:
            t, s, v = raw
            if not t and v.isdigit() and len(v) < 16:  # the common case, a plain whole number
                if s:
                    is_date = self._date_by_style.get(s)
                    if is_date is None:
                        is_date = self._date_style_b(s)
                else:
                    is_date = False
                if is_date is not None:
                    key = (v, is_date, self.date1904)
                    cell = _WHOLE.get(key)
                    if cell is None:
                        cell = _raw_cell(int(v), None, False, None, is_date, self.date1904)
                        if len(_WHOLE) < 50_000:
                            _WHOLE[key] = cell
                    return cell
            text = v.decode("ascii") if v.isascii() and b"&" not in v and b"\r" not in v else _xml_text(v)
            raw = [pos[1], t.decode("ascii") if t else None, s.decode("ascii") if s else None,
                   [text], None, None, None, None]
        return self._cell(sp.info.name, pos[0], raw, {})

    def _date_style_b(self, s: bytes) -> bool | None:
        memo = self._date_by_style
        d = memo.get(s, memo)
        if d is memo:
            d = memo[s] = self._date_style(s.decode("ascii"))
        return d

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
        col, t, s, vparts, fparts, fattrs, iparts = cell[:7]
        v = "".join(vparts) if vparts is not None else None
        formula = error = None
        is_date = False
        if fparts is not None:
            formula = "".join(fparts)
            ft = fattrs.get("t")
            if ft == "shared" and not formula:
                master = cell[7] if len(cell) > 7 else masters.get(fattrs.get("si", ""))
                formula = self._shared(master, row, col)
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
