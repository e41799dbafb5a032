"""The return's package, patched in place: members read under the workbook's zip limits,
parts parsed safely, relationships and content types edited, and the copy written with
every member we did not touch carried over byte for byte (same bytes, same order).

XML is parsed with lxml (entities never resolved, no network, a DOCTYPE refused) because
it keeps every prefix and unknown element as written: extension lists and mc:Ignorable
prefixes survive an edit.  VML (often not well-formed, as Excel writes it) is edited as
text, see comments.py."""

from __future__ import annotations

import posixpath
import re
import struct
import zipfile
import zlib
from pathlib import Path

from lxml import etree

from toolkit.common.display import shown
from toolkit.workbook.limits import Limits, Unreadable
from toolkit.workbook.ooxml.zipguard import _Zip

# Transitional and Strict spell the relationship types and the r: namespace differently.
REL_BASE = {False: "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
            True: "http://purl.oclc.org/ooxml/officeDocument/relationships"}
PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                          dtd_validation=False, huge_tree=False, remove_blank_text=False)


class PackageError(Exception):
    """The package cannot be patched; the message is 中文."""


def parse(data: bytes, name: str) -> etree._Element:
    try:
        tree = etree.fromstring(data, _PARSER).getroottree()
    except etree.XMLSyntaxError:
        raise PackageError(f"{name} 不是完整的 XML（文件已损坏）") from None
    if tree.docinfo.internalDTD is not None or tree.docinfo.doctype:
        raise PackageError(f"{name} 含有 DOCTYPE 或实体声明，拒绝处理")
    return tree.getroot()


def serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def local(el) -> str:
    tag = el.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def ns(el) -> str:
    return el.tag[1:].partition("}")[0] if isinstance(el.tag, str) and el.tag.startswith("{") else ""


def children(el, name: str) -> list:
    return el.findall(f"{{*}}{name}")  # any namespace: Transitional or Strict


def child(el, name: str):
    return el.find(f"{{*}}{name}")


def insert_in_order(parent, new, order: tuple[str, ...]) -> None:
    """Puts ``new`` where the schema's sequence ``order`` wants it among parent's
    children: before the first child that must come after it."""
    mine = order.index(local(new))
    after = set(order[mine + 1:])
    for i, c in enumerate(parent):
        if local(c) in after:
            parent.insert(i, new)
            return
    parent.append(new)


class Package:
    """The members of a return, read on demand; edits held until ``write``."""

    def __init__(self, path: Path, limits: Limits | None = None):
        limits = limits or Limits()
        try:
            self.zip = _Zip(path, limits, limits.deadline())
        except Unreadable as exc:
            raise PackageError(exc.detail or "压缩包已损坏") from None
        except (OSError, zipfile.BadZipFile, ValueError):
            raise PackageError("压缩包已损坏") from None
        self.names = [info.filename for info in self.zip.infos.values()]
        self._key = dict(zip(self.names, self.zip.infos))  # stored name -> zipguard's key
        self._lower = {key: n for n, key in self._key.items()}
        self.changed: dict[str, bytes] = {}  # part name as stored -> new bytes
        self.removed: set[str] = set()

    def close(self) -> None:
        self.zip.close()

    def has(self, name: str) -> bool:
        name = self.stored(name)
        return name in self.changed or (name in self._key and name not in self.removed)

    def stored(self, name: str) -> str:
        return self._lower.get(name.replace("\\", "/").lstrip("/").lower(), name)

    def read(self, name: str) -> bytes:
        name = self.stored(name)
        if name in self.changed:
            return self.changed[name]
        try:
            if name in self.removed or name not in self._key:
                raise PackageError(f"缺少 {name}")
            return self.zip.read(self._key[name])
        except Unreadable as exc:
            raise PackageError(exc.detail or f"{name} 已损坏") from None

    def xml(self, name: str):
        return parse(self.read(name), name)

    def put(self, name: str, data: bytes) -> None:
        name = self.stored(name)
        self.removed.discard(name)
        self.changed[name] = data

    def remove(self, name: str) -> None:
        name = self.stored(name)
        self.changed.pop(name, None)
        self.removed.add(name)

    def free_name(self, pattern: str) -> str:
        """``pattern`` with {n} the smallest number >= 1 no member uses."""
        n = 1
        while self.has(pattern.format(n=n)):
            n += 1
        return pattern.format(n=n)

    def write(self, target: Path) -> None:
        """Every member in its original order (new ones last).  An untouched member is
        copied as stored, its compressed bytes as they are: the same part, byte for byte,
        and nothing inflated or deflated for it (the checks before a read still apply)."""
        entries: list[bytes] = []
        with open(target, "wb") as out:
            for name in self.names:
                if name in self.removed:
                    continue
                info = self.zip.infos[self._key[name]]
                if name in self.changed:
                    entries.append(_put_member(out, name, info.date_time, info.external_attr,
                                               *_deflate(self.changed[name])))
                else:
                    entries.append(_put_member(out, name, info.date_time, info.external_attr,
                                               *self._raw(name)))
            for name, data in self.changed.items():
                if name not in self._key:
                    entries.append(_put_member(out, name, (1980, 1, 1, 0, 0, 0), 0o600 << 16, *_deflate(data)))
            start = out.tell()
            for entry in entries:
                out.write(entry)
            size = out.tell() - start
            out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), size, start, 0))

    def _raw(self, name: str) -> tuple[bytes, int, int, int, int]:
        """(compressed bytes, method, CRC, compressed size, size) of a member as stored."""
        try:
            _key, _shown, info, pos = self.zip._member(self._key[name])
        except Unreadable as exc:
            raise PackageError(exc.detail or f"{name} 已损坏") from None
        self.zip.fp.seek(pos)
        data = self.zip.fp.read(info.compress_size)
        if len(data) != info.compress_size:
            raise PackageError(f"{name} 不完整（文件可能被截断）")
        return data, info.compress_type, info.CRC, info.compress_size, info.file_size


def _deflate(data: bytes) -> tuple[bytes, int, int, int, int]:
    z = zlib.compressobj(1, zlib.DEFLATED, -15)  # fastest: our few parts are small
    packed = z.compress(data) + z.flush()
    return packed, zipfile.ZIP_DEFLATED, zlib.crc32(data), len(packed), len(data)


def _put_member(out, name: str, date_time, external: int, data: bytes, method: int, crc: int,
                packed: int, size: int) -> bytes:
    """Writes a local header and the data; returns the central directory entry."""
    raw_name = name.encode("utf-8")
    flags = 0x800 if not name.isascii() else 0  # UTF-8 name
    y, mo, d, h, mi, sec = date_time
    dos_time, dos_date = (h << 11) | (mi << 5) | (sec // 2), (max(y - 1980, 0) << 9) | (mo << 5) | d
    offset = out.tell()
    common = struct.pack("<HHHHHIII", 20, flags, method, dos_time, dos_date, crc, packed, size)
    out.write(struct.pack("<I", 0x04034B50) + common + struct.pack("<HH", len(raw_name), 0) + raw_name)
    out.write(data)
    return (struct.pack("<IH", 0x02014B50, 20) + common
            + struct.pack("<HHHHHII", len(raw_name), 0, 0, 0, 0, external & 0xFFFFFFFF, offset) + raw_name)


# ------------------------------------------------------------------ relationships


def rels_name(part: str) -> str:
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def target_of(part: str, target: str) -> str:
    """A relationship target resolved against its source part (no leading slash)."""
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(part), target))


def relative(part: str, to: str) -> str:
    return posixpath.relpath(to, posixpath.dirname(part))


class Rels:
    """A part's relationships, edited as a tree (created empty when absent)."""

    def __init__(self, pkg: Package, part: str):
        self.pkg, self.part, self.name = pkg, part, rels_name(part)
        if pkg.has(self.name):
            self.root = pkg.xml(self.name)
        else:
            self.root = etree.Element(f"{{{PKG_RELS}}}Relationships", nsmap={None: PKG_RELS})
        self.dirty = False

    def items(self) -> list[tuple[str, str, str, str]]:
        """(id, type, target resolved, TargetMode)."""
        out = []
        for r in self.root:
            if local(r) == "Relationship":
                mode = r.get("TargetMode", "")
                tgt = r.get("Target", "")
                out.append((r.get("Id", ""), r.get("Type", ""),
                            tgt if mode == "External" else target_of(self.part, tgt), mode))
        return out

    def by_id(self, rid: str) -> str | None:
        for i, _, tgt, _ in self.items():
            if i == rid:
                return tgt
        return None

    def of_type(self, suffix: str) -> list[tuple[str, str]]:
        return [(i, tgt) for i, t, tgt, _ in self.items() if t.rsplit("/", 1)[-1] == suffix]

    def add(self, type_uri: str, target_part: str) -> str:
        taken = {i for i, *_ in self.items()}
        n = len(taken) + 1
        while f"rId{n}" in taken:
            n += 1
        el = etree.SubElement(self.root, f"{{{PKG_RELS}}}Relationship")
        el.set("Id", f"rId{n}")
        el.set("Type", type_uri)
        el.set("Target", relative(self.part, target_part))
        self.dirty = True
        return f"rId{n}"

    def drop(self, rid: str) -> None:
        for r in list(self.root):
            if r.get("Id") == rid:
                self.root.remove(r)
                self.dirty = True

    def save(self) -> None:
        if self.dirty:
            if len(self.root):
                self.pkg.put(self.name, serialize(self.root))
            elif self.pkg.has(self.name):
                self.pkg.remove(self.name)


class ContentTypes:
    NAME = "[Content_Types].xml"

    def __init__(self, pkg: Package):
        self.pkg = pkg
        self.root = pkg.xml(self.NAME)
        self.dirty = False

    def override(self, part: str, content_type: str) -> None:
        el = etree.SubElement(self.root, f"{{{CT_NS}}}Override")
        el.set("PartName", "/" + part)
        el.set("ContentType", content_type)
        self.dirty = True

    def drop(self, part: str) -> None:
        for el in list(self.root):
            if local(el) == "Override" and el.get("PartName", "").lstrip("/").lower() == part.lower():
                self.root.remove(el)
                self.dirty = True

    def default(self, extension: str, content_type: str) -> None:
        for el in self.root:
            if local(el) == "Default" and el.get("Extension", "").lower() == extension:
                return
        el = etree.Element(f"{{{CT_NS}}}Default")
        el.set("Extension", extension)
        el.set("ContentType", content_type)
        self.root.insert(0, el)
        self.dirty = True

    def save(self) -> None:
        if self.dirty:
            self.pkg.put(self.NAME, serialize(self.root))


_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(text: object, limit: int = 32000) -> str:
    """Text safe for XML and UTF-8 (display.shown: no control characters, no lone
    surrogates), at most ``limit`` long."""
    return _ILLEGAL.sub("\ufffd", shown(text))[:limit]
