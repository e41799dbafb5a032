"""Every file in a checked folder gets a verdict.  ``collect`` takes returns and
published reports by their extension; this module looks at the rest by content: a
workbook or a published report under another name (a trailing space, a wrong or no
extension) is checked all the same, anything else (images, archives, .ods, .xlsb,
.csv, Office lock files …) is listed with a 中文 verdict, never skipped silently."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from toolkit.checking.batch import identity, walk
from toolkit.common.oserrors import why
from toolkit.common.paths import absolute
from toolkit.reading.localfile import not_a_file
from toolkit.reading.published.forms import form_of
from toolkit.workbook.book import Unreadable, open_book


@dataclass
class Other:
    path: str
    verdict: str  # 中文

    def to_json(self) -> dict:
        return {"path": str(absolute(self.path)), "verdict": self.verdict}


def sort_out(paths: Iterable[str | os.PathLike], collected: list[Path], outputs) -> tuple[list[Path], list[Other]]:
    """(files to check besides ``collected``, the other files with their verdicts), for
    the folders among ``paths``; ``outputs`` is batch._outputs(OUTDIR)."""
    taken = {identity(p) for p in collected}
    extra: list[Path] = []
    others: list[Other] = []
    for folder in (Path(p) for p in paths):
        if not folder.is_dir():
            continue
        for f in walk(folder):  # what the toolkit wrote itself is not walked (ownership)
            key = identity(f)
            if key in taken:
                continue
            resolved = absolute(f)
            if resolved in outputs[0] or any(d in resolved.parents for d in outputs[1]):
                continue
            taken.add(key)
            problem = not_a_file(f)  # a FIFO, a device, a broken link: never opened
            verdict = f"{problem.message}，未校验" if problem is not None else _verdict(f)
            if verdict is None:
                extra.append(f)
            else:
                others.append(Other(str(f), verdict))
    return extra, others


def _verdict(path: Path) -> str | None:
    """None: a workbook or a published report, to be checked; else why it is not."""
    if path.name.startswith("~$"):
        return "Office 临时文件（文档打开时自动生成），未校验"
    if path.name.startswith("."):
        return "隐藏文件，未校验"
    if form_of(path) is not None:
        return None
    try:
        with open_book(path):
            return None
    except Unreadable as exc:
        what = exc.detail or "无法识别的文件"
        if exc.code == "F1":
            return "空文件（0 字节），未校验"
        return f"不是报表或已公开的年报（{what}），未校验；报表请另存为 .xlsx，年报请提供 PDF、Word、网页或文本"
    except OSError as exc:
        return f"无法打开（{why(exc)}），未校验"
