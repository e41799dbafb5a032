"""Email: templates out, feedback back, through a real SMTP server (aiosmtpd on 127.0.0.1).

The OUTDIR fixtures (findings.json, annotated copies) and the template batch are built
here with openpyxl, so these tests do not depend on the checker or the template writer."""

from __future__ import annotations

import email
import json
import socket
from datetime import date
from email import policy
from email.header import decode_header, make_header
from email.parser import BytesParser
from pathlib import Path
from urllib.parse import quote

import openpyxl
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from figures import sha256
from openpyxl.comments import Comment
from openpyxl.packaging.custom import StringProperty
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.common import atomic
from toolkit.formats import spec
from toolkit.formats.findings import STATUS_ZH, Finding
from toolkit.mailing import (
    LOG_NAME,
    MailError,
    SettingsError,
    SmtpSettings,
    distribute_templates,
    load_settings,
    send_feedback,
)
from toolkit.mailing.sources import parse_addresses
from toolkit.reading.roster import RosterEntry, read_roster, write_sample_roster

YEAR = 2025
FMT = spec.for_year(YEAR)
TITLE = f"{YEAR}年{FMT.info.title}"
DEADLINE = date(2026, 1, 31)
TODAY = date(2026, 1, 5)

JIA, YI, BING, DING, WU, JI = (f"示例市{c}局" for c in "甲乙丙丁戊己")
ADDR = {JIA: "jia@example.cn", YI: "yi@example.cn", BING: "bing@example.cn", DING: "",
        WU: "wu@example.cn", JI: "ji@example.cn"}


# ---- a real SMTP server ------------------------------------------------------------

class Recorder:
    """Stores every accepted message.  ``reject``: addresses refused at RCPT with 550.
    ``drop_after``: once that many messages are stored, the server hangs up when the
    client starts the next one (once)."""

    def __init__(self):
        self.messages: list[tuple[list[str], bytes]] = []
        self.reject: set[str] = set()
        self.drop_after: int | None = None
        self.dropped = 0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.drop_after is not None and len(self.messages) >= self.drop_after:
            self.drop_after = None
            self.dropped += 1
            server.transport.close()  # the connection dies mid-conversation
            return "421 4.3.2 closing"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.reject:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK: queued"

    def parsed(self) -> list[tuple[list[str], email.message.EmailMessage]]:
        return [(to, BytesParser(policy=policy.default).parsebytes(raw)) for to, raw in self.messages]

    def recipients(self) -> list[str]:
        return [a for to, _raw in self.messages for a in to]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server():
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    recorder.port = controller.port
    yield recorder
    controller.stop()


def plain(port: int, **kw) -> SmtpSettings:
    return SmtpSettings(host="127.0.0.1", port=port, security="plain", sender="office@example.cn",
                        sender_name="示例市政务公开办", timeout=10, **kw)


# ---- fixtures: roster, a check's OUTDIR, a template batch ------------------------------

def roster_entries() -> list[RosterEntry]:
    return [RosterEntry(name, "联系人", ADDR[name]) for name in (JIA, YI, BING, DING, WU, JI)]


@pytest.fixture
def roster(tmp_path) -> Path:
    return write_sample_roster(tmp_path / "单位名单.xlsx", roster_entries())


def annotated_copy(path: Path, agency: str, cell: str) -> Path:
    """What the annotator leaves: the return with the flagged cell commented."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = FMT.info.sheet
    ws["B3"] = agency
    ws[cell] = "无"
    ws[cell].comment = Comment("此格填了“无”，没有数据请填数字 0", "校验")
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def fig(i: int):
    return list(FMT.figures.values())[i]


@pytest.fixture
def outdir(tmp_path) -> Path:
    """findings.json for: 甲 fail, 乙 fail (12 findings), 丙 unreadable (no agency in the
    file: matched by file name), 丁 fail (no address), 戊 pass; 己 did not report."""
    out = tmp_path / "out"
    files = []

    def entry(name, agency, status, findings, annotated=True):
        rel = f"annotated/{Path(name).stem}_校验意见.xlsx" if annotated else None
        if rel:
            annotated_copy(out / rel, agency or "", findings[0].cell or "B4")
        errors = sum(f.severity == "error" for f in findings)
        files.append({"path": f"/returns/{name}", "sha256": f"{len(files):064x}", "agency": agency,
                      "year": YEAR if status != "unreadable" else None, "format": FMT.id,
                      "status": status, "errors": errors, "warnings": len(findings) - errors,
                      "read_by": "names" if status != "unreadable" else None, "annotated": rel,
                      "findings": [f.to_json() for f in findings]})

    entry(f"{JIA}.xlsx", JIA, "fail", [Finding.of("R6.nil", figure=fig(0), value="无")])
    entry(f"{YI}报表.xlsx", YI, "fail",
          [Finding.of("R6.blank", figure=fig(i), detail="为空") for i in range(12)])
    entry(f"{BING}_年报.xlsx", None, "unreadable", [Finding.of("F3", detail="压缩包已损坏")], annotated=False)
    entry(f"{DING}.xlsx", DING, "fail", [Finding.of("R6.nil", figure=fig(1), value="无")])
    entry(f"{WU}.xlsx", WU, "pass", [], annotated=False)
    out.mkdir(parents=True, exist_ok=True)
    report = {"format": FMT.id, "generated_at": "2026-01-05T10:00:00+08:00", "files": files}
    (out / "findings.json").write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
    return out


def make_template(path: Path, agency: str | None, *, stamp: bool = True, marker: str = "") -> Path:
    """A per-agency template as the template batch stamps it: very hidden ``_meta`` and
    ``disclosure.*`` custom properties."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = FMT.info.sheet
    ws["B3"] = agency
    ws["A20"] = marker
    if stamp:
        meta = wb.create_sheet("_meta")
        meta.sheet_state = "veryHidden"
        values = {"format": FMT.id, "agency": agency, "year": YEAR, "generator": "disclosure-toolkit",
                  "version": "0.1.0", "fingerprint": FMT.fingerprint}
        for key, value in values.items():
            meta.append([key, value])
            wb.custom_doc_props.append(StringProperty(name=f"disclosure.{key}", value=str(value)))
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


@pytest.fixture
def templates(tmp_path) -> Path:
    """甲…戊 stamped; 己's stamp lost (matched by file name); one for an agency that is not
    on the roster."""
    d = tmp_path / "templates"
    for name in (JIA, YI, BING, DING, WU):
        make_template(d / f"{name}_{YEAR}年政府信息公开年度报表.xlsx", name)
    make_template(d / f"{JI}_{YEAR}年政府信息公开年度报表.xlsx", None, stamp=False)
    make_template(d / f"甲_{YEAR}年.xlsx", "示例市庚局")  # stamp says 庚局: not ours
    return d


def attachments(msg) -> list:
    return list(msg.iter_attachments())


# ---- distribute -------------------------------------------------------------------------

def test_distribute_sends_each_agency_its_own_template(server, templates):
    run = distribute_templates(templates, roster_entries(), plain(server.port), deadline=DEADLINE,
                               today=TODAY)

    assert sorted(server.recipients()) == sorted(a for a in ADDR.values() if a)
    for to, msg in server.parsed():
        agency = next(n for n, a in ADDR.items() if a == to[0])
        assert msg["subject"] == f"【请填报】{TITLE} — {agency}（请于2026年1月31日前报送）"
        assert msg["to"].addresses[0].display_name == agency
        (part,) = attachments(msg)
        name = f"{agency}_{YEAR}年政府信息公开年度报表.xlsx"
        assert part.get_filename() == name
        assert part.get_content() == (templates / name).read_bytes()
        body = msg.get_body(("plain",)).get_content()
        assert "2026年1月31日前" in body and f"“{FMT.info.sheet}”工作表" in body
        assert all(p.title in body for p in FMT.parts)
    assert [o.agency for o in run.no_address] == [DING]
    assert [(o.agency, o.result) for o in run.outcomes if o.result == "unmatched"] == [("示例市庚局", "unmatched")]
    lines = "\n".join(run.lines_zh())
    assert "没有电子邮箱" in lines and DING in lines and "示例市庚局" in lines
    assert run.exit_code == 0

    # A rerun sends nothing, even when the batch was regenerated (new bytes, same stamp).
    make_template(templates / f"{JIA}_{YEAR}年政府信息公开年度报表.xlsx", JIA, marker="重新生成")
    again = distribute_templates(templates, roster_entries(), plain(server.port), deadline=DEADLINE,
                                 today=TODAY)
    assert len(server.messages) == 5
    assert sorted(o.agency for o in again.skipped) == sorted(n for n, a in ADDR.items() if a)
    assert again.sent == []


def test_an_agency_listed_twice_gets_the_template_of_its_first_row(tmp_path):
    """The roster lists 甲局 twice: the batch makes a second, renamed template (with the
    second row's contact); mail goes by the first row, and so does the template sent."""
    from toolkit.template.batch import write_batch

    entries = [RosterEntry(JIA, "张三", "jia@example.cn", row=2), RosterEntry(YI, "李四", ADDR[YI], row=3),
               RosterEntry(JIA, "王五", "jia2@example.cn", row=4)]
    paths = write_batch(entries, tmp_path / "模板", year=YEAR)
    assert [p.name for p in paths] == [f"{JIA}_{YEAR}年政府信息公开年度报表.xlsx",
                                       f"{YI}_{YEAR}年政府信息公开年度报表.xlsx",
                                       f"{JIA}_{YEAR}年政府信息公开年度报表_2.xlsx"]
    run = distribute_templates(tmp_path / "模板", entries, SmtpSettings(), deadline=DEADLINE, dry_run=True,
                               today=TODAY)
    assert any("出现了多次" in n for n in run.notes)
    msg = BytesParser(policy=policy.default).parsebytes((tmp_path / "模板" / "outbox" / f"{JIA}_填报模板.eml").read_bytes())
    assert msg["to"].addresses[0].addr_spec == "jia@example.cn"
    (part,) = attachments(msg)
    assert part.get_content() == paths[0].read_bytes()  # 张三's, not 王五's


def test_distribute_year_filter_and_missing_template(server, tmp_path):
    d = tmp_path / "t"
    make_template(d / f"{JIA}_{YEAR}年政府信息公开年度报表.xlsx", JIA)
    run = distribute_templates(d, roster_entries()[:2], plain(server.port), deadline=DEADLINE,
                               today=TODAY, log_dir=tmp_path / "log")
    assert server.recipients() == [ADDR[JIA]]
    assert [(o.agency, o.result) for o in run.outcomes if o.result == "missing"] == [(YI, "missing")]
    assert (tmp_path / "log" / LOG_NAME).is_file() and not (d / LOG_NAME).exists()
    with pytest.raises(MailError, match="没有找到2024年的模板"):
        distribute_templates(d, roster_entries(), plain(server.port), deadline=DEADLINE, year=2024)


# ---- mail (feedback) --------------------------------------------------------------------

def test_feedback_one_message_per_agency_with_findings(server, outdir):
    run = send_feedback(outdir, roster_entries(), plain(server.port), today=TODAY)

    assert sorted(server.recipients()) == sorted([ADDR[JIA], ADDR[YI], ADDR[BING]])
    got = {to[0]: msg for to, msg in server.parsed()}
    jia = got[ADDR[JIA]]
    assert jia["subject"] == f"【{STATUS_ZH['fail']}】{TITLE}校验意见 — {JIA}"
    (part,) = attachments(jia)
    assert part.get_filename() == f"{JIA}_校验意见.xlsx"
    assert part.get_content() == (outdir / "annotated" / f"{JIA}_校验意见.xlsx").read_bytes()
    assert part.get_content_type() == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    body = jia.get_body(("plain",)).get_content()
    f0 = fig(0)
    message = Finding.of("R6.nil", figure=f0, value="无").message
    assert f"“{f0.sheet}”表 {f0.cell} 格（{f0.row_text} / {f0.column_text}）：{message}" in body
    assert "1 处错误" in body and "回复本邮件" in body and "示例市政务公开办" in body

    yi_body = got[ADDR[YI]].get_body(("plain",)).get_content()
    assert "12 处错误" in yi_body and "另有 2 处问题" in yi_body

    bing = got[ADDR[BING]]  # unreadable: no agency in the file, found by its name
    assert bing["subject"] == f"【{STATUS_ZH['unreadable']}】{TITLE}校验意见 — {BING}"
    assert attachments(bing) == []
    assert "无法读取" in bing.get_body(("plain",)).get_content()
    assert "压缩包已损坏" in bing.get_body(("plain",)).get_content()

    assert [o.agency for o in run.no_address] == [DING]
    assert [o.agency for o in run.of("passed")] == [WU]
    assert [o.agency for o in run.of("not_submitted")] == [JI]

    log = [json.loads(line) for line in (outdir / LOG_NAME).read_text(encoding="utf-8").splitlines()]
    assert [(e["agency"], e["kind"], e["result"]) for e in log] == [
        (JIA, "feedback", "sent"), (YI, "feedback", "sent"), (BING, "feedback", "sent")]
    assert log[0]["sha256"] == sha256(outdir / "annotated" / f"{JIA}_校验意见.xlsx")
    assert log[0]["message_id"] == jia["message-id"] and log[0]["address"] == ADDR[JIA]

    # A rerun sends nothing.
    again = send_feedback(outdir, roster_entries(), plain(server.port), today=TODAY)
    assert len(server.messages) == 3 and again.sent == [] and len(again.skipped) == 3


def test_attachment_name_headers_for_every_kind_of_client(server, outdir):
    send_feedback(outdir, roster_entries()[:1], plain(server.port), today=TODAY)
    (_to, raw), = server.messages
    name = f"{JIA}_校验意见.xlsx"
    text = raw.decode("ascii")  # 7-bit clean: nothing relies on 8BITMIME
    assert f"filename*=utf-8''{quote(name, safe='')}" in text  # RFC 2231
    legacy = email.message_from_bytes(raw)  # compat32: the old API
    part = [p for p in legacy.walk() if p.get_content_maintype() == "application"][0]
    assert part.get_filename() == name
    # Content-Type name= as an RFC 2047 encoded word, for clients that read only that.
    assert str(make_header(decode_header(part.get_param("name")))) == name
    assert part.get_content_type().endswith("spreadsheetml.sheet")
    assert all(len(line) <= 998 for line in text.split("\r\n"))


def test_confirm_passed_sends_a_short_confirmation(server, outdir):
    run = send_feedback(outdir, roster_entries(), plain(server.port), confirm_passed=True, today=TODAY)
    got = {to[0]: msg for to, msg in server.parsed()}
    wu = got[ADDR[WU]]
    assert wu["subject"] == f"【{STATUS_ZH['pass']}】{TITLE}校验结果 — {WU}"
    assert attachments(wu) == [] and "已通过校验" in wu.get_body(("plain",)).get_content()
    assert len(run.sent) == 4


def test_rejected_recipient_is_reported_and_others_delivered(server, outdir):
    server.reject = {ADDR[YI]}
    run = send_feedback(outdir, roster_entries(), plain(server.port), today=TODAY)
    assert sorted(server.recipients()) == sorted([ADDR[JIA], ADDR[BING]])
    (rejected,) = run.rejected
    assert rejected.agency == YI and "550" in rejected.detail and ADDR[YI] in rejected.detail
    assert run.exit_code == 1
    assert any(YI in line for line in run.lines_zh() if "yi@" in line)
    log = [json.loads(line) for line in (outdir / LOG_NAME).read_text(encoding="utf-8").splitlines()]
    assert [(e["agency"], e["result"]) for e in log] == [(JIA, "sent"), (YI, "rejected"), (BING, "sent")]

    # Once the address works, a rerun sends only that one.
    server.reject = set()
    again = send_feedback(outdir, roster_entries(), plain(server.port), today=TODAY)
    assert [o.agency for o in again.sent] == [YI]
    assert sorted(server.recipients()) == sorted([ADDR[JIA], ADDR[BING], ADDR[YI]])


def test_connection_dropped_after_second_message_is_finished_by_rerun(server, outdir):
    server.drop_after = 2
    run = send_feedback(outdir, roster_entries(), plain(server.port), confirm_passed=True, today=TODAY)
    assert server.dropped == 1
    assert [o.agency for o in run.sent] == [JIA, YI]
    assert run.error and "连接中断" in run.error and run.exit_code == 1
    assert [(o.agency, o.result) for o in run.failed] == [(BING, "failed"), (WU, "pending")]
    log = [json.loads(line) for line in (outdir / LOG_NAME).read_text(encoding="utf-8").splitlines()]
    assert [(e["agency"], e["result"]) for e in log] == [(JIA, "sent"), (YI, "sent"), (BING, "failed")]

    again = send_feedback(outdir, roster_entries(), plain(server.port), confirm_passed=True, today=TODAY)
    assert [o.agency for o in again.sent] == [BING, WU] and again.exit_code == 0
    # Every agency received exactly once in total.
    assert sorted(server.recipients()) == sorted([ADDR[JIA], ADDR[YI], ADDR[BING], ADDR[WU]])


def test_changed_return_is_sent_again_a_rechecked_one_is_not(server, outdir):
    send_feedback(outdir, roster_entries(), plain(server.port), today=TODAY)
    data = json.loads((outdir / "findings.json").read_text(encoding="utf-8"))
    # The same return checked again: the annotated copy's bytes change (time stamps), the
    # return's do not.  Nothing new to tell the agency.
    annotated_copy(outdir / data["files"][0]["annotated"], JIA, "D9")
    assert send_feedback(outdir, roster_entries(), plain(server.port), today=TODAY).sent == []
    data["files"][0]["sha256"] = "f" * 64  # 甲 sent a new file, still wrong
    annotated_copy(outdir / data["files"][0]["annotated"], JIA, "C5")
    (outdir / "findings.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    again = send_feedback(outdir, roster_entries(), plain(server.port), today=TODAY)
    assert [o.agency for o in again.sent] == [JIA]


def test_sent_log_survives_a_line_cut_short(server, outdir):
    send_feedback(outdir, roster_entries()[:1], plain(server.port), today=TODAY)
    with (outdir / LOG_NAME).open("ab") as fh:
        fh.write(b'{"agency": "\xe7\xa4\xba')  # a crash mid-write
    run = send_feedback(outdir, roster_entries()[:2], plain(server.port), today=TODAY)
    assert [o.agency for o in run.sent] == [YI] and [o.agency for o in run.skipped] == [JIA]
    lines = (outdir / LOG_NAME).read_text(encoding="utf-8", errors="replace").splitlines()
    assert json.loads(lines[-1])["agency"] == YI


# ---- dry run ----------------------------------------------------------------------------

def test_dry_run_writes_eml_files_that_parse_back(outdir, templates):
    run = send_feedback(outdir, roster_entries(), SmtpSettings(), dry_run=True, today=TODAY)
    emls = sorted((outdir / "outbox").glob("*.eml"))
    assert [p.name for p in emls] == sorted(f"{n}_校验意见.eml" for n in (JIA, YI, BING))
    msg = BytesParser(policy=policy.default).parsebytes((outdir / "outbox" / f"{JIA}_校验意见.eml").read_bytes())
    assert msg["subject"] == f"【{STATUS_ZH['fail']}】{TITLE}校验意见 — {JIA}"
    (part,) = attachments(msg)
    assert part.get_filename() == f"{JIA}_校验意见.xlsx"
    assert part.get_content() == (outdir / "annotated" / f"{JIA}_校验意见.xlsx").read_bytes()
    assert len(run.drafted) == 3 and not (outdir / LOG_NAME).exists()

    drun = distribute_templates(templates, roster_entries(), SmtpSettings(), deadline=DEADLINE,
                                dry_run=True, today=TODAY)
    assert len(drun.drafted) == 5
    t = BytesParser(policy=policy.default).parsebytes((templates / "outbox" / f"{JI}_填报模板.eml").read_bytes())
    assert t["subject"].startswith(f"【请填报】{TITLE} — {JI}")
    assert attachments(t)[0].get_filename() == f"{JI}_{YEAR}年政府信息公开年度报表.xlsx"


def test_a_name_typed_with_a_suffix_is_matched_by_the_template_it_came_on(outdir):
    """甲局 typed “示例市甲局（盖章）” on the template made for it, in a file whose name says
    nothing: its feedback goes to 甲局 (findings.json's stamped_agency), as `check` groups it."""
    report = json.loads((outdir / "findings.json").read_text(encoding="utf-8"))
    jia = report["files"][0]
    jia.update(path="/returns/报表.xlsx", agency=f"{JIA}（盖章）", stamped_agency=JIA)
    (outdir / "findings.json").write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
    run = send_feedback(outdir, roster_entries(), SmtpSettings(), dry_run=True, today=TODAY)
    assert (outdir / "outbox" / f"{JIA}_校验意见.eml").is_file() and len(run.drafted) == 3


def test_dry_run_does_not_count_as_sent(server, outdir):
    send_feedback(outdir, roster_entries(), SmtpSettings(), dry_run=True, today=TODAY)
    run = send_feedback(outdir, roster_entries(), plain(server.port), today=TODAY)
    assert len(run.sent) == 3


# ---- the command line ------------------------------------------------------------------

def test_cli_mail_against_real_server(server, outdir, roster):
    result = CliRunner().invoke(app, ["mail", str(outdir), "--roster", str(roster), "--smtp-host",
                                      "127.0.0.1", "--smtp-port", str(server.port), "--smtp-security",
                                      "plain", "--from", "office@example.cn"])
    assert result.exit_code == 0, result.output
    assert "已发送 3 封" in result.output and DING in result.output and "没有电子邮箱" in result.output
    assert len(server.messages) == 3


def test_cli_distribute_dry_run_into_out_dir(templates, roster, tmp_path):
    out = tmp_path / "发送"
    result = CliRunner().invoke(app, ["distribute", str(templates), "--roster", str(roster), "--deadline",
                                      "2026年1月31日", "--dry-run", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert len(list((out / "outbox").glob("*.eml"))) == 5 and not (templates / "outbox").exists()


def test_cli_bad_deadline_and_missing_findings(tmp_path, roster):
    r = CliRunner().invoke(app, ["distribute", str(tmp_path), "--roster", str(roster), "--deadline", "明年"])
    assert r.exit_code == 2 and "截止日期“明年”无法识别" in r.output
    r = CliRunner().invoke(app, ["mail", str(tmp_path), "--roster", str(roster), "--dry-run"])
    assert r.exit_code == 1 and "findings.json" in r.output and "disclosure check" in r.output
    assert "Traceback" not in r.output


def test_cli_connection_refused_is_a_chinese_message(outdir, roster):
    port = free_port()  # nobody listens here
    result = CliRunner().invoke(app, ["mail", str(outdir), "--roster", str(roster), "--smtp-host",
                                      "127.0.0.1", "--smtp-port", str(port), "--smtp-security", "plain",
                                      "--from", "office@example.cn"])
    assert result.exit_code == 1
    assert f"无法连接 SMTP 服务器 127.0.0.1:{port}（连接被拒绝）" in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert not (outdir / LOG_NAME).exists()  # nothing was handed over


def test_cli_without_host_says_how_to_set_it(outdir, roster, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for var in ("HOST", "FROM", "USER", "PORT", "SECURITY"):
        monkeypatch.delenv(f"DISCLOSURE_SMTP_{var}", raising=False)
    r = CliRunner().invoke(app, ["mail", str(outdir), "--roster", str(roster)])
    assert r.exit_code == 1 and "未设置 SMTP 服务器地址" in r.output and "--dry-run" in r.output


@pytest.fixture
def auth_server():
    recorder = Recorder()

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"office@example.cn" and auth_data.password == b"s3cret"
        return AuthResult(success=ok, handled=False)  # False: the server answers 535

    controller = Controller(recorder, hostname="127.0.0.1", port=free_port(), authenticator=authenticator,
                            auth_require_tls=False)
    controller.start()
    recorder.port = controller.port
    yield recorder
    controller.stop()


def test_cli_login_password_from_prompt_or_environment(auth_server, outdir, roster):
    args = ["mail", str(outdir), "--roster", str(roster), "--smtp-host", "127.0.0.1", "--smtp-port",
            str(auth_server.port), "--smtp-security", "plain", "--smtp-user", "office@example.cn"]
    wrong = CliRunner().invoke(app, args, input="wrong\n", env={"DISCLOSURE_SMTP_PASSWORD": ""})
    assert wrong.exit_code == 1 and "SMTP 登录失败" in wrong.output and "授权码" in wrong.output
    assert auth_server.messages == []
    prompted = CliRunner().invoke(app, args, input="s3cret\n", env={"DISCLOSURE_SMTP_PASSWORD": ""})
    assert prompted.exit_code == 0, prompted.output
    assert "s3cret" not in prompted.output and len(auth_server.messages) == 3
    from_env = CliRunner().invoke(app, [*args, "--confirm-passed"],
                                  env={"DISCLOSURE_SMTP_PASSWORD": "s3cret"})
    assert from_env.exit_code == 0, from_env.output
    assert auth_server.recipients()[-1] == ADDR[WU]


def test_starttls_and_ssl_against_a_plain_server_fail_in_chinese(server, outdir):
    s = SmtpSettings(host="127.0.0.1", port=server.port, security="starttls", sender="o@x.cn", timeout=5)
    run = send_feedback(outdir, roster_entries(), s, today=TODAY)
    assert "不支持 STARTTLS" in run.error and run.sent == [] and len(run.failed) == 3
    s = SmtpSettings(host="127.0.0.1", port=server.port, security="ssl", sender="o@example.cn", timeout=5)
    run = send_feedback(outdir, roster_entries(), s, today=TODAY)
    assert run.error and "SMTP" in run.error and server.messages == []


# ---- settings and addresses ---------------------------------------------------------------

def test_settings_precedence_options_environment_file(tmp_path):
    cfg = tmp_path / "disclosure-smtp.toml"
    cfg.write_text('[smtp]\nhost = "smtp.file.cn"\nport = 465\nfrom = "file@x.cn"\nuser = "u@file.cn"\n'
                   'name = "示例市政务公开办"\n', encoding="utf-8")
    s = load_settings(env={}, cwd=tmp_path)
    assert (s.host, s.effective_port, s.security, s.sender, s.sender_name) == (
        "smtp.file.cn", 465, "ssl", "file@x.cn", "示例市政务公开办")
    env = {"DISCLOSURE_SMTP_HOST": "smtp.env.cn", "DISCLOSURE_SMTP_PORT": "587",
           "DISCLOSURE_SMTP_PASSWORD": "pw"}
    s = load_settings(env=env, cwd=tmp_path)
    assert (s.host, s.security, s.password, s.user) == ("smtp.env.cn", "starttls", "pw", "u@file.cn")
    s = load_settings(host="smtp.opt.cn", security="plain", env=env, cwd=tmp_path)
    assert (s.host, s.effective_port, s.security) == ("smtp.opt.cn", 587, "plain")
    assert "pw" not in repr(s)
    assert load_settings(user="me@qq.com", env={}, cwd=tmp_path / "nowhere").sender == "me@qq.com"


def test_settings_refuse_password_in_file_and_bad_values(tmp_path):
    cfg = tmp_path / "smtp.toml"
    cfg.write_text('host = "a"\npassword = "x"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="不能保存密码"):
        load_settings(config=cfg, env={})
    cfg.write_text('hots = "a"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="无法识别的设置：hots"):
        load_settings(config=cfg, env={})
    with pytest.raises(SettingsError, match="无法识别的加密方式"):
        load_settings(security="quantum", env={}, cwd=tmp_path)
    with pytest.raises(SettingsError, match="端口"):
        load_settings(env={"DISCLOSURE_SMTP_PORT": "abc"}, cwd=tmp_path)
    with pytest.raises(SettingsError, match="找不到 CA 证书文件"):
        load_settings(env={"DISCLOSURE_SMTP_CAFILE": str(tmp_path / "ca.pem")}, cwd=tmp_path)
    with pytest.raises(SettingsError, match="找不到 SMTP 配置文件"):
        load_settings(config=tmp_path / "none.toml", env={})


def test_roster_addresses_as_people_type_them(server, outdir):
    assert parse_addresses("jia@example.cn；ke@example.cn") == (["jia@example.cn", "ke@example.cn"], [])
    assert parse_addresses("张三 <jia@example.cn>") == (["jia@example.cn"], [])
    assert parse_addresses("ｊｉａ＠ｅｘａｍｐｌｅ．ｃｎ") == (["jia@example.cn"], [])
    assert parse_addresses("无") == ([], ["无"])
    assert parse_addresses("") == ([], [])
    entries = [RosterEntry(JIA, email="jia@example.cn、jia2@example.cn"),
               RosterEntry(YI, email="yi at example")]
    run = send_feedback(outdir, entries, plain(server.port), today=TODAY)
    assert server.messages[0][0] == ["jia@example.cn", "jia2@example.cn"]
    assert [(o.agency, o.result) for o in run.no_address] == [(YI, "bad_address")]
    assert any("邮箱无效" in line or "电子邮箱无效" in line for line in run.lines_zh())


def test_roster_file_round_trip_keeps_addresses(roster):
    assert [e.email for e in read_roster(roster)] == [ADDR[n] for n in (JIA, YI, BING, DING, WU, JI)]


# ---- end to end: the real template batch and the real checker ----------------------------

def test_end_to_end_templates_out_returns_checked_feedback_back(server, tmp_path):
    from figures import consistent, fill  # tests/figures.py

    from toolkit.outputs.check import run as check
    from toolkit.template.batch import write_batch

    entries = [RosterEntry(JIA, "张三", ADDR[JIA]), RosterEntry(YI, "李四", ADDR[YI]),
               RosterEntry(BING, "王五", ADDR[BING])]
    roster_path = write_sample_roster(tmp_path / "单位名单.xlsx", entries)
    paths = write_batch(read_roster(roster_path), tmp_path / "模板", year=YEAR)
    sent = distribute_templates(tmp_path / "模板", read_roster(roster_path), plain(server.port),
                                deadline=DEADLINE, today=TODAY)
    assert [o.agency for o in sent.sent] == [JIA, YI, BING]
    by_addr = {to[0]: msg for to, msg in server.parsed()}
    for entry, path in zip(entries, paths):
        (part,) = attachments(by_addr[entry.email])
        assert part.get_filename() == path.name and part.get_content() == path.read_bytes()

    # The agencies fill what they received: 甲 right, 乙 with a “无”, 丙 sends a broken file.
    import random
    returns = tmp_path / "收到"
    returns.mkdir()
    figures = consistent(FMT, random.Random(7))
    got = {to[0]: attachments(msg)[0].get_content() for to, msg in server.parsed()}
    for name, addr, change in ((JIA, ADDR[JIA], {}), (YI, ADDR[YI], {fig(0).key: "无"})):
        blank = returns / f"{name}.xlsx"
        blank.write_bytes(got[addr])
        fill(blank, {**figures, **change})
    (returns / f"{BING}_年报.xlsx").write_bytes(got[ADDR[BING]][:500])  # cut short in transit
    out = tmp_path / "校验结果"
    check([returns], out, workers=1)

    server.messages.clear()
    run = send_feedback(out, read_roster(roster_path), plain(server.port), today=TODAY)
    assert [o.agency for o in run.sent] == [YI, BING] and [o.agency for o in run.of("passed")] == [JIA]
    files = json.loads((out / "findings.json").read_text("utf-8"))["files"]
    report = {Path(f["path"]).name: f for f in files}
    by_addr = {to[0]: msg for to, msg in server.parsed()}
    yi = by_addr[ADDR[YI]]
    assert yi["subject"] == f"【{STATUS_ZH['fail']}】{TITLE}校验意见 — {YI}"
    (part,) = attachments(yi)
    annotated = out / report[f"{YI}.xlsx"]["annotated"]
    assert part.get_filename() == annotated.name and part.get_content() == annotated.read_bytes()
    assert f"{fig(0).cell} 格" in yi.get_body(("plain",)).get_content()
    assert by_addr[ADDR[BING]]["subject"] == f"【{STATUS_ZH['unreadable']}】{TITLE}校验意见 — {BING}"

    # Checking the same returns again (new annotated bytes) sends nothing new.
    check([returns], out, workers=1)
    again = send_feedback(out, read_roster(roster_path), plain(server.port), today=TODAY)
    assert again.sent == [] and len(server.messages) == 2


def test_agency_listed_twice_gets_one_message_and_stale_drafts_go(outdir):
    entries = [*roster_entries(), RosterEntry(f"示例市 {'甲'}局", email="other@example.cn", row=9)]
    atomic.write_bytes(outdir / "outbox" / "示例市庚局_校验意见.eml", b"old")  # an earlier preview's
    (outdir / "outbox" / f"{JIA}_校验意见.eml").write_bytes(b"mine")  # not the toolkit's: kept
    run = send_feedback(outdir, entries, SmtpSettings(), dry_run=True, today=TODAY)
    assert sorted(p.name for p in (outdir / "outbox").iterdir() if not p.name.startswith(".")) == sorted(
        [f"{JIA}_校验意见_2.eml", *(f"{n}_校验意见.eml" for n in (JIA, YI, BING))])
    assert (outdir / "outbox" / f"{JIA}_校验意见.eml").read_bytes() == b"mine"
    assert [o.address for o in run.drafted if o.agency == JIA] == [ADDR[JIA]]
    assert any("出现了多次" in line for line in run.lines_zh())


# ---- SSL (465) and STARTTLS (587) for real ---------------------------------------------------
# A test CA and a server certificate for 127.0.0.1 / localhost, valid until 2126 (made with
# openssl; EC P-256).  Embedded so that the tests need nothing but the standard library.
TEST_CA = """-----BEGIN CERTIFICATE-----
MIIBgDCCASagAwIBAgIUKoiJmBRWhaxvTdL2igMGtjiv14MwCgYIKoZIzj0EAwIw
HTEbMBkGA1UEAwwSZGlzY2xvc3VyZSB0ZXN0IENBMCAXDTI2MTEyNTIwMDA1N1oY
DzIxMjYxMTAxMjAwMDU3WjAdMRswGQYDVQQDDBJkaXNjbG9zdXJlIHRlc3QgQ0Ew
WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASMG6kVvGtObdVS8dbNFkIELvEL+Dht
rqa16jfhvz7IBlI5T9aXfnWWs8CidAE0VlP0ylhiHvuz+6OzxnZBDY7Zo0IwQDAP
BgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIBBjAdBgNVHQ4EFgQUdGbiD6dH
AWI7PXe2ZH/xFZVjdZUwCgYIKoZIzj0EAwIDSAAwRQIhAOiRS9xAl+K5kmXmQ6B8
ZcSFegd4AXHOX9pWTDQuRoqpAiBah7RVbqgrtUCp1D58jjl7uz73ZVYliYYCL3lW
3xLaUw==
-----END CERTIFICATE-----
"""
SERVER_CERT = """-----BEGIN CERTIFICATE-----
MIIByTCCAW6gAwIBAgIUbSRwqBFiir9D3GLvEoBNk6iAm+QwCgYIKoZIzj0EAwIw
HTEbMBkGA1UEAwwSZGlzY2xvc3VyZSB0ZXN0IENBMCAXDTI2MTEyNTIwMDA1N1oY
DzIxMjYxMTAxMjAwMDU3WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjO
PQIBBggqhkjOPQMBBwNCAARADy8+EU9JeOx4KjW/9/86K9/NBHOjBGk+kkDiNlHc
XAH34NHmwo0WffSUDOVlhCrxsW9SOf4016tntbgi2Bu6o4GSMIGPMAwGA1UdEwEB
/wQCMAAwDgYDVR0PAQH/BAQDAgWgMBMGA1UdJQQMMAoGCCsGAQUFBwMBMBoGA1Ud
EQQTMBGHBH8AAAGCCWxvY2FsaG9zdDAdBgNVHQ4EFgQUbvV6hU5lW9OFhK6d9m8Q
Yb5wiwowHwYDVR0jBBgwFoAUdGbiD6dHAWI7PXe2ZH/xFZVjdZUwCgYIKoZIzj0E
AwIDSQAwRgIhAJU2f+NZXOg9qc6YFjolgkaT5XF3x94QdtZZeqCD3Q2bAiEA2i2X
kVvScNDL6vH8m2lP7epexD14/wRs2N5+uzjF0xw=
-----END CERTIFICATE-----
"""
SERVER_KEY = """-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQggFr8ZLlnirTs/F4O
hKvsfr9VfTtsC5tx8j3EbI2dMQOhRANCAARADy8+EU9JeOx4KjW/9/86K9/NBHOj
BGk+kkDiNlHcXAH34NHmwo0WffSUDOVlhCrxsW9SOf4016tntbgi2Bu6
-----END PRIVATE KEY-----
"""


@pytest.fixture
def tls_files(tmp_path) -> dict[str, Path]:
    files = {"ca": TEST_CA, "cert": SERVER_CERT, "key": SERVER_KEY}
    for name, text in files.items():
        (tmp_path / f"{name}.pem").write_text(text, encoding="ascii")
    return {name: tmp_path / f"{name}.pem" for name in files}


def tls_server(tls_files, *, implicit: bool) -> tuple[Recorder, Controller]:
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls_files["cert"], tls_files["key"])
    recorder = Recorder()

    def authenticator(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=auth_data.password == b"s3cret", handled=False)

    # aiosmtpd cannot tell an implicit-TLS session is encrypted: let AUTH through there.
    tls = ({"ssl_context": context, "auth_require_tls": False} if implicit
           else {"tls_context": context, "require_starttls": True})
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port(), authenticator=authenticator,
                            **tls)
    controller.start()
    recorder.port = controller.port
    return recorder, controller


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_encrypted_login_and_send(tls_files, outdir, security):
    recorder, controller = tls_server(tls_files, implicit=security == "ssl")
    try:
        base = dict(host="127.0.0.1", port=recorder.port, security=security, sender="o@example.cn",
                    user="o@example.cn", timeout=10)
        # The system's CAs do not know the test CA: refused, and the message says what to do.
        run = send_feedback(outdir, roster_entries(), SmtpSettings(**base, password="s3cret"), today=TODAY)
        assert "证书无法验证" in run.error and "--smtp-cafile" in run.error and recorder.messages == []
        # Trusting it, with the password asked for at the prompt (the server demands TLS first).
        asked = []
        settings = SmtpSettings(**base, cafile=str(tls_files["ca"]))
        run = send_feedback(outdir, roster_entries(), settings, today=TODAY,
                            password_prompt=lambda: asked.append(1) or "s3cret")
        assert run.error is None and [o.agency for o in run.sent] == [JIA, YI, BING] and asked == [1]
        assert sorted(recorder.recipients()) == sorted([ADDR[JIA], ADDR[YI], ADDR[BING]])
    finally:
        controller.stop()


def test_unwritable_sent_log_stops_the_run(server, outdir):
    (outdir / LOG_NAME).mkdir()  # the log's name is taken by a folder: appending fails
    run = send_feedback(outdir, roster_entries(), plain(server.port), today=TODAY)
    assert [o.agency for o in run.sent] == [JIA] and len(server.messages) == 1
    assert "无法写入发送记录" in run.error and [o.result for o in run.failed] == ["pending", "pending"]
    assert run.exit_code == 1


def test_no_feedback_on_a_return_already_replaced(tmp_path):
    """An agency sent a wrong return, then a corrected one: the corrected one is used
    (coverage.USED_RULE), so no feedback goes out on the old file."""
    import os
    import random
    import shutil

    from figures import consistent, fill

    from toolkit.formats import spec
    from toolkit.mailing.run import send_feedback
    from toolkit.mailing.settings import SmtpSettings
    from toolkit.outputs import check
    from toolkit.reading.roster import RosterEntry, read_roster, write_sample_roster
    from toolkit.template.writer import write_template

    fmt = spec.get("gov-2021")
    inbox = tmp_path / "报送"
    inbox.mkdir()
    template = write_template(tmp_path / "t.xlsx", fmt, agency="丙局", year=2025)
    values = consistent(fmt, random.Random(9))
    fill(shutil.copy(template, inbox / "丙局.xlsx"), {**values, "p3.open.total": values["p3.open.total"] + 1})
    fill(shutil.copy(template, inbox / "丙局_更正.xlsx"), values)
    os.utime(inbox / "丙局.xlsx", (1_700_000_000, 1_700_000_000))  # the older one
    roster = tmp_path / "名单.xlsx"
    write_sample_roster(roster, [RosterEntry("丙局", "王五", "c@example.org", "")])
    check.run([inbox], tmp_path / "out", roster=roster)
    run = send_feedback(tmp_path / "out", read_roster(roster), SmtpSettings(), dry_run=True)
    assert run.drafted == []
    assert not list((tmp_path / "out" / "outbox").glob("*.eml"))
