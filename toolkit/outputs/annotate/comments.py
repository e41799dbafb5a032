"""Comments on flagged cells: the sheet's comments part (created, or the agency's own
added to) and the legacy VML drawing that shows them.

Ours are recognisable in a copy of a copy without any record: a comment whose author is
AUTHOR is ours entirely; in an agency's comment, our part starts at a run reading MARK
(as Excel starts a comment with its author's name in bold).  On a cell that already has
the agency's comment, one comment holds both, theirs first; re-annotating removes only
from MARK on.  VML is edited as text: Excel writes it loosely (not always well-formed)."""

from __future__ import annotations

import re
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

from toolkit.outputs.annotate.package import child, clean, local

AUTHOR = "校验工具"  # author of our comments
MARK = AUTHOR + "："  # first run of our part of a comment
WIDTH_PT, LINE_CHARS = 240, 20  # our comment box; 中文 characters per line at 9 pt


def empty(main_ns: str) -> etree._Element:
    return etree.fromstring(f'<comments xmlns="{main_ns}"><authors/><commentList/></comments>'.encode())


def _text_of(el) -> str:
    return "".join(t.text or "" for t in el.iter() if local(t) == "t")


def strip_ours(root) -> set[str]:
    """Removes our comments and our part of agencies' comments; returns the refs whose
    comment is gone entirely (their VML shapes must go too)."""
    holder = child(root, "authors")
    authors = [a.text or "" for a in holder] if holder is not None else []
    lst = child(root, "commentList")
    gone: set[str] = set()
    if lst is None:
        return gone
    for c in list(lst):
        if local(c) != "comment":
            continue
        try:
            author = authors[int(c.get("authorId", "-1"))]
        except (ValueError, IndexError):
            author = ""
        text = child(c, "text")
        if author == AUTHOR:
            lst.remove(c)
            gone.add(c.get("ref", "").upper())
        elif text is not None:
            runs = [r for r in text if local(r) == "r"]
            for i, r in enumerate(runs):
                if _text_of(r).lstrip("\n").startswith(MARK):
                    for later in runs[i:]:
                        text.remove(later)
                    break
    return gone


def add(root, ref: str, lines: list[str]) -> bool:
    """Our lines on cell ``ref``: appended to the agency's comment there, or a new comment
    by AUTHOR.  True when a new comment (needing a VML shape) was made."""
    main = root.tag[1:].partition("}")[0]
    q = lambda name: f"{{{main}}}{name}"  # noqa: E731
    authors = child(root, "authors")
    if authors is None:
        authors = etree.Element(q("authors"))
        root.insert(0, authors)
    lst = child(root, "commentList")
    if lst is None:
        lst = etree.SubElement(root, q("commentList"))
    existing = next((c for c in lst if local(c) == "comment" and c.get("ref", "").upper() == ref), None)
    if existing is not None and child(existing, "text") is not None:
        text = child(existing, "text")
        plain = child(text, "t")
        if plain is not None:  # plain text: make it a run so ours can follow as runs
            run = etree.Element(q("r"))
            text.replace(plain, run)
            run.append(plain)
        text.extend(_runs(q, "\n" + MARK, lines))
        return False
    names = [a.text or "" for a in authors]
    if AUTHOR not in names:
        etree.SubElement(authors, q("author")).text = AUTHOR
        names.append(AUTHOR)
    comment = etree.SubElement(lst, q("comment"), ref=ref, authorId=str(names.index(AUTHOR)))
    text = etree.SubElement(comment, q("text"))
    text.extend(_runs(q, MARK, lines))
    return True


def _runs(q, mark: str, lines: list[str]) -> list:
    out = []
    for words, bold in ((mark, True), ("\n" + "\n".join(lines), False)):
        r = etree.Element(q("r"))
        pr = etree.SubElement(r, q("rPr"))
        if bold:
            etree.SubElement(pr, q("b"))
        etree.SubElement(pr, q("sz"), val="9")
        etree.SubElement(pr, q("rFont"), val="宋体")
        etree.SubElement(pr, q("charset"), val="134")
        t = etree.SubElement(r, q("t"))
        t.text = clean(words)
        t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        out.append(r)
    return out


def is_empty(root) -> bool:
    lst = child(root, "commentList")
    return lst is None or not any(local(c) == "comment" for c in lst)


# ------------------------------------------------------------------ VML

# Prefixes vary by writer (Excel v:/o:/x:, openpyxl ns0:…): matched by local name.
_SHAPE = re.compile(rb"<(\w+:)?shape\b[^>]*>.*?</\1shape\s*>", re.S)
_NOTE = re.compile(rb'ObjectType\s*=\s*"Note"')
_ROW = re.compile(rb"<(?:\w+:)?Row>\s*(\d+)\s*</(?:\w+:)?Row>")
_COL = re.compile(rb"<(?:\w+:)?Column>\s*(\d+)\s*</(?:\w+:)?Column>")
_IDS = re.compile(rb"_x0000_s(\d+)")
_IDMAP = re.compile(rb'<(?:\w+:)?idmap\b[^>]*\bdata\s*=\s*"([\d,\s]+)"')
_SHAPETYPE = re.compile(rb'<(?:\w+:)?shapetype\b[^>]*\bid\s*=\s*"_x0000_t202"')
_NS = (b' xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office"'
       b' xmlns:x="urn:schemas-microsoft-com:office:excel"')
HEAD = (b'<xml' + _NS + b'>\n'
        b' <o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="%d"/></o:shapelayout>\n')
# Our elements declare their namespaces themselves: the agency's VML may use other prefixes.
TYPE = (b' <v:shapetype' + _NS + b' id="_x0000_t202" coordsize="21600,21600" o:spt="202"'
        b' path="m,l,21600r21600,l21600,xe">\n'
        b'  <v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/>\n'
        b' </v:shapetype>\n')


def vml_idmap_blocks(vml: bytes) -> set[int]:
    out = set()
    for m in _IDMAP.finditer(vml):
        out.update(int(x) for x in re.split(rb"[,\s]+", m.group(1)) if x)
    return out


def vml_new(block: int) -> bytes:
    return HEAD % block + TYPE + b"</xml>"


def vml_strip(vml: bytes, cells: set[tuple[int, int]]) -> bytes:
    """Drops the note shapes of ``cells`` (0-based row, column)."""
    def keep(m) -> bytes:
        shape = m.group(0)
        row, col = _ROW.search(shape), _COL.search(shape)
        if _NOTE.search(shape) and row and col and (int(row.group(1)), int(col.group(1))) in cells:
            return b""
        return shape
    return _SHAPE.sub(keep, vml) if cells else vml


def vml_has_shapes(vml: bytes) -> bool:
    return _SHAPE.search(vml) is not None


def vml_add(vml: bytes, notes: list[tuple[int, int, int]]) -> bytes:
    """Hidden note shapes for (row, column, lines) (0-based), as Excel writes them."""
    if not notes:
        return vml
    used = [int(x) for x in _IDS.findall(vml)]
    blocks = vml_idmap_blocks(vml) or {1}
    next_id = max(used + [min(blocks) * 1024]) + 1
    shapes = []
    if not _SHAPETYPE.search(vml):
        shapes.append(TYPE)
    for row, col, lines in notes:
        height = min(40 + 12 * lines, 400)
        rows_down = max(3, height // 15)
        anchor = f"{col + 1}, 15, {max(row - 1, 0)}, 10, {col + 5}, 15, {max(row - 1, 0) + rows_down}, 4"
        style = (f"position:absolute;margin-left:60pt;margin-top:2pt;width:{WIDTH_PT}pt;"
                 f"height:{height}pt;z-index:{next_id};visibility:hidden")
        shapes.append((
            f' <v:shape{_NS.decode()} id="_x0000_s{next_id}" type="#_x0000_t202" style={quoteattr(style)}'
            f' fillcolor="#ffffe1" o:insetmode="auto">\n'
            f'  <v:fill color2="#ffffe1"/><v:shadow on="t" color="black" obscured="t"/>'
            f'<v:path o:connecttype="none"/>\n'
            f'  <v:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div></v:textbox>\n'
            f'  <x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
            f'<x:Anchor>{escape(anchor)}</x:Anchor><x:AutoFill>False</x:AutoFill>'
            f'<x:Row>{row}</x:Row><x:Column>{col}</x:Column></x:ClientData>\n'
            f' </v:shape>\n').encode())
        next_id += 1
    end = vml.rfind(b"</xml>")
    if end < 0:
        return vml + b"".join(shapes)
    return vml[:end] + b"".join(shapes) + vml[end:]


def line_count(lines: list[str]) -> int:
    return sum(max(1, -(-len(line) // LINE_CHARS)) for line in lines) + 1
