"""Where messages come from: a check's OUTDIR (findings.json and the annotated copies), a
batch of per-agency templates, and the roster that says who gets what at which address."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from email.headerregistry import Address
from email.utils import getaddresses
from pathlib import Path, PurePath

from toolkit.common.agency import first_rows, normalize_agency
from toolkit.common.oserrors import why
from toolkit.formats import stamp
from toolkit.formats.catalogue import rule
from toolkit.mailing.transport import MailError
from toolkit.outputs import findings_json
from toolkit.reading.roster import RosterEntry
from toolkit.workbook.book import vet
from toolkit.workbook.limits import Unreadable

_SEPARATORS = re.compile(r"[;,，；、\s]+")
_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\".]+$")
_YEAR_IN_NAME = re.compile(r"(?<!\d)(20\d{2})年")
_TEMPLATE_SUFFIXES = (".xlsx", ".xlsm")


def parse_addresses(text: str | None) -> tuple[list[str], list[str]]:
    """The addresses in a roster's 电子邮箱 cell (several may be separated by ; , 、 or
    spaces; ``名字 <a@b.cn>`` is fine) -> (valid, invalid)."""
    text = unicodedata.normalize("NFKC", text or "").strip()
    if not text:
        return [], []
    if "<" not in text:  # bare addresses: any separator people use
        text = ", ".join(t for t in _SEPARATORS.split(text) if t)
    else:
        text = re.sub(r"[;；，、]", ",", text)
    valid, invalid = [], []
    for _name, addr in getaddresses([text]):
        addr = addr.strip()
        if not addr:
            continue
        try:
            ok = bool(_ADDRESS.match(addr)) and Address(addr_spec=addr).addr_spec == addr
        except (ValueError, IndexError, TypeError):
            ok = False
        target = valid if ok else invalid
        if addr not in target:
            target.append(addr)
    if not valid and not invalid:
        invalid.append(text)
    return valid, invalid


class RosterIndex:
    """Finds the roster entry an agency name or a file name belongs to."""

    def __init__(self, entries: list[RosterEntry]):
        self._by_name, repeats = first_rows(entries)
        # 中文 notes: an agency listed twice gets one message
        self.duplicates = [f"单位名单中“{e.name}”出现了多次，只按第一次{f'（第 {first.row} 行）' if first.row else ''}"
                           "的邮箱发送一封" for e, first in repeats]
        self.entries = list(self._by_name.values())  # roster order, each agency once

    def find(self, agency: str | None) -> RosterEntry | None:
        return self._by_name.get(normalize_agency(agency)) if agency else None

    def in_file_name(self, path: str | None) -> RosterEntry | None:
        """The roster agency whose name the file name contains (the longest, so that
        某某局 does not take 某某局办公室's file)."""
        stem = normalize_agency(PurePath(str(path or "")).stem)
        hits = [(len(n), e) for n, e in self._by_name.items() if n and n in stem]
        return max(hits, key=lambda h: h[0])[1] if hits else None

    def match(self, agency: str | None, path: str | None, stamped: str | None = None) -> RosterEntry | None:
        """By the name typed, else the name the template was made for, else the file name."""
        return self.find(agency) or self.find(stamped) or self.in_file_name(path)


def read_findings(outdir: Path) -> dict:
    """findings.json of ``outdir`` (outputs.findings_json), checked enough to be relied on."""
    try:
        return findings_json.read(outdir)
    except findings_json.FindingsError as exc:
        raise MailError(str(exc)) from None


def common_year(files: list[dict]) -> int | None:
    years = Counter(f.get("year") for f in files if isinstance(f.get("year"), int))
    return years.most_common(1)[0][0] if years else None


def annotated_path(outdir: Path, relative: str) -> Path | None:
    """OUTDIR/<relative>, refusing anything that points outside OUTDIR."""
    path = (outdir / relative).resolve()
    root = outdir.resolve()
    return path if path == root or root in path.parents else None


@dataclass(frozen=True)
class TemplateFile:
    path: Path
    agency: str | None  # from the template stamp
    year: int | None
    format_id: str | None
    fingerprint: str | None

    @property
    def key(self) -> str | None:
        """The same template regenerated (new bytes, same stamp) is not sent again."""
        if self.agency and self.year and self.format_id and self.fingerprint:
            return f"stamp:{self.format_id}:{self.year}:{self.fingerprint}"
        return None


def find_templates(directory: Path) -> tuple[list[TemplateFile], list[str]]:
    """Every workbook directly in ``directory`` with its stamp (toolkit.formats.stamp);
    -> (templates, 中文 problems)."""
    if not directory.is_dir():
        raise MailError(f"找不到模板文件夹：{directory}")
    found, problems = [], []
    for path in sorted(directory.iterdir()):
        if (not path.is_file() or path.suffix.lower() not in _TEMPLATE_SUFFIXES
                or path.name.startswith(("~$", "."))):
            continue
        try:
            stamp = read_stamp(path)
        except Unreadable as exc:  # over the limits, or no workbook: never send it
            detail = f"：{exc.detail}" if exc.detail else ""
            problems.append(f"{path.name}：无法打开，已跳过（{rule(exc.code).title}{detail}）")
            continue
        except Exception as exc:  # not a workbook we can open: never send it
            problems.append(f"{path.name}：无法打开，已跳过（{why(exc)}）")
            continue
        year = _int(stamp.get("year"))
        if year is None:
            m = _YEAR_IN_NAME.search(path.stem)
            year = int(m.group(1)) if m else None
        found.append(TemplateFile(path, stamp.get("agency") or None, year,
                                  stamp.get("format") or None, stamp.get("fingerprint") or None))
    return found, problems


def read_stamp(path: Path) -> dict[str, str]:
    from openpyxl import load_workbook

    vet(path)  # the file's limits, before openpyxl inflates any of it
    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        props = {str(getattr(p, "name", "")): getattr(p, "value", None)
                 for p in getattr(wb, "custom_doc_props", None) or []}

        def rows():
            if stamp.SHEET not in wb.sheetnames:
                return ()
            return wb[stamp.SHEET].iter_rows(min_col=1, max_col=2, values_only=True)

        return stamp.read(props, rows)
    finally:
        wb.close()


def _int(value: object) -> int | None:
    try:
        return int(float(str(value).strip()))
    except (TypeError, ValueError):
        return None
