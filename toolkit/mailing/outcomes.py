"""What came of a send (`mail`, `distribute`, `remind`): one Outcome per message or
agency, and the run's 中文 account of them, grouped by result."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from toolkit.mailing.sentlog import FAILED, KIND_ZH, REJECTED, SENT

# Outcome results beyond the log's sent / rejected / failed.
DRAFTED, SKIPPED, PENDING = "drafted", "skipped", "pending"
NO_ADDRESS, BAD_ADDRESS, UNMATCHED, MISSING = "no_address", "bad_address", "unmatched", "missing"
PASSED, NOT_SUBMITTED = "passed", "not_submitted"
LOCAL = "local"  # a file this machine could not read (rule marked local): never the agency's fault

# result -> heading, in the order printed; each outcome gets its own line below it.
HEADINGS: dict[str, str] = {
    SENT: "已发送 {n} 封：",
    DRAFTED: "已写出 {n} 封邮件草稿（未发送）：",
    SKIPPED: "跳过 {n} 封（此前已发送过相同内容）：",
    REJECTED: "被拒收 {n} 封（请核对这些单位的邮箱地址）：",
    FAILED: "发送失败 {n} 封（重新运行同一命令会再试）：",
    PENDING: "未发送 {n} 封（发送中止；重新运行同一命令即可补发）：",
    NO_ADDRESS: "{n} 个单位在单位名单中没有电子邮箱，未发送（请在单位名单中补充“电子邮箱”）：",
    BAD_ADDRESS: "{n} 个单位的电子邮箱无效，未发送（请在单位名单中改正）：",
    MISSING: "{n} 个单位缺少要发送的文件，未发送：",
    UNMATCHED: "{n} 个文件无法对应到单位名单中的单位，未发送（请核对单位名称或把单位加入名单）：",
    LOCAL: "{n} 个文件因本机原因未能读取（不是报送单位的问题），未发送；请处理后重新校验：",
    PASSED: "{n} 个单位已通过校验，未发确认邮件（加 --confirm-passed 可发送）：",
    NOT_SUBMITTED: "{n} 个单位没有报送文件（不在本次校验结果中），未发送：",
}


@dataclass
class Outcome:
    agency: str
    kind: str  # feedback / confirmation / template
    result: str
    address: str = ""
    detail: str = ""

    def line(self) -> str:
        who = f"{self.agency} <{self.address}>" if self.address else self.agency
        what = KIND_ZH.get(self.kind, "")
        detail = f"（{self.detail}）" if self.detail else ""
        return f"  {who}：{what}{detail}" if what else f"  {who}{detail}"


@dataclass
class MailRun:
    command: str  # "mail" | "distribute"
    dry_run: bool
    log_path: Path
    outbox: Path
    outcomes: list[Outcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # 中文 lines printed first
    error: str | None = None  # why the run stopped early, 中文
    ledger: object = None  # toolkit.ledger.Ledger: every message recorded as it goes
    extra: dict = field(default_factory=dict)  # recorded with each message (deadline, year)

    def of(self, result: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.result == result]

    @property
    def sent(self) -> list[Outcome]:
        return self.of(SENT)

    @property
    def drafted(self) -> list[Outcome]:
        return self.of(DRAFTED)

    @property
    def skipped(self) -> list[Outcome]:
        return self.of(SKIPPED)

    @property
    def rejected(self) -> list[Outcome]:
        return self.of(REJECTED)

    @property
    def failed(self) -> list[Outcome]:
        return self.of(FAILED) + self.of(PENDING)

    @property
    def no_address(self) -> list[Outcome]:
        return self.of(NO_ADDRESS) + self.of(BAD_ADDRESS)

    @property
    def exit_code(self) -> int:
        """1 when something that should have gone did not (the run stopped, a message was
        refused or failed); 0 otherwise.  Missing addresses are listed, not fatal."""
        return 1 if self.error or self.rejected or self.failed else 0

    def lines_zh(self) -> list[str]:
        lines = list(self.notes)
        if self.error:
            lines.append(f"发送中止：{self.error}")
        for result, heading in HEADINGS.items():
            items = self.of(result)
            if items:
                lines.append(heading.format(n=len(items)))
                lines.extend(o.line() for o in items)
        if self.dry_run:
            lines.append(f"预览模式：没有发送任何邮件；草稿在 {self.outbox}，可用邮件客户端打开检查。")
        else:
            counts = (f"已发送 {len(self.sent)}，跳过 {len(self.skipped)}，被拒收 {len(self.rejected)}，"
                      f"失败或未发送 {len(self.failed)}，无有效邮箱 {len(self.no_address)}")
            lines.append(f"合计：{counts}。发送记录：{self.log_path}")
            if self.error or self.failed:
                lines.append("已发出的邮件都已记入发送记录；重新运行同一命令只补发未成功的邮件，不会重复发送。")
        return lines
