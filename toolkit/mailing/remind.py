"""`disclosure remind`: a reminder to every agency that still owes something (未报送, or
待修改 after feedback) when the deadline is near, saying what it owes.  Sent, or drafted
into outbox/, through the same delivery as the other mails (sent log, ledger); the same
reminder (same deadline, same debt, same round) never goes twice."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Callable

from toolkit.common.layout import OUTBOX
from toolkit.mailing.messages import Outgoing, _sign_off, report_title, zh_date
from toolkit.mailing.run import MailRun, _addresses, _deliver
from toolkit.mailing.sentlog import LOG_NAME, REMINDER
from toolkit.mailing.settings import SmtpSettings
from toolkit.mailing.transport import MailError
from toolkit.outputs.status import NOT_SUBMITTED, OWED, AgencyStatus, Progress, progress
from toolkit.reading.roster import RosterEntry

NOT_YET = "not_yet"


def remind(ledger, settings: SmtpSettings, outdir: str | Path, *, before: int, dry_run: bool = False,
           deadline: date | None = None, password_prompt: Callable[[], str] | None = None,
           today: date | None = None) -> tuple[MailRun, Progress]:
    today = today or date.today()
    state = progress(ledger, deadline=deadline, today=today)
    if state.deadline is None:
        raise MailError("不知道截止日期：请用 --deadline 2026-01-31 给出（下发模板时给过的会记在台账中）")
    outdir = Path(outdir)
    run = MailRun("remind", dry_run, outdir / LOG_NAME, outdir / OUTBOX, ledger=ledger)
    left = state.days_left
    if left > before:
        run.notes.append(f"离截止（{zh_date(state.deadline)}）还有 {left} 天，未到催报时间"
                         f"（--before {before}：截止前 {before} 天内才催报）。")
        return run, state
    year = int(ledger.campaign()["year"]) if ledger.campaign().get("year") else None
    plan = []
    for a in state.agencies:
        if a.outstanding not in OWED:
            continue
        entry = RosterEntry(a.name, a.contact, a.email)
        to = _addresses(run, entry, REMINDER)
        if to is None:
            continue
        plan.append(reminder_message(a, to, deadline=state.deadline, days_left=left, year=year,
                                     signer=settings.sender_name, today=today))
    owing = sum(a.outstanding in OWED for a in state.agencies)
    run.notes.append(f"离截止还有 {left} 天；{owing} 个单位还欠报表或修改。" if left >= 0 else
                     f"已过截止日期 {-left} 天；{owing} 个单位还欠报表或修改。")
    _deliver(run, plan, settings, dry_run=dry_run, password_prompt=password_prompt)
    return run, state


def reminder_message(a: AgencyStatus, to: list[str], *, deadline: date, days_left: int, year: int | None,
                     signer: str | None, today: date) -> Outgoing:
    title = report_title(year)
    when = (f"还有 {days_left} 天" if days_left > 0 else "就是今天" if days_left == 0
            else f"已过 {-days_left} 天")
    subject = f"【催报】{title} — {a.name}（截止{zh_date(deadline)}）"
    lines = [f"{a.name}：", ""]
    if a.outstanding == NOT_SUBMITTED:
        lines.append(f"《{title}》的报送截止日期为{zh_date(deadline)}（{when}），我们还没有收到贵单位的报表。"
                     "请填写下发的模板，并作为附件回复本邮件报送。")
        lines.append("如已报送，请回复告知发送的时间，以便核对。")
    else:
        last = a.rounds[-1]
        # only a message a server accepted was "sent"; a draft may never have gone
        fed = next((r.feedback_at for r in reversed(a.rounds) if r.feedback_result == "sent"), None)
        told = f"，校验意见已于{_day(fed)}发给贵单位" if fed else ""
        lines.append(f"贵单位报送的《{title}》经校验有 {last.errors} 处需要修改{told}。"
                     f"报送截止日期为{zh_date(deadline)}（{when}），请按校验意见修改后重新报送。")
    body = "\n".join([*lines, *_sign_off(signer, today)]) + "\n"
    key = f"reminder:{deadline.isoformat()}:{a.outstanding}:{len(a.rounds)}"
    return Outgoing(a.name, REMINDER, to, subject, body, [], key, owes=a.outstanding)


def _day(text: str) -> str:
    return zh_date(datetime.fromisoformat(text).date())


