"""中文 text folded to a screen's width the way 中文 is set: a line may break between any
two characters, never inside a run of ASCII (a number, a cell reference, "251000元"'s
digits), a closing mark (，。）…) never starts a line and an opening one never ends it.  rich wraps only at spaces,
which in 中文 leaves a short line before every number."""

from __future__ import annotations

import re

from rich.cells import cell_len

_TOKEN = re.compile(r"[\x21-\x7e]+|.", re.DOTALL)  # a run of visible ASCII, or one character
_CLOSING = set("，。、；：？！）》」』】”’%,.;:?!)]}")
_OPENING = set("（《「『【“‘([{")


def fold(text: str, width: int) -> list[str]:
    """``text`` as lines of at most ``width`` cells (a longer ASCII run is cut)."""
    width = max(width, 4)
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line: list[str] = []
        used = 0
        for token in _pieces(paragraph, width):
            size = cell_len(token)
            if used + size > width and line:
                carried = _carried(line, token)
                lines.append("".join(line).rstrip())
                line = [t for t in carried if not t.isspace()]
                used = sum(map(cell_len, line))
                if token.isspace():
                    continue
            line.append(token)
            used += size
        lines.append("".join(line).rstrip())
    return lines


def _carried(line: list[str], token: str) -> list[str]:
    """What moves down from ``line`` with ``token``: the characters before a closing mark
    (down to one that is not), and an opening mark left at the end."""
    carried: list[str] = []
    if token[0] in _CLOSING:
        while len(line) > 1:
            carried.insert(0, line.pop())
            if carried[0][0] not in _CLOSING and not carried[0].isspace():
                break
    while len(line) > 1 and line[-1] in _OPENING:
        carried.insert(0, line.pop())
    return carried


def _pieces(text: str, width: int):
    for token in _TOKEN.findall(text):
        while cell_len(token) > width:  # an ASCII run wider than the screen: cut it
            yield token[:width]
            token = token[width:]
        yield token
