"""The limits on a whole .xlsx, decided once, when it is opened, before any reader
touches a part.

Our own reader inflates only the parts it needs, but the annotator, the roster and the
template stamp are read with openpyxl, which inflates and parses every part it knows
(theme, styles, every sheet, once per sheet entry).  So the file itself must be within
the limits, whatever reads it next:

* every member: its declared size, and its compression ratio (members over
  ``ratio_min_mb``), before anything is inflated;
* all members together: the sum of their declared sizes (zipfile, and so openpyxl, never
  inflates a member past its declared size; our reader also counts what it really
  inflates, see zipguard);
* workbook.xml: the number of sheet entries, and the bytes they make a reader parse when
  several entries point at one part.

Every breach is F6 with a 中文 detail naming the part, the value found and the limit.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from pathlib import Path
from zipfile import ZipInfo

from toolkit.workbook.limits import MB, Limits, Unreadable, fmt_mb, fmt_number


def vet_members(infos: Iterable[ZipInfo], limits: Limits) -> None:
    """Every member's declared size and ratio, and their total (F6)."""
    most, total = limits.max_uncompressed_bytes, 0
    ratio_from = limits.ratio_min_mb * MB
    for info in infos:
        declared, packed = info.file_size, max(info.compress_size, 1)
        if declared > most:
            raise Unreadable("F6", f"{info.filename} 解压后为 {fmt_mb(declared)}，超过上限 "
                                   f"{fmt_number(limits.max_uncompressed_mb)} MB（疑似压缩炸弹）")
        if declared > ratio_from and declared > limits.max_ratio * packed:
            raise Unreadable("F6", f"{info.filename} 的压缩比为 {declared // packed:,}:1，超过上限 "
                                   f"{fmt_number(limits.max_ratio)}:1（疑似压缩炸弹）")
        total += declared
    if total > most:
        raise Unreadable("F6", f"压缩包内各文件解压后共 {fmt_mb(total)}，超过上限 "
                               f"{fmt_number(limits.max_uncompressed_mb)} MB")


def vet_zip(path: Path, limits: Limits) -> None:
    """Any other zip package read by a library that inflates every part (python-docx for a
    published .docx): its entries and members within the limits (F6), or F3."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise Unreadable("F3", "压缩包已损坏或不完整") from exc
    if len(infos) > limits.max_zip_entries:
        raise Unreadable("F6", f"压缩包内有 {len(infos):,} 个文件，超过上限 {limits.max_zip_entries:,} 个")
    vet_members(infos, limits)


def vet_sheets(part_sizes: list[int], limits: Limits) -> None:
    """workbook.xml's sheet entries: how many, and the declared bytes of the part each
    points at, summed per entry (a part named by 3,000 entries is parsed 3,000 times by
    a reader that loads every sheet)."""
    vet_sheet_count(len(part_sizes), limits)
    total = sum(part_sizes)
    if total > limits.max_uncompressed_bytes:
        raise Unreadable("F6", f"各工作表的数据解压后共 {fmt_mb(total)}（多张工作表指向同一份数据），超过上限 "
                               f"{fmt_number(limits.max_uncompressed_mb)} MB")


def vet_sheet_count(n: int, limits: Limits) -> None:
    if n > limits.max_sheets:
        raise Unreadable("F6", f"工作簿有 {n:,} 张工作表，超过上限 {limits.max_sheets:,} 张")
