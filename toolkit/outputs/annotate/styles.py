"""styles.xml, appended to: the marks' differential formats (dxfs, used by the marks'
conditional formats) and the cell formats of the 校验结果 sheet (cellXfs with their
fonts, fills and borders).  Nothing the agency's cells use is changed or renumbered; an
entry equal to one already there is reused, so a copy of a copy does not grow."""

from __future__ import annotations

import copy

from lxml import etree

from toolkit.outputs.annotate.package import Package, child, insert_in_order, local, ns, serialize

ORDER = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles",
         "dxfs", "tableStyles", "colors", "extLst")
_MINIMAL = (b'<styleSheet xmlns="{ns}"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font>'
            b'</fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill '
            b'patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/>'
            b'<bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" '
            b'fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0" '
            b'fillId="0" borderId="0" xfId="0"/></cellXfs></styleSheet>')


def signature(el) -> bytes:
    """An entry as written, in its list (same namespace context): equal ones are reused."""
    return etree.tostring(el)


class Styles:
    def __init__(self, pkg: Package, part: str | None, main_ns: str):
        self.pkg, self.part = pkg, part
        self.root = pkg.xml(part) if part and pkg.has(part) else etree.fromstring(
            _MINIMAL.replace(b"{ns}", main_ns.encode()))
        self.ns = ns(self.root) or main_ns
        self.dirty = False
        self._seen: dict[str, dict[tuple, int]] = {}  # list name -> signature -> index

    def _el(self, name: str, **attrs):
        el = etree.Element(f"{{{self.ns}}}{name}")
        for k, v in attrs.items():
            el.set(k, str(v))
        return el

    def _list(self, name: str):
        el = child(self.root, name)
        if el is None:
            el = self._el(name, count=0)
            insert_in_order(self.root, el, ORDER)
        return el

    def _add(self, list_name: str, entry) -> int:
        """Index of ``entry`` in the list ``list_name``, appended when not there yet."""
        lst = self._list(list_name)
        seen = self._seen.get(list_name)
        if seen is None:
            items = [c for c in lst if isinstance(c.tag, str)]
            seen = self._seen[list_name] = {}
            for i, old in enumerate(items):
                seen.setdefault(signature(old), i)
            seen[None] = len(items)  # how many entries
        lst.append(entry)  # in the list, it is written as the others are
        sig = signature(entry)
        if sig in seen:
            lst.remove(entry)
            return seen[sig]
        n = seen[sig] = seen[None]
        seen[None] = n + 1
        lst.set("count", str(n + 1))
        self.dirty = True
        return n

    def font(self, *, bold: bool = False, size: float | None = None, color: str | None = None,
             underline: bool = False) -> int:
        """The workbook's default font (its typeface shows 中文 as the agency sees it), varied."""
        fonts = [c for c in self._list("fonts") if isinstance(c.tag, str)]
        font = copy.deepcopy(fonts[0]) if fonts else self._el("font")
        for c in list(font):
            if local(c) in ("b", "u", "color") or (size and local(c) == "sz"):
                font.remove(c)
        if size:
            font.insert(0, self._el("sz", val=size))
        if color:
            font.insert(0, self._el("color", rgb=color))
        if underline:
            font.insert(0, self._el("u"))
        if bold:
            font.insert(0, self._el("b"))
        return self._add("fonts", font)

    def fill(self, rgb: str) -> int:
        fill = self._el("fill")
        pattern = etree.SubElement(fill, f"{{{self.ns}}}patternFill", patternType="solid")
        etree.SubElement(pattern, f"{{{self.ns}}}fgColor", rgb=rgb)
        etree.SubElement(pattern, f"{{{self.ns}}}bgColor", rgb=rgb)
        return self._add("fills", fill)

    def box(self, rgb: str) -> int:
        border = self._el("border")
        for side in ("left", "right", "top", "bottom"):
            s = etree.SubElement(border, f"{{{self.ns}}}{side}", style="thin")
            etree.SubElement(s, f"{{{self.ns}}}color", rgb=rgb)
        etree.SubElement(border, f"{{{self.ns}}}diagonal")
        return self._add("borders", border)

    def xf(self, *, font: int = 0, fill: int = 0, border: int = 0, wrap: bool = False,
           horizontal: str | None = None, vertical: str | None = "top") -> int:
        xf = self._el("xf", numFmtId=0, fontId=font, fillId=fill, borderId=border, xfId=0,
                      applyFont=1, applyFill=1, applyBorder=1, applyAlignment=1)
        align = etree.SubElement(xf, f"{{{self.ns}}}alignment")
        for k, v in (("horizontal", horizontal), ("vertical", vertical), ("wrapText", "1" if wrap else None)):
            if v:
                align.set(k, v)
        return self._add("cellXfs", xf)

    def dxf(self, fill_rgb: str, font_rgb: str) -> int:
        """A mark's look: font colour and solid fill (both colours set: Excel reads bgColor
        of a differential fill, other programs fgColor)."""
        dxf = self._el("dxf")
        font = etree.SubElement(dxf, f"{{{self.ns}}}font")
        etree.SubElement(font, f"{{{self.ns}}}color", rgb=font_rgb)
        fill = etree.SubElement(dxf, f"{{{self.ns}}}fill")
        pattern = etree.SubElement(fill, f"{{{self.ns}}}patternFill", patternType="solid")
        etree.SubElement(pattern, f"{{{self.ns}}}fgColor", rgb=fill_rgb)
        etree.SubElement(pattern, f"{{{self.ns}}}bgColor", rgb=fill_rgb)
        return self._add("dxfs", dxf)

    def save(self, part: str) -> None:
        if self.dirty or not self.pkg.has(part):
            self.pkg.put(part, serialize(self.root))
