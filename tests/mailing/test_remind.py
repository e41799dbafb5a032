"""`disclosure remind`: near the deadline, each agency that still owes something gets one
reminder saying what (drafted, or sent through a real SMTP server), never twice."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path

from test_mail import server  # noqa: F401  (the real SMTP server fixture)
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.ledger import Ledger
from toolkit.reading.roster import RosterEntry

JIA, YI, BING = "示例县甲局", "示例县乙局", "示例县丙局"


def campaign(db, deadline: date) -> None:
    """甲 passed, 乙 failed round 1 (feedback sent), 丙 sent nothing."""
    with Ledger(db) as ledger:
        ledger.record_roster([RosterEntry(JIA, "张三", "jia@example.cn"), RosterEntry(YI, "李四", "yi@example.cn"),
                              RosterEntry(BING, "王五", "bing@example.cn")])
        ledger.set_campaign(deadline=deadline.isoformat(), year=2025)
        ledger.record_check("/out", [
            dict(path="/r/甲.xlsx", sha256="a1", agency=JIA, status="pass", errors=0, warnings=0),
            dict(path="/r/乙.xlsx", sha256="b1", agency=YI, status="fail", errors=3, warnings=0,
                 findings=[dict(rule="R3", severity="error", message="…")])])
        ledger.record_sent("feedback", agency=YI, address="yi@example.cn", kind="feedback", sha256="b1",
                           result="sent", at="2026-01-20T10:00:00+08:00")


def cli(*args):
    result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.output


def test_remind_drafts_say_what_is_owed(tmp_path):
    db = tmp_path / "台账.db"
    due = date.today() + timedelta(days=2)
    campaign(db, due)
    code, out = cli("remind", "--before", "1", "--dry-run", "-o", tmp_path, "--ledger", db)
    assert code == 0 and "离截止" in out and "还有 2 天，未到催报时间（--before 1：截止前 1 天内才催报）。" in out
    assert not (tmp_path / "outbox").exists()

    code, out = cli("remind", "--before", "3", "--dry-run", "-o", tmp_path, "--ledger", db)
    assert code == 0, out
    drafts = {p.name: BytesParser(policy=policy.default).parsebytes(p.read_bytes())
              for p in (tmp_path / "outbox").glob("*.eml")}
    assert sorted(drafts) == [f"{BING}_催报.eml", f"{YI}_催报.eml"]  # 甲 passed: nothing to say
    zh_due = f"{due.year}年{due.month}月{due.day}日"
    yi = drafts[f"{YI}_催报.eml"]
    assert str(yi["Subject"]) == f"【催报】2025年政府信息公开工作年度报告报表 — {YI}（截止{zh_due}）"
    assert str(yi["To"]) == f"{YI} <yi@example.cn>"
    assert (f"经校验有 3 处需要修改，校验意见已于2026年1月20日发给贵单位。报送截止日期为{zh_due}（还有 2 天），"
            "请按校验意见修改后重新报送。") in yi.get_content()
    bing = drafts[f"{BING}_催报.eml"].get_content()
    assert f"的报送截止日期为{zh_due}（还有 2 天），我们还没有收到贵单位的报表。" in bing
    assert "R3" not in yi.get_content()  # no rule ID in a sentence for an agency
    with Ledger(db) as ledger:
        got = sorted((r["agency"], r["owes"], r["result"]) for r in ledger.rows("SELECT * FROM reminders"))
    assert got == [(BING, "未报送", "drafted"), (YI, "待修改", "drafted")]


def test_remind_sends_once(tmp_path, server):  # noqa: F811
    db = tmp_path / "台账.db"
    campaign(db, date.today() + timedelta(days=1))
    smtp = ["--smtp-host", "127.0.0.1", "--smtp-port", server.port, "--smtp-security", "plain",
            "--from", "office@example.cn", "--sender-name", "示例县政务公开办"]
    code, out = cli("remind", "--before", "3", "-o", tmp_path, "--ledger", db, *smtp)
    assert code == 0, out
    assert sorted(server.recipients()) == ["bing@example.cn", "yi@example.cn"]
    code, out = cli("remind", "--before", "3", "-o", tmp_path, "--ledger", db, *smtp)
    assert code == 0 and "跳过 2 封（此前已发送过相同内容）：" in out
    assert len(server.messages) == 2
    code, out = cli("status", "--ledger", db)
    assert code == 0 and "已通过 1 个，待修改 1 个，待校验 0 个，未报送 1 个" in out


def test_a_second_remind_into_the_same_folder_waits_then_refuses(tmp_path):
    """Two reminds at once would both send before either logs what it sent."""
    from toolkit.common import lock

    db = tmp_path / "台账.db"
    campaign(db, date.today() + timedelta(days=1))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    cmd = [sys.executable, "-c", "from toolkit.cli import main; main()", "remind", "--before", "3",
           "--dry-run", "-o", str(tmp_path), "--ledger", str(db)]
    with lock.locked(tmp_path, wait=0):  # another remind (or mail) is sending from this folder
        busy = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert busy.returncode == 2, busy.stdout + busy.stderr
    assert "另一个 disclosure 命令正在使用文件夹" in busy.stderr and "Traceback" not in busy.stderr
    assert not (tmp_path / "outbox").exists()
    code, out = cli("remind", "--before", "3", "--dry-run", "-o", tmp_path, "--ledger", db)
    assert code == 0 and len(list((tmp_path / "outbox").glob("*.eml"))) == 2, out
