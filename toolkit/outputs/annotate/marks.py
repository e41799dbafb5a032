"""The marks on a flagged sheet: a conditional format per flagged cell that outranks the
template's own (priority 1, stop if true) and is bound to the value the check saw, so it
clears itself once the clerk changes that value (the comment stays); plus the sheet's
links to its comments (legacyDrawing) and comments printed at the end of the sheet.

Ours are recognisable in a copy of a copy: every formula of ours holds TAG, a term that is
always true (``N("校验工具")=0``) and that survives any program's re-save."""

from __future__ import annotations

import re

from lxml import etree

from toolkit.outputs.annotate.package import child, children, clean, insert_in_order, local

ORDER = ("sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "sheetCalcPr",
         "sheetProtection", "protectedRanges", "scenarios", "autoFilter", "sortState",
         "dataConsolidate", "customSheetViews", "mergeCells", "phoneticPr", "conditionalFormatting",
         "dataValidations", "hyperlinks", "printOptions", "pageMargins", "pageSetup", "headerFooter",
         "rowBreaks", "colBreaks", "customProperties", "cellWatches", "ignoredErrors", "smartTags",
         "drawing", "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects",
         "controls", "webPublishItems", "tableParts", "extLst")
TAG = 'N("校验工具")=0'
_NUMBER = re.compile(r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def cells(root, refs: set[str]) -> dict[str, etree._Element]:
    """The <c> elements of ``refs`` present in the sheet."""
    out = {}
    if refs:
        for c in root.iter("{*}c"):
            r = c.get("r")
            if r in refs:
                out[r] = c
    return out


def _text(s: str) -> str:
    return '"' + s.replace('"', '""') + '"'


def bound(ref: str, c, shared: list[str] | None) -> str:
    """A formula TRUE while cell ``ref`` holds what it holds now (element ``c``, or None
    for a cell not written at all)."""
    if c is None:
        return f"LEN({ref})=0"
    kind = c.get("t", "n")
    v = child(c, "v")
    value = v.text if v is not None and v.text is not None else None
    if kind == "inlineStr":
        is_ = child(c, "is")
        value = "".join(t.text or "" for t in is_.iter() if local(t) == "t") if is_ is not None else ""
        kind = "str"
    elif kind == "s" and value is not None:
        try:
            value, kind = shared[int(value)], "str"
        except (TypeError, ValueError, IndexError):
            return f"ISTEXT({ref})"
    if value is None:
        if child(c, "f") is not None:  # a formula without a stored result
            return f"_xlfn.ISFORMULA({ref})"
        return f"LEN({ref})=0"
    if kind == "b":
        return f"{ref}={'TRUE' if value.strip() in ('1', 'true') else 'FALSE'}"
    if kind == "e":
        return f"ISERROR({ref})"
    if kind in ("str", "s"):
        if value == "":
            return f"LEN({ref})=0"
        if len(value) <= 200 and clean(value) == value and "\n" not in value and "\r" not in value:
            return f"EXACT({ref},{_text(value)})"
        return f"AND(ISTEXT({ref}),LEN({ref})={len(value)})"
    value = value.strip()
    if _NUMBER.fullmatch(value):
        return f"AND(ISNUMBER({ref}),{ref}={value})"
    return f"LEN({ref})>0"


def strip_ours(root) -> int:
    """Removes our conditional formats (rules holding TAG); returns how many rules went."""
    gone = 0
    for cf in children(root, "conditionalFormatting"):
        for rule in children(cf, "cfRule"):
            if any(TAG in (f.text or "") for f in rule if local(f) == "formula"):
                cf.remove(rule)
                gone += 1
        if not children(cf, "cfRule"):
            root.remove(cf)
    return gone


def add(root, marks: list[tuple[str, str, int]]) -> None:
    """``marks``: (cell, formula TRUE while flagged, dxf id).  Ours get priorities 1…n,
    every other rule (extension lists' too) moves down by n, so a mark outranks them."""
    if not marks:
        return
    n = len(marks)
    for el in root.iter("{*}cfRule"):  # extension lists' x14:cfRule too
        if el.get("priority", "").isdigit():
            el.set("priority", str(int(el.get("priority")) + n))
    main = root.tag[1:].partition("}")[0]
    first = next((i for i, c in enumerate(root) if local(c) == "conditionalFormatting"), None)
    for i, (ref, formula, dxf) in enumerate(marks, start=1):
        cf = etree.Element(f"{{{main}}}conditionalFormatting", sqref=ref)
        rule = etree.SubElement(cf, f"{{{main}}}cfRule", type="expression", dxfId=str(dxf),
                                priority=str(i), stopIfTrue="1")
        etree.SubElement(rule, f"{{{main}}}formula").text = f"AND({formula},{TAG})"
        if first is not None:  # ours first, before the template's
            root.insert(first, cf)
            first += 1
        else:
            insert_in_order(root, cf, ORDER)
            first = list(root).index(cf) + 1


def legacy_drawing(root) -> str | None:
    el = child(root, "legacyDrawing")
    if el is None:
        return None
    return next((v for k, v in el.attrib.items() if k.endswith("}id")), None)


def set_legacy_drawing(root, rid: str, r_ns: str) -> None:
    main = root.tag[1:].partition("}")[0]
    el = child(root, "legacyDrawing")
    if el is None:
        el = etree.Element(f"{{{main}}}legacyDrawing", nsmap={"r": r_ns} if r_ns not in root.nsmap.values() else None)
        insert_in_order(root, el, ORDER)
    el.set(f"{{{r_ns}}}id", rid)


def drop_legacy_drawing(root) -> None:
    el = child(root, "legacyDrawing")
    if el is not None:
        root.remove(el)


def comments_at_end(root) -> None:
    """Comments print on a page of their own at the end (paper shows no hover)."""
    el = child(root, "pageSetup")
    if el is None:
        main = root.tag[1:].partition("}")[0]
        el = etree.Element(f"{{{main}}}pageSetup")
        insert_in_order(root, el, ORDER)
    el.set("cellComments", "atEnd")


def unselect(root) -> bool:
    """Clears tabSelected (our sheet is the one selected; two would open grouped)."""
    changed = False
    views = child(root, "sheetViews")
    for view in (views if views is not None else []):
        if view.get("tabSelected") not in (None, "0", "false"):
            del view.attrib["tabSelected"]
            changed = True
    return changed
