"""The 单位名单 (roster of agencies): who should report, and how to reach them.

Read from .xlsx or .csv as offices keep them: the header row may sit under a title, the
CSV may be UTF-8 (with or without BOM) or GBK (what Chinese Excel and WPS save), columns
may be in any order and carry small variations (“单位名称（全称）”, “邮箱”)."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from toolkit.common import atomic
from toolkit.common.display import shown
from toolkit.formats.catalogue import rule
from toolkit.workbook.book import vet
from toolkit.workbook.limits import Unreadable

HEADER_SCAN_ROWS = 30  # how far down to look for the header row
MAX_ROWS = 100_000

# Our own roster columns (not the national format): field -> accepted header spellings,
# compared after removing spaces, brackets' contents and marks like “*”.
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("单位名称", "单位全称", "单位", "机关名称", "部门名称"),
    "contact": ("联系人", "填报人", "联系人姓名"),
    "email": ("电子邮箱", "邮箱", "电子邮件", "邮件地址", "email", "e-mail", "mail"),
    "code": ("单位代码", "统一社会信用代码", "代码", "编码"),
}
HEADERS = {"name": "单位名称", "contact": "联系人", "email": "电子邮箱", "code": "单位代码"}

_NOISE = re.compile(r"[\s*＊:：]|（[^）]*）|\([^)]*\)")


class RosterError(Exception):
    """A roster that cannot be used; the message is 中文 and names the file (and row)."""


@dataclass(frozen=True)
class RosterEntry:
    name: str
    contact: str = ""
    email: str = ""
    code: str = ""
    row: int = 0  # row number in the file (1-based), for messages
    note: str = ""  # 中文: what was normalised in this row (a line break in a cell)


def read_roster(path: str | Path) -> list[RosterEntry]:
    """Every agency of the roster, in file order.  Raises RosterError when the file cannot
    be read, has no 单位名称 column, or lists no agency."""
    path = Path(path)
    if not path.is_file():
        raise RosterError(f"找不到单位名单文件：{path}")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        rows = _xlsx_rows(path)
    elif suffix in (".csv", ".txt"):
        rows = _csv_rows(path)
    else:
        raise RosterError(f"单位名单 {path.name}：不支持 {path.suffix or '无扩展名'} 文件，请另存为 .xlsx 或 .csv 后再试")
    return _entries(path, rows)


def _xlsx_rows(path: Path) -> list[list[object]]:
    from openpyxl import load_workbook

    try:
        vet(path)  # the file's limits, before openpyxl inflates any of it
    except Unreadable as exc:
        detail = f"：{exc.detail}" if exc.detail else ""
        raise RosterError(f"单位名单 {path.name} 无法打开（{rule(exc.code).title}{detail}）") from None
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # any reason a file is not a workbook is the same to the user
        raise RosterError(f"单位名单 {path.name} 无法打开（不是有效的 .xlsx 文件，或已加密）") from None
    try:
        # The first sheet that has a header row; else the first sheet (for the message).
        first: list[list[object]] | None = None
        for ws in wb.worksheets:
            rows = [list(r) for _, r in zip(range(MAX_ROWS), ws.iter_rows(values_only=True))]
            if first is None:
                first = rows
            if _find_header(rows) is not None:
                return rows
        return first or []
    finally:
        wb.close()


def _csv_rows(path: Path) -> list[list[object]]:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):  # gb18030 is a superset of GBK
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes nearly any byte string
        raise RosterError(f"单位名单 {path.name}：无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV")
    # The delimiter under which the header row shows up; Excel's comma first.
    for delimiter in (",", "\t", ";", "，"):
        rows = [list(r) for r in csv.reader(io.StringIO(text), delimiter=delimiter)]
        if _find_header(rows) is not None:
            return rows
    return rows


def _norm(value: object) -> str:
    return _NOISE.sub("", unicodedata.normalize("NFKC", str(value))).casefold() if value is not None else ""


def _text(value: object) -> str:
    """A cell as text: whole floats without “.0”, outer spaces (U+3000 too) removed, a
    line break typed in the cell (Alt+Enter) made a space, control characters dropped:
    a roster value ends up in file names and mail headers, where neither may appear."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = _BREAKS.sub(" ", str(value))
    return shown(text).replace("\t", " ").strip().strip("\u3000\u00a0\ufeff").strip()


_BREAKS = re.compile(r"\s*[\r\n\v\f\x85\u2028\u2029]+\s*")


def _note(row: list[object], cols: dict[str, int], i: int) -> str:
    broken = [HEADERS[f] for f, j in cols.items() if j < len(row) and isinstance(row[j], str)
              and _BREAKS.search(row[j].strip())]
    return f"单位名单第 {i} 行：{'、'.join(broken)}中有换行，已按一行处理" if broken else ""


def _find_header(rows: list[list[object]]) -> tuple[int, dict[str, int]] | None:
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        found: dict[str, int] = {}
        for j, cell in enumerate(row):
            key = _norm(cell)
            for field, names in COLUMNS.items():
                if field not in found and key in {n.casefold() for n in names}:
                    found[field] = j
        if "name" in found:
            return i, found
    return None


def _entries(path: Path, rows: list[list[object]]) -> list[RosterEntry]:
    header = _find_header(rows)
    if header is None:
        raise RosterError(
            f"单位名单 {path.name}：前 {HEADER_SCAN_ROWS} 行中没有找到“单位名称”列。"
            "请在表头写上“单位名称”（可另有“联系人”“电子邮箱”“单位代码”列）"
        )
    start, cols = header
    entries = []
    for i, row in enumerate(rows[start + 1 :], start=start + 2):
        values = {f: _text(row[j]) if j < len(row) else "" for f, j in cols.items()}
        if not any(values.values()):
            continue  # blank row
        if not values["name"]:
            filled = "、".join(HEADERS[f] for f, v in values.items() if v)
            raise RosterError(f"单位名单 {path.name} 第 {i} 行：填了{filled}，但“单位名称”为空")
        entries.append(RosterEntry(values["name"], values.get("contact", ""),
                                   values.get("email", ""), values.get("code", ""), row=i,
                                   note=_note(row, cols, i)))
    if not entries:
        raise RosterError(f"单位名单 {path.name}：表头（第 {start + 1} 行）下面没有任何单位")
    return entries


def write_sample_roster(path: str | Path, entries: list[RosterEntry]) -> Path:
    """A roster file with our four columns (.xlsx, or .csv in UTF-8 with BOM), written
    atomically."""
    path = Path(path)
    rows = [[e.name, e.contact, e.email, e.code] for e in entries]
    header = [HEADERS[f] for f in ("name", "contact", "email", "code")]
    if path.suffix.lower() == ".csv":
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerows([header, *rows])
        atomic.write_bytes(path, buf.getvalue().encode("utf-8-sig"))
        return path
    import xlsxwriter

    with atomic.atomic_path(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_numbers": False, "strings_to_formulas": False,
                                            "strings_to_urls": False})
        ws = wb.add_worksheet("单位名单")
        bold = wb.add_format({"bold": True, "border": 1, "bg_color": "#DDEBF7"})
        ws.write_row(0, 0, header, bold)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row):
                ws.write_string(r, c, value)
        ws.set_column(0, 0, 36)
        ws.set_column(1, 1, 12)
        ws.set_column(2, 2, 28)
        ws.set_column(3, 3, 22)
        ws.freeze_panes(1, 0)
        wb.close()
    return path
