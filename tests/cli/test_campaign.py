"""The whole loop over real servers: collect (Dovecot) -> check -> mail (aiosmtpd) -> a
corrected resend -> collect -> check; the ledger joins it all and `disclosure status`
shows round 1 failed, feedback sent, round 2 passed."""

from __future__ import annotations

from datetime import date, datetime

import openpyxl
import pytest
from rich.cells import cell_len
from test_collect import ADDR, BING, CST, DING, JIA, YI, a_return, deliver_round_one, run_cli
from test_mail import server  # noqa: F401  (the real SMTP server fixture)
from mails import message

from toolkit.ledger import Ledger


@pytest.fixture
def imap():
    from dovecot import Dovecot

    s = Dovecot()
    yield s
    s.stop()


def test_two_rounds_collect_check_mail_status(imap, server, tmp_path):  # noqa: F811
    from toolkit.reading.roster import RosterEntry, write_sample_roster

    roster = write_sample_roster(tmp_path / "单位名单.xlsx", [RosterEntry(n, "联系人", a) for n, a in ADDR.items()])
    db, returns = tmp_path / "台账.db", tmp_path / "报送文件"
    deliver_round_one(imap, tmp_path)
    env = imap.env()
    smtp = ["--smtp-host", "127.0.0.1", "--smtp-port", server.port, "--smtp-security", "plain",
            "--from", "office@example.cn", "--sender-name", "示例市政务公开办"]

    # The templates went out first (the deadline is recorded with them).
    code, out = run_cli("template", "--roster", roster, "-o", tmp_path / "模板", "--year", "2025")
    assert code == 0, out
    code, out = run_cli("distribute", tmp_path / "模板", "--roster", roster, "--deadline", "2026-01-31",
                        "--ledger", db, *smtp)
    assert code == 0 and sorted(server.recipients()) == sorted(ADDR.values()), out
    server.messages.clear()

    code, out = run_cli("collect", "-o", returns, "--roster", roster, "--ledger", db, env=env)
    assert code == 0, out
    code, out = run_cli("check", returns, "-o", tmp_path / "第1轮", "--roster", roster, "--ledger", db)
    assert code == 1, out  # 甲局's total is off
    code, out = run_cli("mail", tmp_path / "第1轮", "--roster", roster, "--ledger", db, *smtp)
    assert code == 0, out
    assert server.recipients() == [ADDR[JIA]]

    # 甲局 corrects its return and sends it again two days later.
    t = datetime(2026, 1, 7, 16, 0, tzinfo=CST)
    imap.append(message(ADDR[JIA], "回复：甲局报表需修改（已改正）", t,
                        [("甲局2025年报表（修改后）.xlsx", a_return(tmp_path, JIA, 0, saved="2026-01-07T07:50:00Z"))]).as_bytes())
    code, out = run_cli("collect", "-o", returns, "--roster", roster, "--ledger", db, env=env)
    assert code == 0 and f"  {JIA}：{JIA}_20260107-160000_甲局2025年报表（修改后）.xlsx" in out, out
    code, out = run_cli("status", "--ledger", db, "--deadline", "2026-01-31")
    assert code == 0 and "待校验 1 个" in out, out  # received, not yet checked
    code, out = run_cli("check", returns, "-o", tmp_path / "第2轮", "--roster", roster, "--ledger", db)
    # The corrected return is the one used (and passes); the superseded one is still listed
    # and still fails, but no longer fails the batch: every file used passes (exit 0).
    assert code == 0 and "  示例市甲局：2 个文件\n    采用 " in out and "需修改 1" in out, out
    assert f"结果：{tmp_path / '第2轮' / 'findings.json'}\n" in out  # a path whole, never folded

    code, out = run_cli("status", "--ledger", db)  # the deadline distribute recorded
    assert code == 0, out
    assert all(cell_len(line) <= 80 for line in out.splitlines()), out
    left = (date(2026, 1, 31) - date.today()).days
    due = f"还有 {left} 天" if left >= 0 else f"已过 {-left} 天"
    assert out.splitlines()[:2] == ["报送进度：共 4 个单位：已通过 4 个，待修改 0 个，待校验 0 个，未报送 0 个",
                                    f"截止 2026-01-31，{due}"]
    with Ledger(db) as ledger:
        from toolkit.outputs.status import progress

        state = progress(ledger)
    jia = state.agencies[0]
    assert [(r.number, r.status, r.errors) for r in jia.rounds] == [(1, "fail", 1), (2, "pass", 0)]
    assert jia.rounds[0].feedback_result == "sent" and jia.rounds[1].feedback_at is None
    assert all(a.template_result == "sent" for a in state.agencies)
    assert [name for _t, name in jia.received] == [f"{JIA}_20260105-093000_甲局2025年报表.xlsx",
                                                   f"{JIA}_20260107-160000_甲局2025年报表（修改后）.xlsx"]
    assert jia.used == f"{JIA}_20260107-160000_甲局2025年报表（修改后）.xlsx" and jia.outstanding == "已通过"
    assert jia.why.startswith("文件保存时间最新（")  # the corrected workbook was saved later
    assert f"{JIA}：采用 {jia.used}\n  理由：{jia.why}\n" in out
    assert [a.name for a in state.agencies] == [JIA, YI, BING, DING]
    jia_lines = [line for line in out.splitlines() if "01-05 09:30" in line or "01-07 16:00" in line][:2]
    assert "1 需修改（1处）" in jia_lines[0] and " 已发送" in jia_lines[0] and "已通过" in jia_lines[0]
    assert "2 通过" in jia_lines[1]

    # 汇总.xlsx opens on 报送进度: the same rows.
    wb = openpyxl.load_workbook(tmp_path / "第2轮" / "汇总.xlsx")
    ws = wb.worksheets[0]
    assert ws.title == "报送进度"
    assert [c.value for c in ws[3]] == ["序号", "单位名称", "模板下发", "收到报送", "各轮校验", "校验意见", "状态"]
    assert [ws.cell(4, c).value for c in (1, 2, 4, 5, 7)] == [
        1, JIA, "01-05 09:30\n01-07 16:00", "第1轮 需修改（1处）\n第2轮 通过", "已通过"]
    assert ws.cell(4, 6).value.endswith(" 已发送\n—")  # feedback on round 1, none needed on round 2
    assert ws.cell(5, 2).value == YI and ws.cell(5, 5).value == "第1轮 通过"
    assert ws.cell(4, 3).value.endswith(" 已发送")  # the template, sent through the server

    # The roll-up uses the same choice (with the ledger's received times): 甲's corrected
    # return; without a ledger file aggregate makes none.
    code, out = run_cli("aggregate", tmp_path / "第2轮", "-o", tmp_path / "汇总表.xlsx", "--ledger", db)
    assert code == 0 and (tmp_path / "汇总表.xlsx").is_file(), out
    assert out.startswith("已汇总 4 个单位的报表，未纳入 1 份")
    assert (f"  未纳入：{JIA}（{JIA}_20260105-093000_甲局2025年报表.xlsx）：重复报送：同一单位已采用 "
            f"{JIA}_20260107-160000_甲局2025年报表（修改后）.xlsx，理由：文件保存时间最新（") in out
    nowhere = tmp_path / "没有台账.db"
    code, out = run_cli("aggregate", tmp_path / "第2轮", "-o", tmp_path / "汇总表2.xlsx", "--ledger", nowhere)
    assert code == 0 and not nowhere.exists(), out
