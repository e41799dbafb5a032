"""Sheet and workbook protection as Excel stores it: a guard against accidents, not
security (the legacy 16-bit hash is trivially reversed)."""

from __future__ import annotations

import io
import zipfile


def legacy_hash(password: str) -> str:
    """Excel's legacy 16-bit password hash (ECMA-376 Part 1, 18.2.29 / Part 4): what
    sheet and workbook protection store.  It only deters; it does not protect."""
    digest = 0
    for ch in password[::-1]:
        digest = ((digest >> 14) & 0x01) | ((digest << 1) & 0x7FFF)
        digest ^= ord(ch)
    digest = ((digest >> 14) & 0x01) | ((digest << 1) & 0x7FFF)
    digest ^= len(password) ^ 0xCE4B
    return f"{digest:X}"


def lock_structure(xlsx: bytes, password: str) -> bytes:
    """Add ``<workbookProtection lockStructure="1"/>`` to xl/workbook.xml, so sheets
    cannot be added, deleted, renamed, moved or unhidden.  xlsxwriter has no call for
    it; the element goes right before <bookViews>, where the schema wants it."""
    attrs = f' workbookPassword="{legacy_hash(password)}"' if password else ""
    element = f'<workbookProtection{attrs} lockStructure="1"/>'.encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/workbook.xml":
                if b"<workbookProtection" not in data:
                    if b"<bookViews" not in data:
                        raise ValueError("工作簿结构异常：找不到 bookViews")
                    data = data.replace(b"<bookViews", element + b"<bookViews", 1)
            dst.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()
