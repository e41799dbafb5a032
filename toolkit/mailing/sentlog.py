"""The sent log: one JSON line per attempt, appended and fsync'd before the next message,
so that a crash or a dropped connection leaves an accurate record and a rerun sends only
what has not been accepted yet."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from toolkit.common import ownership
from toolkit.common.agency import normalize_agency
from toolkit.common.layout import SENT_LOG

LOG_NAME = SENT_LOG
SENT, REJECTED, FAILED = "sent", "rejected", "failed"
FEEDBACK, CONFIRMATION, TEMPLATE, REMINDER = "feedback", "confirmation", "template", "reminder"
KIND_ZH = {FEEDBACK: "校验意见", CONFIRMATION: "通过确认", TEMPLATE: "填报模板", REMINDER: "催报"}


@dataclass
class LogEntry:
    agency: str
    address: str
    kind: str  # feedback / confirmation / template
    sha256: str | None  # of the attachment (several: of their digests, in order)
    message_id: str
    result: str  # sent / rejected / failed
    error: str | None = None
    key: str | None = None  # what the message is about (see messages.Outgoing.key)
    subject: str = ""
    attachments: list[dict] = field(default_factory=list)  # [{"name", "sha256"}]
    time: str = ""


class SentLog:
    """``<dir>/sent_log.jsonl``.  Lines that do not parse (a line cut short by a crash)
    are ignored when reading; appending never rewrites earlier lines."""

    def __init__(self, directory: str | Path):
        self.path = Path(directory) / LOG_NAME
        self._sent: set[tuple[str, str, str]] = set()
        for entry in self.entries():
            if entry.get("result") == SENT:
                for ref in (entry.get("sha256"), entry.get("key")):
                    if ref:
                        self._sent.add((normalize_agency(entry.get("agency")), entry.get("kind", ""), ref))

    def entries(self) -> list[dict]:
        if not self.path.is_file():
            return []
        out = []
        with self.path.open("rb") as fh:
            for line in fh:
                try:
                    item = json.loads(line)
                except ValueError:
                    continue
                if isinstance(item, dict):
                    out.append(item)
        return out

    def already_sent(self, agency: str, kind: str, *refs: str | None) -> bool:
        """True when a message of ``kind`` for ``agency`` about the same attachment or
        the same subject matter (any of ``refs``) was accepted by a server before."""
        name = normalize_agency(agency)
        return any(ref and (name, kind, ref) in self._sent for ref in refs)

    def append(self, entry: LogEntry) -> None:
        if not entry.time:
            entry.time = datetime.now().astimezone().isoformat(timespec="seconds")
        line = json.dumps(asdict(entry), ensure_ascii=False) + "\n"
        ownership.make_dirs(self.path.parent)
        # A line cut short by a crash would glue onto the next one: start on a fresh line.
        prefix = b""
        if self.path.is_file() and self.path.stat().st_size:
            with self.path.open("rb") as fh:
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":
                    prefix = b"\n"
        new = not self.path.exists()
        ownership.claim(self.path)  # a sent_log.jsonl we did not write is not appended to
        with self.path.open("ab") as fh:
            fh.write(prefix + line.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        ownership.record(self.path, kind=ownership.LOG)
        if new:
            _fsync_dir(self.path.parent)
        if entry.result == SENT:
            for ref in (entry.sha256, entry.key):
                if ref:
                    self._sent.add((normalize_agency(entry.agency), entry.kind, ref))


def _fsync_dir(directory: Path) -> None:
    """Makes a new file's name durable too (POSIX; Windows cannot open a folder)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
