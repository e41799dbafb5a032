"""What a file is, decided by its content, never by its extension.

    empty                                   -> F1
    ZIP holding an OOXML workbook            -> read by toolkit.workbook.ooxml
    ZIP holding anything else (.docx, .ods…) -> F2, detail naming what it is
    truncated / corrupt ZIP                  -> F3
    OLE2 with EncryptionInfo+EncryptedPackage (a password-protected .xlsx) -> F4
    OLE2 with a Workbook/Book stream (.xls, .et saved as BIFF)              -> toolkit.workbook.biff
    any other OLE2 (.doc, .ppt, .msg …)                                     -> F5
    raw BIFF2–5 stream (very old .xls)       -> toolkit.workbook.biff
    text (CSV, HTML, XML …) or other binary  -> F2, detail naming what it is
"""

from __future__ import annotations

import contextlib
import io
import pyexpat
import struct
import zipfile
import zlib
from pathlib import Path

from toolkit.workbook.limits import Limits, Unreadable, fmt_mb, fmt_number

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
HEAD = 8192


def family(path: Path, limits: Limits) -> str:
    """'zip' or 'biff' (an OLE2 or raw BIFF workbook); raises Unreadable for anything
    that is not a workbook we can read."""
    size = path.stat().st_size
    if size == 0:
        raise Unreadable("F1", "0 字节")
    if size > limits.max_file_bytes:
        raise Unreadable("F6", f"文件大小 {fmt_mb(size)}，超过上限 {fmt_number(limits.max_file_mb)} MB")
    with open(path, "rb") as f:
        head = f.read(HEAD)
    if head.startswith(ZIP_MAGIC):
        return "zip"
    if head.startswith(OLE2_MAGIC):
        classify_ole2(path.read_bytes())
        return "biff"
    if _is_raw_biff(head):
        return "biff"
    raise Unreadable("F2", describe(head))


# ------------------------------------------------------------------ ZIP


def classify_zip(names: list[str], main: str | None, read_small) -> str:
    """The workbook part's name (lower-cased), or F2 when the ZIP is not a workbook.

    ``names``: lower-cased member names; ``main``: the package's officeDocument target
    from _rels/.rels (lower-cased) if any; ``read_small(name) -> bytes`` reads a small
    member (ODF's mimetype)."""
    has = set(names).__contains__
    if has("xl/workbook.bin") or (main or "").endswith(".bin"):
        raise Unreadable("F2", "Excel 二进制工作簿（.xlsb）")
    if main and has(main) and main.endswith(".xml") and (main.startswith("xl/") or "workbook" in main):
        return main
    if has("xl/workbook.xml"):
        return "xl/workbook.xml"
    if has("word/document.xml"):
        raise Unreadable("F2", "Word 文档")
    if has("ppt/presentation.xml"):
        raise Unreadable("F2", "PowerPoint 演示文稿")
    if has("mimetype"):
        mime = read_small("mimetype").decode("ascii", "replace").strip()
        kinds = {
            "application/vnd.oasis.opendocument.spreadsheet": "OpenDocument 表格（.ods）",
            "application/vnd.oasis.opendocument.text": "OpenDocument 文本（.odt）",
            "application/vnd.oasis.opendocument.presentation": "OpenDocument 演示文稿（.odp）",
            "application/epub+zip": "电子书（EPUB）",
        }
        raise Unreadable("F2", kinds.get(mime, "OpenDocument 文件"))
    if has("content.xml") or has("index.xml"):
        raise Unreadable("F2", "WPS/Numbers 等其他格式的文件")
    if any(n.startswith("xl/") for n in names):
        raise Unreadable("F3", "缺少 xl/workbook.xml")  # an .xlsx that lost its workbook part
    if not names:
        raise Unreadable("F2", "空的 ZIP 压缩包")
    raise Unreadable("F2", f"ZIP 压缩包（内含 {len(names)} 个文件），请解压后报送其中的 Excel 工作簿")


# ------------------------------------------------------------------ OLE2


def classify_ole2(data: bytes) -> None:
    """Return for an OLE2 holding a BIFF workbook; raise F4/F5/F3 otherwise."""
    from xlrd.compdoc import CompDoc

    try:
        doc = CompDoc(data, logfile=io.StringIO())
        streams = {d.name for d in doc.dirlist if d.name}
    except MemoryError as exc:
        raise Unreadable("F6", "内存不足，文件内容过大") from exc
    except Exception as exc:  # noqa: BLE001 - CompDocError, AssertionError, IndexError … on a broken file
        raise Unreadable("F3", "OLE2 复合文件已损坏") from exc
    if {"EncryptionInfo", "EncryptedPackage"} <= streams:
        raise Unreadable("F4", "加密的 Excel 工作簿")
    if "Workbook" in streams or "Book" in streams:
        return
    if "WordDocument" in streams:
        raise Unreadable("F5", "Word 97-2003 文档")
    if "PowerPoint Document" in streams:
        raise Unreadable("F5", "PowerPoint 97-2003 演示文稿")
    if "__properties_version1.0" in streams:
        raise Unreadable("F5", "Outlook 邮件")
    raise Unreadable("F5", "OLE2 复合文件，不是 Excel 工作簿")


def _is_raw_biff(head: bytes) -> bool:
    """A BIFF2–5 BOF record at offset 0 (files older than Excel 97, not in OLE2)."""
    if len(head) < 8:
        return False
    rc, length = struct.unpack("<HH", head[:4])
    return rc in (0x0009, 0x0209, 0x0409, 0x0809) and 4 <= length <= 20


# ------------------------------------------------------------------ everything else


def describe(head: bytes) -> str:
    """A 中文 phrase naming what a non-workbook file looks like."""
    binary = {
        b"%PDF": "PDF 文件",
        b"\x89PNG": "PNG 图片",
        b"\xff\xd8\xff": "JPEG 图片",
        b"GIF8": "GIF 图片",
        b"Rar!": "RAR 压缩包",
        b"7z\xbc\xaf": "7z 压缩包",
        b"\x1f\x8b": "gzip 压缩文件",
        b"{\\rtf": "RTF 文档",
        b"MZ": "程序文件",
    }
    for magic, what in binary.items():
        if head.startswith(magic):
            return what
    text = _decode(head)
    if text is None:
        return "无法识别的文件类型"
    low = text.lstrip("\ufeff \t\r\n").lower()
    if low.startswith("mime-version") or "content-type: multipart/related" in low[:2000]:
        return "网页存档（MHT）"
    if "urn:schemas-microsoft-com:office:spreadsheet" in low:
        return "Excel 2003 XML 表格"
    if low.startswith("<") and any(t in low for t in ("<html", "<!doctype html", "<table", "<body", "<head")):
        return "网页（HTML）"
    if low.startswith("<?xml") or low.startswith("<"):
        return "XML 或网页文件"
    lines = [ln for ln in text.splitlines()[:20] if ln.strip()]
    if lines and sum("," in ln or "，" in ln for ln in lines) >= max(1, len(lines) // 2):
        return "CSV 文本"
    if lines and sum("\t" in ln for ln in lines) >= max(1, len(lines) // 2):
        return "制表符分隔的文本"
    return "纯文本"


def _decode(head: bytes) -> str | None:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return head[: len(head) // 2 * 2].decode("utf-16", "strict")
        except UnicodeDecodeError:
            return None
    if b"\x00" in head:
        return None
    for enc in ("utf-8", "gb18030"):
        try:
            return head.decode(enc)
        except UnicodeDecodeError as exc:
            if enc == "utf-8" and exc.start >= len(head) - 4:  # cut mid-character
                return head[: exc.start].decode(enc)
    return None


# ------------------------------------------------------------------ every error path -> Unreadable


@contextlib.contextmanager
def guard(where: str = ""):
    """Turn whatever a broken file makes the parsers raise into Unreadable (F3/F6)."""
    at = f"{where}：" if where else ""
    try:
        yield
    except Unreadable:
        raise
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        raise
    except zipfile.BadZipFile as exc:
        raise Unreadable("F3", f"{at}压缩包已损坏或不完整") from exc
    except zlib.error as exc:
        raise Unreadable("F3", f"{at}压缩数据已损坏") from exc
    except pyexpat.ExpatError as exc:
        raise Unreadable("F3", f"{at}XML 格式错误（第 {exc.lineno} 行）") from exc
    except UnicodeError as exc:
        raise Unreadable("F3", f"{at}文字编码错误") from exc
    except RecursionError as exc:
        raise Unreadable("F3", f"{at}文件结构嵌套过深") from exc
    except MemoryError as exc:
        raise Unreadable("F6", f"{at}内存不足，文件内容过大") from exc
    except NotImplementedError as exc:
        raise Unreadable("F3", f"{at}使用了不支持的压缩方式") from exc
    except Exception as exc:  # noqa: BLE001 - a hostile file can make any parser fail
        raise Unreadable("F3", f"{at}文件结构异常") from exc
