"""The two sends (`mail`: feedback after a check; `distribute`: templates before one) and
what came of them.  Each message is planned, checked against the sent log, then sent (or
written to the outbox in a dry run) and logged before the next one."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Callable

from toolkit.common import atomic, ownership
from toolkit.common.display import shown_name
from toolkit.common.filenames import safe_filename, unique_name
from toolkit.common.layout import OUTBOX
from toolkit.common.oserrors import why
from toolkit.formats.catalogue import is_local
from toolkit.formats.findings import FAIL, UNREADABLE
from toolkit.mailing.messages import (
    PLACEHOLDER_SENDER,
    Attachment,
    Outgoing,
    confirmation_message,
    feedback_message,
    template_message,
    zh_date,
)
from toolkit.mailing.outcomes import (  # noqa: F401  (MailRun, Outcome: the API of a send)
    BAD_ADDRESS,
    DRAFTED,
    LOCAL,
    MISSING,
    NO_ADDRESS,
    NOT_SUBMITTED,
    PASSED,
    PENDING,
    SKIPPED,
    UNMATCHED,
    MailRun,
    Outcome,
)
from toolkit.mailing.recording import record_outgoing
from toolkit.mailing.sentlog import (
    CONFIRMATION,
    FAILED,
    FEEDBACK,
    KIND_ZH,
    LOG_NAME,
    REJECTED,
    SENT,
    TEMPLATE,
    LogEntry,
    SentLog,
)
from toolkit.mailing.settings import SmtpSettings
from toolkit.mailing.sources import (
    RosterIndex,
    annotated_path,
    common_year,
    find_templates,
    parse_addresses,
    read_findings,
)
from toolkit.mailing.transport import MailError, Refused, SmtpTransport
from toolkit.outputs.choice import rank
from toolkit.reading.roster import RosterEntry
from toolkit.template.batch import batch_filename


def send_feedback(outdir: str | Path, roster_entries: list[RosterEntry], settings: SmtpSettings, *,
                  dry_run: bool = False, confirm_passed: bool = False,
                  password_prompt: Callable[[], str] | None = None,
                  today: date | None = None, ledger=None) -> MailRun:
    """One message per roster agency whose returns failed or could not be read (the
    annotated copies attached); with ``confirm_passed`` a short note to those that passed.
    Raises MailError when OUTDIR is not a check's output."""
    outdir = Path(outdir)
    report = read_findings(outdir)
    today = today or date.today()
    run = MailRun("mail", dry_run, outdir / LOG_NAME, outdir / OUTBOX, ledger=ledger)
    index = RosterIndex(roster_entries)
    run.notes.extend(index.duplicates)
    files = report["files"]
    by_agency: dict[str, list[dict]] = defaultdict(list)
    for f in files:
        local = next((x for x in f.get("findings") or () if is_local(x.get("rule"))), None)
        if local is not None:
            run.outcomes.append(Outcome(shown_name(str(f.get("path") or "")), FEEDBACK, LOCAL,
                                        detail=str(local.get("message") or "")))
            continue
        entry = index.match(f.get("agency"), f.get("path"), f.get("stamped_agency"))
        if entry is None:
            name = Path(str(f.get("path") or "")).name
            said = f"，单位名称“{f['agency']}”" if f.get("agency") else "，未填单位名称"
            run.outcomes.append(Outcome(f.get("agency") or name or "（未知）", FEEDBACK, UNMATCHED,
                                        detail=f"文件《{name}》{said}"))
            continue
        by_agency[entry.name].append(f)
    default_year = common_year(files)

    plan: list[Outgoing] = []
    for entry in index.entries:
        group = by_agency.get(entry.name)
        if not group:
            run.outcomes.append(Outcome(entry.name, "", NOT_SUBMITTED))
            continue
        # Several returns from one agency: only the one used (choice.USED_RULE) counts;
        # feedback on a file it has already replaced would be wrong.
        used = _used(group, ledger)
        group = [used]
        bad = [used] if used.get("status") in (FAIL, UNREADABLE) else []
        kind = FEEDBACK if bad else CONFIRMATION
        if not bad and not confirm_passed:
            run.outcomes.append(Outcome(entry.name, "", PASSED))
            continue
        to = _addresses(run, entry, kind)
        if to is None:
            continue
        year = next((f["year"] for f in group if isinstance(f.get("year"), int)), default_year)
        format_id = next((f["format"] for f in group if f.get("format")), None)
        common = dict(year=year, format_id=format_id, signer=settings.sender_name, today=today)
        if bad:
            attachments = _annotated(run, outdir, entry.name, bad)
            if attachments is None:
                continue
            plan.append(feedback_message(entry.name, to, bad, attachments, key=_key(bad), **common))
        else:
            plan.append(confirmation_message(entry.name, to, group, key=_key(group), **common))
    _deliver(run, plan, settings, dry_run=dry_run, password_prompt=password_prompt)
    return run


def distribute_templates(template_dir: str | Path, roster_entries: list[RosterEntry],
                         settings: SmtpSettings, *, deadline: date, year: int | None = None,
                         dry_run: bool = False, log_dir: str | Path | None = None,
                         password_prompt: Callable[[], str] | None = None,
                         today: date | None = None, ledger=None) -> MailRun:
    """Each roster agency its own template from ``template_dir`` (matched by the
    template's stamp, else by file name).  The sent log and the outbox go into
    ``log_dir`` (default: ``template_dir``)."""
    template_dir = Path(template_dir)
    base = Path(log_dir) if log_dir else template_dir
    today = today or date.today()
    run = MailRun("distribute", dry_run, base / LOG_NAME, base / OUTBOX, ledger=ledger,
                  extra={"deadline": deadline.isoformat(), "year": year})
    if ledger is not None:
        ledger.set_campaign(deadline=deadline.isoformat(), year=year)
    templates, problems = find_templates(template_dir)
    run.notes.extend(problems)
    if deadline < today:
        run.notes.append(f"注意：截止日期 {zh_date(deadline)} 早于今天（{zh_date(today)}），请确认 --deadline 是否有误。")
    if year is not None:
        templates = [t for t in templates if t.year in (year, None)]
    if not templates:
        raise MailError(f"{template_dir} 中没有找到{f'{year}年的' if year else ''}模板文件（.xlsx）："
                        "请先用 disclosure template --roster 单位名单.xlsx 生成各单位的模板")
    index = RosterIndex(roster_entries)
    run.notes.extend(index.duplicates)
    by_agency: dict[str, list] = defaultdict(list)
    for t in templates:
        entry = index.find(t.agency) if t.agency else index.in_file_name(t.path.name)
        if entry is None:
            detail = f"模板《{t.path.name}》" + (f"，模板中的单位为“{t.agency}”" if t.agency else "")
            run.outcomes.append(Outcome(t.agency or t.path.name, TEMPLATE, UNMATCHED, detail=detail))
            continue
        by_agency[entry.name].append(t)

    plan: list[Outgoing] = []
    for entry in index.entries:
        candidates = by_agency.get(entry.name)
        if not candidates:
            run.outcomes.append(Outcome(entry.name, TEMPLATE, MISSING, detail=f"{template_dir} 中没有该单位的模板"))
            continue
        # Several (other years, a copy): the newest year, then the stamped one, then the one
        # named as the batch names an agency's own (an agency listed twice on the roster got
        # a renamed second one, with the second row's contact: the first row is the one used).
        chosen = max(candidates, key=lambda t: (t.year or 0, t.agency is not None,
                                                t.year is not None and t.path.name == batch_filename(entry.name, t.year),
                                                t.path.name))
        if len(candidates) > 1:
            others = "、".join(t.path.name for t in candidates if t is not chosen)
            run.notes.append(f"{entry.name} 有多个模板，发送《{chosen.path.name}》，未发送：{others}")
        to = _addresses(run, entry, TEMPLATE)
        if to is None:
            continue
        try:
            attachment = Attachment(chosen.path.name, chosen.path.read_bytes())
        except OSError as exc:
            run.outcomes.append(Outcome(entry.name, TEMPLATE, MISSING,
                                        detail=f"无法读取《{chosen.path.name}》：{why(exc)}"))
            continue
        plan.append(template_message(entry.name, to, attachment, year=year or chosen.year,
                                     format_id=chosen.format_id, deadline=deadline,
                                     signer=settings.sender_name, today=today, key=chosen.key))
    _deliver(run, plan, settings, dry_run=dry_run, password_prompt=password_prompt)
    return run


def _used(group: list[dict], ledger) -> dict:
    received = ledger.received(str(f.get("sha256")) for f in group) if ledger is not None and len(group) > 1 else None
    ranked, _why = rank(group, path=lambda f: str(f.get("path") or ""), status=lambda f: f.get("status"),
                        sha256=lambda f: f.get("sha256"), received=received)
    return ranked[0]


def _addresses(run: MailRun, entry: RosterEntry, kind: str) -> list[str] | None:
    valid, invalid = parse_addresses(entry.email)
    if valid:
        if invalid:
            run.notes.append(f"{entry.name} 的邮箱“{'、'.join(invalid)}”无效，只发往 {'、'.join(valid)}")
        return valid
    if invalid:
        run.outcomes.append(Outcome(entry.name, kind, BAD_ADDRESS, detail=f"“{entry.email}”不是有效的邮箱地址"))
    else:
        run.outcomes.append(Outcome(entry.name, kind, NO_ADDRESS))
    return None


def _annotated(run: MailRun, outdir: Path, agency: str, files: list[dict]) -> list[Attachment] | None:
    attachments = []
    for f in files:
        relative = f.get("annotated")
        if not relative:
            continue  # unreadable, or no annotated copy: the body says it all
        path = annotated_path(outdir, str(relative))
        try:
            if path is None:
                raise FileNotFoundError
            attachments.append(Attachment(Path(str(relative)).name, path.read_bytes()))
        except OSError:
            run.outcomes.append(Outcome(agency, FEEDBACK, MISSING,
                                        detail=f"批注文件 {relative} 不存在，请重新运行 disclosure check"))
            return None
    return attachments


def _key(files: list[dict]) -> str | None:
    """The returns a message is about: the same returns, checked again, need no second
    message even when the annotated copy's bytes differ."""
    digests = sorted(str(f.get("sha256")) for f in files)
    if not digests or any(d in ("", "None") for d in digests):
        return None
    if len(digests) == 1:
        return "return:" + digests[0]
    return "returns:" + hashlib.sha256("".join(digests).encode()).hexdigest()


def _deliver(run: MailRun, plan: list[Outgoing], settings: SmtpSettings, *, dry_run: bool,
             password_prompt: Callable[[], str] | None) -> None:
    log = SentLog(run.log_path.parent)
    if dry_run and not settings.sender and plan:
        run.notes.append(f"未设置发件地址，草稿中的发件人暂用 {PLACEHOLDER_SENDER}（实际发送前请用 --from 等设置）。")
    transport = None if dry_run else SmtpTransport(settings, password_prompt)
    taken: set[str] = set()
    if dry_run and run.outbox.is_dir():  # drafts of an earlier preview would mislead
        for old in run.outbox.glob("*.eml"):
            if not ownership.remove(old):  # not ours: left alone, its name not reused
                taken.add(old.name.casefold())
    try:
        for out in plan:
            address = ", ".join(out.to)
            if log.already_sent(out.agency, out.kind, out.sha256, out.key):
                run.outcomes.append(Outcome(out.agency, out.kind, SKIPPED, address))
                continue
            if run.error:  # stopped: what is left is listed for the rerun
                run.outcomes.append(Outcome(out.agency, out.kind, PENDING, address))
                continue
            msg = out.build(settings.sender, settings.sender_name)
            data = msg.as_bytes()
            if transport is None:
                name = unique_name(safe_filename(out.agency, f"_{KIND_ZH[out.kind]}.eml"), taken)
                try:
                    atomic.write_bytes(run.outbox / name, data)
                except OSError as exc:
                    run.error = f"无法写入草稿 {run.outbox / name}（{why(exc)}）"
                    run.outcomes.append(Outcome(out.agency, out.kind, PENDING, address))
                    continue
                run.outcomes.append(Outcome(out.agency, out.kind, DRAFTED, address, f"{OUTBOX}/{name}"))
                record_outgoing(run.ledger, out, DRAFTED, str(msg["Message-ID"]), **run.extra)
                continue
            entry = LogEntry(agency=out.agency, address=address, kind=out.kind, sha256=out.sha256,
                             message_id=str(msg["Message-ID"]), result=SENT, key=out.key,
                             subject=out.subject,
                             attachments=[{"name": a.name, "sha256": a.sha256} for a in out.attachments])
            try:
                transport.ensure_connected()
            except MailError as exc:  # nothing was handed over: nothing to log
                run.error = str(exc)
                run.outcomes.append(Outcome(out.agency, out.kind, PENDING, address))
                continue
            try:
                refused = transport.send(settings.sender, out.to, data)
            except Refused as exc:
                entry.result, entry.error = (REJECTED if exc.permanent else FAILED), str(exc)
                _record(run, log, entry, out)
                run.outcomes.append(Outcome(out.agency, out.kind, entry.result, address, str(exc)))
                continue
            except MailError as exc:  # connection lost or sender refused, mid-message
                entry.result, entry.error = FAILED, str(exc)
                run.error = str(exc)
                _record(run, log, entry, out)
                run.outcomes.append(Outcome(out.agency, out.kind, FAILED, address, str(exc)))
                continue
            # Accepted by the server: on disk before the next message goes.
            entry.error = "；".join(f"{a}：{r}" for a, r in refused.items()) or None
            _record(run, log, entry, out)
            detail = f"部分收件人被拒收：{entry.error}" if entry.error else ""
            run.outcomes.append(Outcome(out.agency, out.kind, SENT, address, detail))
    finally:
        if transport is not None:
            transport.close()


def _record(run: MailRun, log: SentLog, entry: LogEntry, out: Outgoing) -> None:
    """Appends to the sent log (and the ledger); a log that cannot be written stops the
    run, since a message sent but not recorded would go again on the next run."""
    try:
        log.append(entry)
        record_outgoing(run.ledger, out, entry.result, entry.message_id, **run.extra)
    except OSError as exc:
        run.error = (f"无法写入发送记录 {log.path}（{why(exc)}），已停止发送以免重复；"
                     f"发给{entry.agency}的邮件已{'发出' if entry.result == SENT else '未发出'}，未能记录")
