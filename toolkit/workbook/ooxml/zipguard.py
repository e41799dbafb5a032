"""The zip: members inflated by hand under Limits (declared size and ratio checked before
inflating, bytes really produced counted while inflating, total capped), and the central
directory checked before zipfile parses it."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Iterator

from toolkit.workbook.gate import vet_members
from toolkit.workbook.limits import MB, Deadline, Limits, Unreadable, fmt_number

READ_STEP = 64 * 1024  # compressed bytes read at a time
IN_MEMORY_MAX = 4 * 1024 * 1024  # files up to this size are read into memory at once
OUT_STEP = 64 * 1024  # most bytes inflated (and fed to the parser) at a time

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
            vet_members(infos, limits)  # the whole file, before any member is read
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
        declared, packed = info.file_size, info.compress_size  # sizes and ratio: vetted at open
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


# ------------------------------------------------------------------ archives of files


def member_name(info: zipfile.ZipInfo) -> str:
    """A member's name as its maker meant it: zips made on Chinese Windows store GBK
    names without the UTF-8 flag, which zipfile decodes as cp437 (mojibake)."""
    if info.flag_bits & 0x800:
        return info.filename
    raw = info.filename.encode("cp437", "replace")
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


def archive_members(path: str | Path, limits: Limits | None = None) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of every file in a zip archive (a zip of returns, not a workbook),
    inflated under the same limits as a workbook's parts.  Raises Unreadable."""
    limits = limits or Limits()
    archive = _Zip(Path(path), limits, Deadline(limits.max_seconds))
    try:
        for key, info in archive.infos.items():
            if not info.is_dir():
                yield member_name(info), archive.read(key)
    finally:
        archive.close()
