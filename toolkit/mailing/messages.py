"""The messages: subjects and plain-text bodies in 中文, and the MIME structure that makes
a Chinese attachment name show right in Outlook, Foxmail and webmail.

Attachment names are written twice, the two ways clients read them (as Thunderbird
does): RFC 2231 in Content-Disposition (``filename*=utf-8''…``), which standards-following
clients prefer, and an RFC 2047 encoded word in Content-Type (``name="=?utf-8?b?…?="``),
which older Outlook and many webmail services fall back to.  Python's header folder
mangles long parameterised headers (it encodes the MIME type itself), so those two
headers are written pre-folded and the policy is told not to refold them."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import date
from email import policy as email_policy
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.utils import formatdate, make_msgid
from pathlib import PurePath
from urllib.parse import quote

from toolkit.common.display import shown_name
from toolkit.formats import spec
from toolkit.formats.catalogue import ERROR, SEVERITY_ZH, WARNING
from toolkit.formats.findings import FAIL, PASS, STATUS_ZH, UNREADABLE
from toolkit.formats.instructions import where_to_fix
from toolkit.mailing.sentlog import CONFIRMATION, FEEDBACK, TEMPLATE

# CRLF line ends; headers we wrote ourselves ("source" headers) are left as written.
POLICY = email_policy.SMTP.clone(refold_source="none")
MAX_PROBLEMS = 10  # problems listed in a body; the rest are in the annotated copy
MAX_PARAM_LINE = 900  # below SMTP's 998-character line limit, with room for the name
DEFAULT_SIGNER = "政务公开办"
LOCKED_INFO = ("agency", "year")  # info fields `template --roster` fills in and locks
PLACEHOLDER_SENDER = "disclosure@localhost"  # dry runs without a configured sender

MIME_TYPES = {
    ".xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ".xlsm": ("application", "vnd.ms-excel.sheet.macroEnabled.12"),
    ".xls": ("application", "vnd.ms-excel"),
}


@dataclass(frozen=True)
class Attachment:
    name: str
    data: bytes = field(repr=False)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class Outgoing:
    """One message to one agency, before it has headers for a particular sender."""

    agency: str
    kind: str  # sentlog.FEEDBACK / CONFIRMATION / TEMPLATE
    to: list[str]
    subject: str
    body: str
    attachments: list[Attachment] = field(default_factory=list)
    key: str | None = None  # what it is about, for "already sent" (e.g. the return's sha256)
    owes: str | None = None  # a reminder: what the agency still owes (未报送 / 待修改)

    @property
    def sha256(self) -> str | None:
        if not self.attachments:
            return None
        if len(self.attachments) == 1:
            return self.attachments[0].sha256
        return hashlib.sha256("".join(a.sha256 for a in self.attachments).encode()).hexdigest()

    def build(self, sender: str | None, sender_name: str | None = None) -> EmailMessage:
        sender = sender or PLACEHOLDER_SENDER
        msg = EmailMessage(policy=POLICY)
        msg["Subject"] = self.subject
        msg["From"] = Address(display_name=sender_name or "", addr_spec=sender)
        msg["To"] = [Address(display_name=self.agency, addr_spec=a) for a in self.to]
        msg["Date"] = formatdate(localtime=True)
        msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
        # base64 keeps the message 7-bit: no reliance on the server's 8BITMIME.
        msg.set_content(self.body, charset="utf-8", cte="base64")
        if self.attachments:
            msg.make_mixed()
            for attachment in self.attachments:
                msg.attach(attachment_part(attachment))
        return msg


def attachment_part(attachment: Attachment) -> MIMEPart:
    maintype, subtype = MIME_TYPES.get(PurePath(attachment.name).suffix.lower(),
                                       ("application", "octet-stream"))
    part = MIMEPart(policy=POLICY)
    part.set_content(attachment.data, maintype=maintype, subtype=subtype)
    del part["Content-Type"]
    encoded_word = "=?utf-8?b?" + base64.b64encode(attachment.name.encode("utf-8")).decode("ascii") + "?="
    part.set_raw("Content-Type", f'{maintype}/{subtype};\r\n name="{encoded_word}"')
    # Only RFC 2231 here: a parser that meets a plain filename= beside filename* may take
    # the plain one and show the encoded word raw (Python's own compat32 API does).
    part.set_raw("Content-Disposition", ";\r\n ".join(["attachment", *_rfc2231("filename", attachment.name)]))
    return part


def _rfc2231(param: str, value: str) -> list[str]:
    """``filename*=utf-8''…``; split into ``filename*0*=…`` continuations only when one
    line would pass the SMTP line limit."""
    encoded = quote(value, safe="")
    if len(encoded) <= MAX_PARAM_LINE:
        return [f"{param}*=utf-8''{encoded}"]
    chunks, rest = [], encoded
    while rest:
        cut = min(len(rest), MAX_PARAM_LINE)
        while cut < len(rest) and rest[cut - 2:cut].count("%"):  # never split a %XX
            cut -= 1
        chunks.append(rest[:cut])
        rest = rest[cut:]
    return [f"{param}*{i}*={'utf-8' + chr(39) * 2 if i == 0 else ''}{c}" for i, c in enumerate(chunks)]


# ---- words -------------------------------------------------------------------------

def report_title(year: int | None, format_id: str | None = None) -> str:
    """《2025年政府信息公开工作年度报告报表》 without the brackets; the words are the format's."""
    fmt = _format(year, format_id)
    return f"{year}年{fmt.info.title}" if year else fmt.info.title


def _format(year: int | None, format_id: str | None) -> spec.Format:
    if format_id:
        try:
            return spec.get(format_id)
        except KeyError:
            pass
    return spec.for_year(year) if year else spec.get()


def zh_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def problem_line(finding: dict) -> str:
    """One finding in plain words: where (sheet, cell, row / column) and what."""
    sheet, cell = finding.get("sheet"), finding.get("cell")
    where = f"“{sheet}”表" if sheet else ""
    where += f" {cell} 格" if cell else ""
    labels = " / ".join(str(x) for x in (finding.get("row"), finding.get("column")) if x)
    if labels:
        where = f"{where}（{labels}）" if where else labels
    message = str(finding.get("message") or "").strip()
    # Errors are the rule in these lists; only the exceptions are marked.
    head = f"【{SEVERITY_ZH[WARNING]}】" if finding.get("severity") == WARNING else ""
    return f"{head}{where}：{message}" if where else f"{head}{message}"


def _sign_off(signer: str | None, today: date, *, made_from: str = "根据校验结果") -> list[str]:
    return ["", signer or DEFAULT_SIGNER, zh_date(today), "",
            f"（本邮件由报表工具{made_from}生成；如有疑问，请直接回复本邮件。）"]


def feedback_message(agency: str, to: list[str], files: list[dict], attachments: list[Attachment],
                     *, year: int | None, format_id: str | None, signer: str | None,
                     today: date, key: str | None) -> Outgoing:
    """Feedback on one agency's returns that failed or could not be read (``files`` are
    findings.json entries; ``attachments`` the annotated copies)."""
    statuses = {f.get("status") for f in files}
    tag = STATUS_ZH[FAIL] if FAIL in statuses else STATUS_ZH[UNREADABLE]
    title = report_title(year, format_id)
    subject = f"【{tag}】{title}校验意见 — {agency}"
    lines = [f"{agency}：", ""]
    for f in files:
        name = shown_name(str(f.get("path") or "")) or "（未知文件）"
        findings = f.get("findings") or []
        if f.get("status") == UNREADABLE:
            lines.append(f"贵单位报送的文件《{name}》无法读取，原因如下：")
            lines.extend(f"  · {problem_line(x)}" for x in findings[:MAX_PROBLEMS])
            if not findings:
                lines.append("  · 文件无法打开")
            lines += ["", "请按上述说明处理后（请使用下发的模板，保存为 .xlsx 格式），直接回复本邮件，将文件作为附件重新报送。", ""]
            continue
        errors, warnings = int(f.get("errors") or 0), int(f.get("warnings") or 0)
        counts = f"{errors} 处错误" + (f"、{warnings} 处提醒" if warnings else "")
        lines.append(f"贵单位报送的《{title}》（文件《{name}》）经校验，发现 {counts}，需要修改后重新报送。")
        ordered = sorted(findings, key=lambda x: x.get("severity") != ERROR)  # errors first
        lines += ["", "主要问题："]
        lines.extend(f"{i}. {problem_line(x)}" for i, x in enumerate(ordered[:MAX_PROBLEMS], 1))
        if len(ordered) > MAX_PROBLEMS:
            lines.append(f"（另有 {len(ordered) - MAX_PROBLEMS} 处问题，见附件中的批注。）")
        annotated = f.get("annotated")
        lines += ["", "请按以下步骤修改："]
        if annotated:
            # The one instruction on where to fix (instructions.yaml), as in 填报说明 and 校验结果.
            lines += [f"1. 打开附件《{PurePath(annotated).name}》；",
                      f"2. {where_to_fix()}（不要增删行列，不要改动表格中的文字）",
                      "3. 直接回复本邮件，将改好的这个文件作为附件发回。", ""]
        else:
            lines += [f"1. 打开贵单位报送的《{name}》，按上面列出的问题改正数字（不要增删行列，不要改动表格中的文字）；",
                      "2. 保存后直接回复本邮件，将改好的文件作为附件发回。", ""]
    body = "\n".join([*lines[:-1], *_sign_off(signer, today)]) + "\n"
    return Outgoing(agency, FEEDBACK, to, subject, body, attachments, key)


def confirmation_message(agency: str, to: list[str], files: list[dict], *, year: int | None,
                         format_id: str | None, signer: str | None, today: date,
                         key: str | None) -> Outgoing:
    """A short note that the agency's return passed (warnings listed for checking)."""
    title = report_title(year, format_id)
    subject = f"【{STATUS_ZH[PASS]}】{title}校验结果 — {agency}"
    names = "、".join(f"《{shown_name(str(f.get('path') or ''))}》" for f in files)
    lines = [f"{agency}：", "", f"贵单位报送的《{title}》（文件{names}）已通过校验，无需修改。"]
    warnings = [x for f in files for x in (f.get("findings") or [])]
    if warnings:
        lines += ["", "以下几处请再核对一下（不影响通过）："]
        lines.extend(f"{i}. {problem_line(x)}" for i, x in enumerate(warnings[:MAX_PROBLEMS], 1))
    lines += ["", "感谢贵单位的配合。"]
    body = "\n".join([*lines, *_sign_off(signer, today)]) + "\n"
    return Outgoing(agency, CONFIRMATION, to, subject, body, [], key)


def template_message(agency: str, to: list[str], attachment: Attachment, *, year: int | None,
                     format_id: str | None, deadline: date, signer: str | None, today: date,
                     key: str | None) -> Outgoing:
    """The agency's own template, what to fill in and by when."""
    fmt = _format(year, format_id)
    title = report_title(year, format_id)
    subject = f"【请填报】{title} — {agency}（请于{zh_date(deadline)}前报送）"
    parts = "；".join(p.title for p in fmt.parts)
    numbers = "、".join(p.number for p in fmt.parts)
    # 单位名称 and 年度 are filled in and locked (template --roster): checked, not typed.
    locked = "、".join(f.text for f in fmt.info.fields if f.key in LOCKED_INFO)
    info = "、".join(f.text for f in fmt.info.fields if f.key not in LOCKED_INFO)
    lines = [
        f"{agency}：", "",
        f"现将《{title}》填报模板（附件《{attachment.name}》）发给贵单位，"
        f"请于{zh_date(deadline)}前填好并报送。", "",
        "填报要求：",
        f"1. 在“{fmt.info.sheet}”工作表核对{locked}（已填好并锁定，如有错误请回复告知），填写{info}；",
        f"2. 填写第{numbers}部分（{parts}）的全部数字格；",
        "3. 没有数据的格子请填数字 0，不要留空，不要填“无”“—”等文字，也不要在数字后面带单位；",
        "4. 表格结构已锁定，请不要增删行列、改动表格中的文字或另建新表；",
        "5. 填好后保存为 .xlsx 格式（文件名可不改），直接回复本邮件，将文件作为附件发回。", "",
        "报送后我们会逐项校验，有问题的会通过邮件告知。",
    ]
    body = "\n".join([*lines, *_sign_off(signer, today, made_from="按单位名单")]) + "\n"
    return Outgoing(agency, TEMPLATE, to, subject, body, [attachment], key)
