"""`disclosure demo`: the office's whole yearly cycle on sample agencies, with no set-up
and no server (every mail is a draft).

roster -> one template per agency -> (dry-run) distribution -> returns filled the way
agencies fill them, one with the seed report's real figures and others with the usual
mistakes -> check -> annotated copies and 汇总.xlsx -> (dry-run) feedback emails ->
round 2: most agencies send a corrected return, one does not -> check again ->
(dry-run) reminders -> the status table, all recorded in the demo's own ledger.
"""

from __future__ import annotations

import datetime
import io
import math
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from toolkit.cli.commands.status import show
from toolkit.common import atomic, lock, ownership
from toolkit.formats import samples, spec
from toolkit.ledger import Ledger
from toolkit.mailing.remind import remind
from toolkit.mailing.run import distribute_templates, send_feedback
from toolkit.mailing.settings import SmtpSettings
from toolkit.outputs import check
from toolkit.reading.roster import RosterEntry, read_roster, write_sample_roster
from toolkit.template.batch import write_batch

ROSTER = "单位名单.xlsx"
TEMPLATES = "1-下发模板"
RETURNS = "2-报送文件"
CONTACTS = ("张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊", "黄敏")  # sample people, one per agency
RESULTS = "3-校验结果"
RESULTS_2 = "4-第二轮校验结果"
REMINDERS = "5-催报"
LEDGER = "disclosure.db"  # the demo's own ledger, in the demo folder


@dataclass
class Sample:
    """One sample agency and how it fills (or breaks) its return."""

    name: str
    email: str
    verdict: str  # what the demo expects: 通过 / 需修改 / 无法读取
    story: str  # what the agency did, in words
    mistakes: dict[str, object] = field(default_factory=dict)  # figure key -> as typed
    bump: tuple[str, ...] = ()  # figures typed one too high (a wrong total)
    unreadable: bool = False
    fixes: bool = True  # round 2: sends a corrected return (when round 1 needed one)
    seed: bool = False  # types the seed report's real figures (when the format is the seed's)


def samples_list(fmt: spec.Format | None = None) -> list[Sample]:
    """The sample agencies, their mistakes planted on figures chosen by role from the
    format's data (``roles``), so the demo runs for every format year."""
    fmt = fmt or spec.get(samples.seed_format())
    role = lambda name: fmt.roles.get(name, ())  # noqa: E731
    fig = lambda name: fmt.figures[role(name)[0]]  # noqa: E731
    seed_agency, seed_year = samples.seed_agency()
    seeded = fmt.id == samples.seed_format()
    blanks = dict(zip(role("summands"), (None, "无", "\u3000")))
    wrong_input = {**dict.fromkeys(role("plain_count")[:1], -3), **dict.fromkeys(role("amount")[:1], "251000元")}
    return [
        Sample(seed_agency, "zhangshu-rsj@example.org", "通过",
               f"真实报告（樟树市人社局 {seed_year} 年）的数字，原样照填（含“2　”“\u00a031”这样带空格的数字）"
               if seeded else "认真填写，数字全部一致", seed=seeded),
        Sample("示例县自然资源局", "zrzy@example.org", "通过", "认真填写，数字全部一致"),
        Sample("示例县教育局", "jyj@example.org", "需修改", "有的格没填、有的格填了“无”", mistakes=blanks),
        Sample("示例县财政局", "czj@example.org", "需修改", f"“{fig('row_total').row_label.text}”一行的总计算错了",
               bump=role("row_total")[:1]),
        Sample("示例县卫生健康委员会", "wjw@example.org", "需修改",
               f"“{fig('balance').row_label.text}”的数字与本列勾稽关系不符", bump=role("balance"), fixes=False),
        Sample("示例县交通运输局", "jtj@example.org", "需修改", "填了负数，金额按“元”填写并带了单位",
               mistakes=wrong_input),
        Sample("示例县市场监督管理局", "scjgj@example.org", "无法读取",
               "把表格另存为 CSV 后改成了 .xlsx 扩展名", unreadable=True),
    ]


@dataclass
class DemoRun:
    folder: Path
    batch: check.Batch
    expected: dict[str, str]  # agency -> verdict the demo planted
    lines: list[str]
    batch_2: check.Batch | None = None  # round 2


def run_demo(folder: str | Path, *, year: int | None = None, workers: int | None = None) -> DemoRun:
    folder = Path(folder)
    with lock.locked(folder):
        return _demo(folder, year=year, workers=workers)


def _demo(folder: Path, *, year: int | None, workers: int | None) -> DemoRun:
    _, seed_year = samples.seed_agency()
    year = year or seed_year
    fmt = spec.for_year(year)
    cases = samples_list(fmt)

    roster_path = folder / ROSTER
    # A rerun starts from a clean slate, but only ours: a roster, a ledger, a folder or a
    # file the demo did not make refuses the run (ownership.NotOurs) before anything is
    # written or deleted (`disclosure demo .` in an office's working folder).
    ownership.claim(roster_path)
    ownership.claim(folder / LEDGER)
    for sub in (TEMPLATES, RETURNS, RESULTS, RESULTS_2, REMINDERS):
        ownership.clear(folder / sub)
    if ownership.remove(folder / LEDGER):  # the demo's own ledger, from an earlier demo
        for part in ("-wal", "-shm"):
            (folder / (LEDGER + part)).unlink(missing_ok=True)
    write_sample_roster(roster_path, [RosterEntry(c.name, CONTACTS[i % len(CONTACTS)], c.email, "")
                                      for i, c in enumerate(cases)])
    entries = read_roster(roster_path)

    today = datetime.date.today()
    deadline = today + datetime.timedelta(days=3)  # near: the reminders are due
    settings = SmtpSettings()
    with Ledger(folder / LEDGER) as ledger:
        ledger.record_roster(entries)
        templates = write_batch(entries, folder / TEMPLATES, year=year, fmt=fmt)
        distributed = distribute_templates(folder / TEMPLATES, entries, settings, deadline=deadline, year=year,
                                           dry_run=True, ledger=ledger)
        returns = ownership.make_dirs(folder / RETURNS, holds=ownership.RETURN)
        _round_one(cases, templates, returns, fmt, year)
        batch = check.run([returns], folder / RESULTS, roster=roster_path, workers=workers, ledger=ledger)
        feedback = send_feedback(folder / RESULTS, entries, settings, dry_run=True, ledger=ledger)

        fixed = _round_two(cases, templates, returns, fmt, random.Random(year + 1))
        batch_2 = check.run([returns], folder / RESULTS_2, roster=roster_path, workers=workers, ledger=ledger)
        reminders, state = remind(ledger, settings, folder / REMINDERS, before=3, dry_run=True, today=today)
    # Closed: a later demo may replace it, whatever remind, check or status recorded in it since.
    ownership.record(folder / LEDGER, kind=ownership.DATABASE)

    lines = [
        f"演示完成（{year} 年度，{fmt.document}格式），文件夹：{folder}",
        f"  单位名单：{roster_path}；台账：{folder / LEDGER}",
        f"  下发模板：{folder / TEMPLATES}（{len(templates)} 个）；模板邮件草稿：{len(distributed.drafted)} 封",
        f"  第一轮报送：{returns}",
        f"  第一轮校验结果：{folder / RESULTS / 'findings.json'}",
        f"  汇总表：{batch.summary}",
        f"  批注文件：{folder / RESULTS / 'annotated'}",
        f"  反馈邮件草稿：{folder / RESULTS / 'outbox'}（{len(feedback.drafted)} 封）",
        "第一轮各单位情况：",
    ]
    by_name = {case.name: case for case in cases}
    for report in batch.reports:
        case = by_name.get(report.agency or "") or next(
            (c for c in cases if c.name in Path(report.path).name), None)
        story = case.story if case else ""
        who = report.agency or (case.name if case else Path(report.path).name)  # unreadable: by its file name
        lines.append(f"  {who}：{_status(report)}（{story}）")
    lines += [
        f"第二轮：{len(fixed)} 个单位按校验意见改好后重新报送（{'、'.join(fixed)}），"
        f"{'、'.join(c.name for c in cases if c.verdict != '通过' and not c.fixes)}还没有改；",
        f"  第二轮校验结果：{folder / RESULTS_2 / 'findings.json'}（汇总表第一张是“报送进度”）",
        f"  催报邮件草稿：{folder / REMINDERS / 'outbox'}（{len(reminders.drafted)} 封）",
        "",
        *_status_table(state),
    ]
    return DemoRun(folder, batch, {c.name: c.verdict for c in cases}, lines, batch_2)


def _round_one(cases: list[Sample], templates: list[Path], returns: Path, fmt, year: int) -> None:
    """Each agency fills its template (or breaks it) the way the story says."""
    rng = random.Random(year)
    for case, template in zip(cases, templates):
        dest = returns / template.name
        if case.unreadable:
            atomic.write_bytes(dest, ("单位名称,年度\n" + case.name + f",{year}\n").encode("gbk"),
                               kind=ownership.RETURN)
            continue
        figures = samples.seed_figures() if case.seed else samples.consistent(fmt, rng)
        figures = {**figures, **case.mistakes, **{k: figures[k] + 1 for k in case.bump}}
        with atomic.atomic_path(dest, kind=ownership.RETURN) as tmp:  # ours: a rerun may clear it
            samples.type_figures(template, figures, tmp, info={"filler": "张三", "phone": "0795-0000000"})


def _round_two(cases: list[Sample], templates: list[Path], returns: Path, fmt, rng) -> list[str]:
    """The agencies told to fix their return send a corrected one (a new file beside the
    first: the check uses the newer, by the rule of toolkit.outputs.choice)."""
    fixed = []
    _after_round_one(returns)
    for case, template in zip(cases, templates):
        if case.verdict == "通过" or not case.fixes:
            continue
        dest = returns / f"{template.stem}_修改后{template.suffix}"
        with atomic.atomic_path(dest, kind=ownership.RETURN) as tmp:  # ours: a rerun may clear it
            samples.type_figures(template, samples.consistent(fmt, rng), tmp,
                                 info={"filler": "张三", "phone": "0795-0000000"})
        fixed.append(case.name)
    return fixed


def _after_round_one(returns: Path) -> None:
    """Saved times are kept to the second: a corrected return saved within the second of
    the first would tie with it (the choice would then fall back to the file times)."""
    newest = max((p.stat().st_mtime for p in returns.iterdir()), default=0.0)
    wait = math.floor(newest) + 1 - time.time()
    if wait > 0:
        time.sleep(wait)


def _status_table(state) -> list[str]:
    """`disclosure status` as it prints, 80 columns."""
    console = Console(file=io.StringIO(), width=80, color_system=None, markup=False, highlight=False)
    show(console, state)
    return console.file.getvalue().rstrip("\n").splitlines()


def _status(report) -> str:
    from toolkit.formats.findings import STATUS_ZH

    counts = f"，错误 {report.errors} 处" if report.errors else ""
    return STATUS_ZH[report.status] + counts
