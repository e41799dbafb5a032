"""Which form a published report is, by content (as toolkit.workbook.sniff does for
workbooks), and the reader of each form.

    %PDF-                                   pdf
    ZIP with word/document.xml              docx
    OLE2 with a WordDocument stream         doc   (.doc, .wps)
    MIME text (multipart/related)           mht
    text with <html / <table / <body        html
    other text (UTF-8, GB18030, UTF-16)     text, or markdown when it holds | tables
Text forms count only when they speak the format (its title or a group head): a CSV
or a stray note is no report.  A workbook, an image, an archive … is none either:
``form_of`` gives None.
"""

from __future__ import annotations

import importlib
import re
import zipfile
from functools import cache
from pathlib import Path

from toolkit.formats import spec
from toolkit.reading.locate import normalize_label
from toolkit.workbook.gate import vet_zip
from toolkit.workbook.limits import Limits, Unreadable, fmt_mb, fmt_number, time_limit
from toolkit.workbook.sniff import HEAD, OLE2_MAGIC, ZIP_MAGIC, _decode

FORMS = ("pdf", "docx", "doc", "mht", "html", "markdown", "text")
_MD_TABLE = re.compile(r"^\s*\|.*\|\s*$\n^\s*\|?\s*:?-{2,}", re.M)
_TAGS = re.compile(r"<[^>]*>|&nbsp;|&#160;")
TEXT_SNIFF = 1 << 20  # bytes of a text file searched for the format's words
MHT_SNIFF = 64 << 20  # a web archive is MIME-decoded to be looked at up to this size
_HTML = re.compile(rb"<\s*(html|table|body|!doctype\s+html)\b", re.I)
# What each form's reader imports: imported before its timer starts (load).
_LIBRARIES = {"pdf": "pdfplumber", "docx": "docx", "html": "lxml.html", "mht": "lxml.html"}


def form_of(path: Path) -> str | None:
    """The published form of a file, by content; None when it is none of them."""
    try:
        with open(path, "rb") as f:
            head = f.read(HEAD)
    except OSError:
        return None
    if head[:1024].lstrip().startswith(b"%PDF-") or b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(ZIP_MAGIC):
        if b"xl/" in head and b"word/" not in head:
            return None  # a workbook's parts show in its first local headers: no need to list the zip
        try:
            with zipfile.ZipFile(path) as z:
                return "docx" if "word/document.xml" in z.namelist() else None
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
    if head.startswith(OLE2_MAGIC):
        return "doc" if "WordDocument".encode("utf-16-le") in _ole_directory(path) else None
    if _decode(head) is None:
        return None
    with open(path, "rb") as f:
        data = f.read(TEXT_SNIFF)
    text = decode_text(data)
    low = text.lstrip("\ufeff \t\r\n")[:4000].lower()
    if low.startswith("mime-version") or "multipart/related" in low:
        from toolkit.reading.published.html import decode, mht_html

        if path.stat().st_size > MHT_SNIFF:
            return "mht"  # too big to look inside here; loading it says so (F6) or reads it
        return "mht" if _speaks_format(decode(*mht_html(path.read_bytes()))) else None
    if not _speaks_format(text):
        return None  # a CSV, a note, a page about something else: not a report
    if _HTML.search(head):
        return "html"
    if _MD_TABLE.search(text):
        return "markdown"
    return "text"


def _speaks_format(text: str) -> bool:
    """Text holding the format's title or one of its group heads (tags and MIME soft
    line breaks removed first, as a web page splits words with them)."""
    flat = normalize_label(_TAGS.sub("", text.replace("=\r\n", "").replace("=\n", "")))
    return any(word in flat for word in _vocabulary())


@cache
def _vocabulary() -> frozenset[str]:
    words = set()
    for fmt in spec.formats().values():
        words.add(normalize_label(fmt.title))
        words.update(normalize_label(h.text) for p in fmt.parts for h in p.heads if len(h.text) >= 4)
    return frozenset(words)


def _ole_directory(path: Path) -> bytes:
    """Enough of an OLE2 file to find its stream names (directory entries are UTF-16)."""
    with open(path, "rb") as f:
        return f.read(4 << 20)


def load(path: Path, limits: Limits):
    """The Document of a published report; Unreadable for what cannot be read."""
    size = path.stat().st_size
    if size == 0:
        raise Unreadable("F1", "0 字节")
    if size > limits.max_file_bytes:
        raise Unreadable("F6", f"文件大小 {fmt_mb(size)}，超过上限 {fmt_number(limits.max_file_mb)} MB")
    form = form_of(path)
    if form == "doc":  # LibreOffice converts it first, under a timeout of its own
        from toolkit.reading.published.doc import read_doc

        return read_doc(path, limits)
    if form is None:
        raise Unreadable("F2", "不是已公开的年度报告")
    if form in _LIBRARIES:
        importlib.import_module(_LIBRARIES[form])  # before the timer: an import is never cut midway
    with time_limit(limits.max_seconds):
        return _load(path, form, limits)


def _load(path: Path, form: str, limits: Limits):
    if form in ("text", "markdown"):
        from toolkit.reading.published.text import read_text

        return read_text(decode_text(path.read_bytes()), form)
    if form == "docx":
        from toolkit.reading.published.docx import read_docx

        vet_zip(path, limits)  # python-docx inflates every part: the whole file first
        return read_docx(path)
    if form in ("html", "mht"):
        from toolkit.reading.published.html import read_html

        return read_html(path.read_bytes(), mht=form == "mht")
    from toolkit.reading.published.pdf import read_pdf

    return read_pdf(path, limits)


def decode_text(data: bytes) -> str:
    """Text in any encoding Chinese offices save in: a BOM first, then UTF-8, GB18030."""
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(enc, "replace")
    for enc in ("utf-8", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return data.decode("gb18030", "replace")
