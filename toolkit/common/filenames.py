"""File names built from agency names: safe on Windows (where most recipients are) and on
Linux, with the Chinese kept readable."""

from __future__ import annotations

import re
import unicodedata

from toolkit.common.display import REPLACEMENT, shown

# Characters Windows refuses in a file name, plus control characters (C0, DEL, C1).
_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f-\x9f]')
_SURROGATES = re.compile("[\ud800-\udfff]")
_SPACES = re.compile(r"\s+")  # U+3000 and no-break spaces included
# Device names Windows reserves whatever the extension ("CON.xlsx" is the console).
_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {
    f"{dev}{n}" for dev in ("COM", "LPT") for n in (*"123456789", "¹", "²", "³")
}
MAX_CHARS = 80  # keeps DIR + name under Windows' 260-character path limit
MAX_BYTES = 240  # Linux allows 255 bytes per name; a Chinese character takes 3
FALLBACK = "未命名"


def _fits(name: str) -> bool:
    return len(name) <= MAX_CHARS and len(name.encode("utf-8")) <= MAX_BYTES


def safe_filename(text: object, suffix: str = "") -> str:
    """``text`` made safe as the stem of a file name, followed by ``suffix`` (e.g.
    ``"_2025年政府信息公开年度报表.xlsx"``; it is cleaned the same way).  The result has no
    character Windows forbids, does not end in a dot or a space, is not a reserved device
    name, and is at most MAX_CHARS characters / MAX_BYTES bytes long (the stem is cut)."""
    suffix = _clean(suffix)
    stem = _clean("" if text is None else str(text))
    if not _fits(suffix + "x"):
        raise ValueError(f"文件名后缀过长：{suffix}")
    while stem and not _fits(stem + suffix):
        stem = stem[:-1]
    # A leading dot would hide the file (".NET应用推广中心" on Linux and macOS).
    stem = stem.rstrip(". ").lstrip(". ")
    if not stem.strip("._ "):
        stem = FALLBACK
    # Windows looks at the part before the first dot: "NUL.2025.xlsx" is reserved too.
    if (stem + suffix).split(".")[0].rstrip(" ").upper() in _RESERVED:
        head, dot, rest = stem.partition(".")
        stem = f"{head.rstrip()}_{dot}{rest}"
    name = stem + suffix
    return name.rstrip(". ") or FALLBACK


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    # Unpaired surrogates (a name that is not UTF-8) cannot be encoded: decoded as GBK
    # where they are GBK, else replaced.
    if _SURROGATES.search(text):
        text = _SURROGATES.sub("_", shown(text).replace(REPLACEMENT, "_"))
    text = _FORBIDDEN.sub("_", text)
    return _SPACES.sub(" ", text).strip()


def unique_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name`` with ``_2``, ``_3``… before its extension, so that it differs
    from every name in ``taken`` ignoring case (Windows and macOS file systems do);
    records the result in ``taken`` (lower-cased)."""
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    candidate, n = name, 1
    while candidate.casefold() in taken:
        n += 1
        tail = f"_{n}" + (f".{ext}" if dot else "")
        cut = stem
        while len(cut) > 1 and not _fits(cut + tail):
            cut = cut[:-1]
        candidate = cut + tail
    taken.add(candidate.casefold())
    return candidate
