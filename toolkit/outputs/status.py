"""The state of the campaign per agency, from the ledger: template sent, returns received,
the verdict of each round, feedback sent, what is outstanding and the days left.

A round is one return checked: each new file (by sha256) an agency's used return takes
across checks starts a round; checking the same file again is the same round.
Outstanding: 已通过 (the latest round passed), 待修改 (it failed or could not be read),
待校验 (a return was received after the latest check), 未报送 (nothing received).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from toolkit.common.agency import normalize_agency
from toolkit.formats.findings import FAIL, PASS, STATUS_ZH

NOT_SUBMITTED, TO_FIX, TO_CHECK, PASSED = "未报送", "待修改", "待校验", "已通过"
OWED = (NOT_SUBMITTED, TO_FIX)  # what a reminder is about
RESULT_ZH = {"sent": "已发送", "drafted": "草稿", "rejected": "被拒收", "failed": "发送失败"}


@dataclass
class Round:
    number: int
    file: str  # name
    status: str  # pass / fail / unreadable
    errors: int
    checked_at: str
    sha256: str | None
    feedback_at: str | None = None  # when feedback on this round's return went (or was drafted)
    feedback_result: str | None = None

    def zh(self, compact: bool = False) -> str:
        said = STATUS_ZH.get(self.status, self.status)
        if self.errors and self.status == FAIL:
            said += f"（{self.errors}处）"
        return f"{self.number} {said}" if compact else f"第{self.number}轮 {said}"


@dataclass
class AgencyStatus:
    name: str
    contact: str = ""
    email: str = ""
    template_at: str | None = None
    template_result: str | None = None
    received: list[tuple[str, str]] = field(default_factory=list)  # (received at, file name)
    collected_at: str | None = None  # when the latest return was collected
    rounds: list[Round] = field(default_factory=list)
    used: str | None = None  # the file used in the latest check
    why: str | None = None  # why that one
    outstanding: str = NOT_SUBMITTED

    @property
    def last_feedback(self) -> tuple[str | None, str | None]:
        for r in reversed(self.rounds):
            if r.feedback_at:
                return r.feedback_at, r.feedback_result
        return None, None


@dataclass
class Progress:
    agencies: list[AgencyStatus]
    deadline: date | None
    today: date

    @property
    def days_left(self) -> int | None:
        return (self.deadline - self.today).days if self.deadline else None

    def count(self, outstanding: str) -> int:
        return sum(a.outstanding == outstanding for a in self.agencies)

    def headline(self) -> str:
        counts = "，".join(f"{k} {self.count(k)} 个" for k in (PASSED, TO_FIX, TO_CHECK, NOT_SUBMITTED))
        return f"共 {len(self.agencies)} 个单位：{counts}"

    def due_line(self) -> str:
        if not self.deadline:
            return "未设截止日期（下发模板时的 --deadline，或 status --deadline）"
        left = self.days_left
        return f"截止 {self.deadline:%Y-%m-%d}，" + (f"还有 {left} 天" if left >= 0 else f"已过 {-left} 天")


def progress(ledger, *, deadline: date | None = None, today: date | None = None) -> Progress:
    """Every agency on the ledger's roster, in roster order."""
    today = today or date.today()
    if deadline is None and ledger.campaign().get("deadline"):
        deadline = date.fromisoformat(ledger.campaign()["deadline"])
    agencies = [AgencyStatus(r["name"], r["contact"] or "", r["email"] or "") for r in ledger.agencies()]
    by_key = {normalize_agency(a.name): a for a in agencies}

    def find(name):
        return by_key.get(normalize_agency(name))

    for r in ledger.rows("SELECT agency, at, result FROM templates_sent ORDER BY at, id"):
        if (a := find(r["agency"])) and (a.template_result != "sent" or r["result"] == "sent"):
            a.template_at, a.template_result = r["at"], r["result"]
    for r in ledger.rows("SELECT agency, received_at, recorded_at, path FROM files WHERE received_at IS NOT NULL"
                         " ORDER BY received_at, id"):
        if a := find(r["agency"]):
            a.received.append((r["received_at"], Path(r["path"]).name))
            a.collected_at = max(a.collected_at or "", r["recorded_at"])
    last_check: dict[str, str] = {}
    for r in ledger.rows("SELECT v.agency, v.path, v.sha256, v.status, v.errors, v.why, c.at, c.id FROM verdicts v"
                         " JOIN checks c ON c.id = v.check_id WHERE v.used = 1 ORDER BY c.id, v.id"):
        a = find(r["agency"])
        if a is None:
            continue
        last_check[a.name] = r["at"]
        a.used, a.why = Path(r["path"]).name, r["why"]
        same = next((x for x in a.rounds if x.sha256 and x.sha256 == r["sha256"]), None)
        if same is None:
            a.rounds.append(Round(len(a.rounds) + 1, Path(r["path"]).name, r["status"], r["errors"], r["at"],
                                  r["sha256"]))
        else:
            same.status, same.errors, same.checked_at = r["status"], r["errors"], r["at"]
    for r in ledger.rows("SELECT agency, sha256, at, result FROM feedback ORDER BY at, id"):
        a = find(r["agency"])
        target = a and next((x for x in reversed(a.rounds) if x.sha256 == r["sha256"]), None)
        if target and (target.feedback_result != "sent" or r["result"] == "sent"):
            target.feedback_at, target.feedback_result = r["at"], r["result"]
    for a in agencies:
        a.outstanding = _outstanding(a, last_check.get(a.name))
    return Progress(agencies, deadline, today)


def _outstanding(a: AgencyStatus, checked_at: str | None) -> str:
    if not a.rounds:
        return TO_CHECK if a.received else NOT_SUBMITTED
    if a.collected_at and checked_at and _instant(a.collected_at) > _instant(checked_at):
        return TO_CHECK  # collected since the latest check
    return PASSED if a.rounds[-1].status == PASS else TO_FIX


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.astimezone()


def short_date(text: str | None) -> str:
    return short_time(text)[:5]


def short_time(text: str | None) -> str:
    """2026-01-05T09:30:00+08:00 -> 01-05 09:30 (the campaign is within a year)."""
    if not text:
        return ""
    try:
        return datetime.fromisoformat(text).strftime("%m-%d %H:%M")
    except ValueError:
        return text


COLUMNS = ("序号", "单位名称", "模板下发", "收到报送", "各轮校验", "校验意见", "状态")


def rows(p: Progress, *, compact: bool = False) -> list[tuple[str, ...]]:
    """One row per agency, the cells as shown in 报送进度 and (``compact``: dates without
    times where a day says enough, rounds as "1 …") on an 80-column screen.  Several
    lines in a cell: one per return received, one per round."""
    out = []
    when = short_date if compact else short_time
    for i, a in enumerate(p.agencies, 1):
        template = (f"{when(a.template_at)} {RESULT_ZH.get(a.template_result, a.template_result)}"
                    if a.template_at else "未下发")
        received = "\n".join(short_time(t) for t, _name in a.received) or ("（未经邮件）" if a.rounds else "—")
        rounds = "\n".join(r.zh(compact) for r in a.rounds) or "—"
        # one line per round, beside the round it answers
        feedback = "\n".join(f"{when(r.feedback_at)} {RESULT_ZH.get(r.feedback_result, '')}"
                             if r.feedback_at else "—" for r in a.rounds) or "—"
        out.append((str(i), a.name, template, received, rounds, feedback, a.outstanding))
    return out


def used_lines(p: Progress, fits: Callable[[str], bool] = lambda _line: True) -> list[str]:
    """Which file is used, and why, for agencies that sent more than one (the latest
    check's choice).  A line that does not ``fit`` (a screen's width) puts the file on
    a line of its own, indented, rather than folding it under the agency's name."""
    lines = []
    for a in p.agencies:
        if a.used and a.why:
            line = f"{a.name}：采用 {a.used}"
            lines += [line] if fits(line) else [f"{a.name}：采用", f"  {a.used}"]
            lines.append(f"  理由：{a.why}")
    return ["一个单位有多份报送文件时采用的文件：", *lines] if lines else []
