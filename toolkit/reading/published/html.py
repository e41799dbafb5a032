"""Web pages (.html/.htm) and web archives (.mht) through lxml: tables with rowspan and
colspan laid out as a browser does, paragraphs in order.

Encoding: a byte-order mark, else the declared charset (meta or MIME header), else
UTF-8, else GB18030 (which reads GB2312 and GBK too).  Word's pages put &nbsp; in blank
cells and <o:p> after every paragraph: a cell of no-break spaces is a blank cell, and
<o:p> adds nothing else."""

from __future__ import annotations

import email
import email.policy
import re

from toolkit.reading.published.document import Block, Cell, Document

_CHARSET = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9_\-]+)""", re.I)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "div", "title", "caption"}
GB = {"gb2312", "gbk", "gb18030", "x-gbk", "cp936", "hz-gb-2312"}


def read_html(data: bytes, *, mht: bool = False) -> Document:
    charset = None
    if mht:
        data, charset = mht_html(data)
    text = decode(data, charset)
    import lxml.html

    root = lxml.html.document_fromstring(_XML_DECL.sub("", text) or "<html/>")
    doc = Document("mht" if mht else "html")
    tables = 0
    for el in root.iter():
        if not isinstance(el.tag, str) or _inside_table(el):
            continue
        tag = el.tag.lower().split(":")[-1] if ":" not in el.tag else el.tag.lower()
        if tag == "table":
            tables += 1
            doc.blocks.append(Block(_rows(el, tables)))
        elif tag in BLOCKS and not any(isinstance(c.tag, str) and c.tag.lower() in BLOCKS | {"table"}
                                       for c in el.iterdescendants()):
            words = _text(el).strip()
            if words:
                doc.paragraph(words, {"paragraph": len(doc.blocks) + 1})
    return doc


def decode(data: bytes, charset: str | None = None) -> str:
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(enc, "replace")
    declared = charset
    if declared is None:
        m = _CHARSET.search(data[:8192])
        declared = m.group(1).decode("ascii") if m else None
    tries = []
    if declared:
        tries.append("gb18030" if declared.lower() in GB else declared)
    tries += ["utf-8", "gb18030"]
    for enc in tries:
        try:
            return data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("gb18030", "replace")


def mht_html(data: bytes) -> tuple[bytes, str | None]:
    """The first text/html part of a MIME archive, transfer-decoded, and its charset."""
    msg = email.message_from_bytes(data, policy=email.policy.compat32)
    for part in msg.walk():
        if part.get_content_type() == "text/html":
            return part.get_payload(decode=True) or b"", part.get_content_charset()
    return b"", None


def _inside_table(el) -> bool:
    return any(isinstance(a.tag, str) and a.tag.lower() == "table" for a in el.iterancestors())


def _text(el) -> str:
    """The element's words; paragraphs inside a cell become lines."""
    parts = []
    for p in el.iter():
        if p is not el and isinstance(p.tag, str) and p.tag.lower() in ("p", "br", "div"):
            parts.append("\n")
        if p.text and isinstance(p.tag, str):
            parts.append(p.text)
        if p is not el and p.tail:
            parts.append(p.tail)
    return "".join(parts).strip("\n")


def _rows(table, table_no: int) -> list[list[Cell]]:
    rows = []
    for r, tr in enumerate((t for t in table.iter("tr") if _own(t, table)), start=1):
        cells = []
        for td in tr:
            if not isinstance(td.tag, str) or td.tag.lower() not in ("td", "th"):
                continue
            cells.append(Cell(_text(td), {"table": table_no, "row": r},
                              colspan=_span(td.get("colspan")), rowspan=_span(td.get("rowspan"))))
        rows.append(cells)
    return rows


def _own(tr, table) -> bool:
    """A row of this table, not of a table nested in one of its cells."""
    return next((a for a in tr.iterancestors() if a.tag.lower() == "table"), None) is table


def _span(value) -> int:
    try:
        return max(1, min(int(str(value).strip()), 1000))
    except (TypeError, ValueError):
        return 1
