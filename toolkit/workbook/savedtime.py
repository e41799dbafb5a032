"""When a workbook says it was last saved: docProps/core.xml's dcterms:modified, which
Excel, WPS, LibreOffice and openpyxl write at every save.  Unlike the file's modification
time it survives mail, download and copying (the download time is not the agency's)."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

from toolkit.workbook.limits import Deadline, Limits, Unreadable
from toolkit.workbook.ooxml.zipguard import _Zip

CORE = "docprops/core.xml"
_MODIFIED = re.compile(rb"<(?:\w+:)?modified\b[^>]*>\s*([^<]+?)\s*</", re.S)


def saved_time(path: str | Path, limits: Limits | None = None) -> datetime | None:
    """The saved time (aware), or None: not a zip workbook, no core properties, no date."""
    limits = limits or Limits()
    try:
        with open(path, "rb") as fh:
            if fh.read(4) != b"PK\x03\x04":
                return None
        archive = _Zip(Path(path), limits, Deadline(limits.max_seconds))
    except (OSError, Unreadable, ValueError):
        return None
    try:
        if not archive.has(CORE) or archive.infos[CORE].file_size > 64 * 1024:
            return None
        m = _MODIFIED.search(archive.read(CORE))  # a regex, not a parser: no entities to expand
    except (Unreadable, OSError, ValueError, EOFError):
        return None
    finally:
        archive.close()
    if not m:
        return None
    try:
        moment = datetime.fromisoformat(m.group(1).decode("ascii").replace("Z", "+00:00"))
    except (UnicodeDecodeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
