"""Text from outside (file names, agency names, what was typed into a cell) made safe to
show: on a terminal, in a workbook, in a mail.

- A file name that is not UTF-8 (GBK bytes from a zip made on Windows) reaches Python
  with lone surrogates (surrogateescape); no encoder accepts them.  Shown, it is decoded
  as GBK when it is GBK, else its undecodable bytes become U+FFFD.  The file itself is
  always opened and written through its real name (os.fsencode gives the bytes back).
- Control characters (an ESC sequence in a file name would drive the terminal) and
  bidirectional overrides are dropped; ``shown_name`` also flattens line breaks.
Markup (``[/b]`` for rich) is not this module's concern: printers print text as text.
"""

from __future__ import annotations

import os
import re

# C0 (except tab and line feed), DEL, C1; bidi embeddings, overrides and isolates.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_BREAKS = re.compile(r"[\t\n]+")
REPLACEMENT = "\ufffd"


def shown(text: object) -> str:
    """``text`` as it can be shown anywhere (line breaks and tabs kept)."""
    text = "" if text is None else str(text)
    if _SURROGATE.search(text):
        text = _decoded(text)
    return _CONTROL.sub("", text)


def shown_name(path: str | os.PathLike) -> str:
    """The last part of ``path`` as it can be shown, on one line."""
    name = os.path.basename(os.fspath(path).rstrip("/")) or os.fspath(path)
    return _BREAKS.sub(" ", shown(name))


def encodable(text: str) -> str:
    """``text`` with any lone surrogate written as a JSON-style ``\\udcxx`` escape, for a
    JSON document: json.loads gives the same string back, os.fsencode the same bytes."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _decoded(text: str) -> str:
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that is no escaped byte
        return _SURROGATE.sub(REPLACEMENT, text)
    for encoding in ("utf-8", "gbk"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", "replace")
