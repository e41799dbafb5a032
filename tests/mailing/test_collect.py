"""`disclosure collect` against a real IMAP server (Dovecot, over a socket) holding
messages built like real ones: several agencies, a GBK-named attachment, a forwarded
message, a zip, an auto-reply, a question."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from dovecot import Dovecot
from figures import consistent, fill, saved_at
from mails import auto_reply, forwarded, gbk_zip, message, raw_gbk_named
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.common.ownership import holds_outputs
from toolkit.formats import spec
from toolkit.ledger import Ledger
from toolkit.reading.roster import RosterEntry, write_sample_roster
from toolkit.template.writer import write_template

ROOT = Path(__file__).resolve().parents[2]
CST = timezone(timedelta(hours=8))
JIA, YI, BING, DING = (f"示例市{c}局" for c in "甲乙丙丁")
ADDR = {JIA: "jia@example.cn", YI: "yi@example.cn", BING: "bing@example.cn", DING: "ding@example.cn"}
FMT = spec.get("gov-2021")


@pytest.fixture
def imap():
    server = Dovecot()
    yield server
    server.stop()


@pytest.fixture
def roster(tmp_path) -> Path:
    return write_sample_roster(tmp_path / "单位名单.xlsx", [RosterEntry(n, "联系人", a) for n, a in ADDR.items()])


def a_return(tmp_path: Path, agency: str, seed: int, *, wrong: bool = False, saved: str = "") -> bytes:
    """The agency's template, filled as the agency would (one total off when ``wrong``),
    last saved at ``saved`` (ISO, UTC) when given, else now."""
    template = write_template(tmp_path / f"tpl-{agency}.xlsx", FMT, agency=agency, year=2025)
    values = consistent(FMT, random.Random(seed))
    if wrong:
        values["p3.open.total"] += 1
    path = fill(template, values, tmp_path / f"filled-{agency}-{seed}.xlsx")
    return (saved_at(path, saved) if saved else path).read_bytes()


def deliver_round_one(imap: Dovecot, tmp_path: Path) -> dict[str, bytes]:
    """What the office's mailbox holds after the first days: returns in every shape."""
    # Saved the morning they were mailed (a corrected return, saved later, must win).
    files = {a: a_return(tmp_path, a, i, wrong=(a == JIA), saved="2026-01-05T01:10:00Z")
             for i, a in enumerate(ADDR)}
    t = datetime(2026, 1, 5, 9, 30, tzinfo=CST)
    imap.append(message(ADDR[JIA], "甲局2025年政务公开年报报表", t,
                        [("甲局2025年报表.xlsx", files[JIA])]).as_bytes(), t)
    # From a personal mailbox (not on the roster), an old client: the name in raw GBK.
    imap.append(raw_gbk_named("xiaowang@163.com", "乙局报表", t + timedelta(hours=1), "乙局年报.xlsx", files[YI]))
    inner = message(ADDR[BING], "丙局报表", t + timedelta(hours=2), [("丙局年报.xlsx", files[BING])])
    imap.append(forwarded("colleague@office.example.cn", "转发：丙局报表", t + timedelta(hours=3), inner).as_bytes())
    imap.append(message(ADDR[DING], "丁局报表（压缩包）", t + timedelta(hours=4),
                        [("丁局报表.zip", gbk_zip({"丁局年报.xlsx": files[DING], "说明.png": b"\x89PNG"}))]).as_bytes())
    imap.append(auto_reply(ADDR[YI], t + timedelta(hours=5)).as_bytes())
    imap.append(message(ADDR[BING], "请问收费金额的单位", t + timedelta(hours=6),
                        body="请问收费金额是填元还是万元？").as_bytes())
    return files


def run_cli(*args, env: dict | None = None):
    result = CliRunner().invoke(app, [str(a) for a in args], env=env, catch_exceptions=False)
    return result.exit_code, result.output


def test_collect_takes_every_return_once(imap, tmp_path, roster):
    files = deliver_round_one(imap, tmp_path)
    returns, db = tmp_path / "报送文件", tmp_path / "台账.db"
    code, out = run_cli("collect", "-o", returns, "--roster", roster, "--ledger", db, env=imap.env())
    assert code == 0, out
    saved = sorted(p.name for p in returns.iterdir() if not p.name.startswith("."))
    assert saved == sorted([
        f"{JIA}_20260105-093000_甲局2025年报表.xlsx",   # RFC 2231 name, sender on the roster
        f"{YI}_20260105-103000_乙局年报.xlsx",          # raw GBK name, agency from the stamp
        f"{BING}_20260105-123000_丙局年报.xlsx",        # inside a forwarded message (received then)
        f"{DING}_20260105-133000_丁局年报.xlsx",        # inside a zip, GBK member name
    ])
    assert not holds_outputs(returns)  # made by collect to hold returns: checked like any other folder
    by_agency = {p.name.split("_")[0]: p.read_bytes() for p in returns.iterdir() if not p.name.startswith(".")}
    assert by_agency == files  # the bytes as sent
    assert f"  {YI}：{YI}_20260105-103000_乙局年报.xlsx（原名《乙局年报.xlsx》，按模板标记识别）" in out
    assert "按发件地址识别，来自压缩包《丁局报表.zip》" in out
    assert "2 封邮件没有报送文件，请人工阅读：" in out
    assert "  2026-01-05 14:30  yi@example.cn  《自动回复：关于报送政府信息公开工作年度报告报表的通知》：自动回复" in out
    assert "  2026-01-05 15:30  bing@example.cn  《请问收费金额的单位》：没有报送文件" in out
    assert "《说明.png》不是报表或年度报告文件" not in out  # the zip had returns: not a message to read

    with Ledger(db) as ledger:
        rows = ledger.rows("SELECT m.message_id, m.date, f.sha256, f.agency FROM files f"
                           " JOIN messages m ON m.message_id = f.message_id ORDER BY m.date")
        assert [(r["agency"], r["sha256"]) for r in rows] == [
            (a, hashlib.sha256(files[a]).hexdigest()) for a in (JIA, YI, BING, DING)]
        assert rows[0]["date"] == "2026-01-05T09:30:00+08:00" and rows[0]["message_id"].endswith("@example.cn>")
        assert len(ledger.rows("SELECT * FROM messages")) == 6

    # A resend without --roster: the roster recorded in the ledger names the sender.
    t = datetime(2026, 1, 8, 10, 0, tzinfo=CST)
    imap.append(message(ADDR[DING], "丁局报表（重发）", t, [("重发.pdf", b"%PDF-1.4 report")]).as_bytes())
    code, out = run_cli("collect", "-o", returns, "--ledger", db, env=imap.env())
    assert code == 0 and f"  {DING}：{DING}_20260108-100000_重发.pdf（原名《重发.pdf》，按发件地址识别）" in out, out
    saved.append(f"{DING}_20260108-100000_重发.pdf")
    saved.sort()

    # Rerun: nothing fetched twice, nothing saved twice.
    code, again = run_cli("collect", "-o", returns, "--roster", roster, "--ledger", db, env=imap.env())
    assert code == 0 and "没有新的报送文件。" in again and "此前已收取：7 封邮件" in again
    assert sorted(p.name for p in returns.iterdir() if not p.name.startswith(".")) == saved


def test_collect_without_a_server_or_password_says_so(tmp_path):
    env = {"DISCLOSURE_IMAP_HOST": "127.0.0.1", "DISCLOSURE_IMAP_PORT": "1", "DISCLOSURE_IMAP_USER": "u",
           "DISCLOSURE_IMAP_PASSWORD": "p", "DISCLOSURE_IMAP_SECURITY": "plain"}
    code, out = run_cli("collect", "-o", tmp_path / "r", env=env)
    assert code == 1 and "无法连接 IMAP 服务器 127.0.0.1:1：" in out and "Traceback" not in out
    code, out = run_cli("collect", "-o", tmp_path / "r", env={"DISCLOSURE_IMAP_HOST": "", "DISCLOSURE_IMAP_USER": ""})
    assert code == 2 and "未设置 IMAP 服务器地址" in out
    code, out = run_cli("collect", "-o", tmp_path / "r", env={**env, "DISCLOSURE_IMAP_HOST": "imap.nonexistent.invalid"})
    assert code == 1 and "找不到这个服务器（域名无法解析），请检查服务器地址" in out, out
    # No terminal to ask on (a scheduled task): the variable is named, no English warning.
    done = subprocess.run([sys.executable, "-c", "from toolkit.cli import main; main()", "collect", "-o", tmp_path / "r"],
                          env={**os.environ, **env, "DISCLOSURE_IMAP_PASSWORD": ""}, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120, check=False)  # exit 1 expected
    said = done.stdout + done.stderr
    assert done.returncode == 1 and "没有 IMAP 密码：请设置环境变量 DISCLOSURE_IMAP_PASSWORD" in said, said
    assert "Warning" not in said and "getpass" not in said, said


def test_collect_killed_midway_then_rerun_stores_each_attachment_once(imap, tmp_path, roster):
    """SIGKILL while collecting 40 messages; the rerun completes; every attachment is in
    the folder exactly once and recorded exactly once."""
    t = datetime(2026, 1, 6, 8, 0, tzinfo=CST)
    blobs = []
    for i in range(40):
        data = os.urandom(64 * 1024)  # not workbooks: agency from the address only
        blobs.append(data)
        imap.append(message(ADDR[JIA], f"报表{i}", t + timedelta(minutes=i), [(f"第{i}份.xlsx", data)]).as_bytes())
    returns, db = tmp_path / "报送文件", tmp_path / "台账.db"
    env = {**os.environ, **imap.env(), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", "from toolkit.cli import main; main()", "collect", "-o",
                             str(returns), "--roster", str(roster), "--ledger", str(db)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not returns.is_dir() or len(list(returns.glob("*.xlsx"))) < 5):
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    with Ledger(db) as ledger:
        recorded = len(ledger.rows("SELECT * FROM messages"))
    assert 0 < recorded < 40  # killed mid-way

    code, out = run_cli("collect", "-o", returns, "--roster", roster, "--ledger", db, env=imap.env())
    assert code == 0, out
    stored = sorted(p.read_bytes() for p in returns.iterdir() if not p.name.startswith("."))
    assert stored == sorted(blobs)  # each exactly once, nothing half-written left
    with Ledger(db) as ledger:
        assert len(ledger.rows("SELECT * FROM messages")) == 40
        assert len(ledger.rows("SELECT * FROM files")) == 40


def test_a_collect_into_a_busy_folder_refuses_then_runs_once_free(imap, tmp_path, roster):
    """Two collects (or a collect and a check) writing one folder would save returns
    twice and sweep each other's temporaries: the second waits, then refuses (exit 2)."""
    from toolkit.common import lock

    deliver_round_one(imap, tmp_path)
    returns, db = tmp_path / "报送文件", tmp_path / "台账.db"
    env = {**os.environ, **imap.env(), "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-c", "from toolkit.cli import main; main()", "collect", "-o", str(returns),
           "--roster", str(roster), "--ledger", str(db)]
    returns.mkdir()
    with lock.locked(returns, wait=0):  # another run holds the folder
        busy = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert busy.returncode == 2, busy.stdout + busy.stderr
    assert "另一个 disclosure 命令正在使用文件夹" in busy.stderr and "Traceback" not in busy.stderr
    assert [p.name for p in returns.iterdir() if not p.name.startswith(".")] == []
    free = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert free.returncode == 0, free.stdout + free.stderr
    assert len([p for p in returns.iterdir() if not p.name.startswith(".")]) == 4


def test_imap_settings_options_then_environment_then_file(tmp_path):
    from toolkit.mailing.imapsettings import load_imap_settings
    from toolkit.mailing.settings import SettingsError

    conf = tmp_path / "disclosure-smtp.toml"
    conf.write_text('host = "smtp.example.cn"\n[imap]\nhost = "imap.example.cn"\nuser = "file@example.cn"\n'
                    'folder = "报表"\nsecurity = "starttls"\n', encoding="utf-8")
    env = {"DISCLOSURE_IMAP_USER": "env@example.cn", "DISCLOSURE_IMAP_PASSWORD": "pw"}
    s = load_imap_settings(port=1143, env=env, cwd=tmp_path)
    assert (s.host, s.port, s.user, s.folder, s.security, s.password) == (
        "imap.example.cn", 1143, "env@example.cn", "报表", "starttls", "pw")
    assert load_imap_settings(user="opt@example.cn", env=env, cwd=tmp_path).user == "opt@example.cn"
    assert load_imap_settings(env={}, cwd=tmp_path / "nowhere").effective_port == 993  # ssl by default
    conf.write_text('[imap]\nhost = "imap.example.cn"\npassword = "x"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="不能保存密码"):
        load_imap_settings(env={}, cwd=tmp_path)


def test_collect_over_ssl_and_starttls_with_an_internal_ca(tmp_path, roster):
    """A 政务内网 server with its own CA: trusted with --imap-cafile, refused without."""
    server = Dovecot(tls=True)
    try:
        t = datetime(2026, 1, 5, 9, 30, tzinfo=CST)
        server.append(message(ADDR[JIA], "报表", t, [("甲局.xlsx", a_return(tmp_path, JIA, 1))]).as_bytes())
        base = {**server.env(), "DISCLOSURE_IMAP_SECURITY": "", "DISCLOSURE_IMAP_PORT": ""}
        ssl = ["--imap-port", server.ssl_port, "--imap-security", "ssl"]
        code, out = run_cli("collect", "-o", tmp_path / "r0", *ssl, env=base)
        assert code == 1 and "证书无法验证" in out and "--imap-cafile" in out, out
        code, out = run_cli("collect", "-o", tmp_path / "r1", *ssl, "--imap-cafile", server.cafile,
                            "--roster", roster, "--ledger", tmp_path / "a.db", env=base)
        assert code == 0 and f"{JIA}_20260105-093000_甲局.xlsx" in out, out
        code, out = run_cli("collect", "-o", tmp_path / "r2", "--imap-port", server.port, "--imap-security",
                            "starttls", "--imap-cafile", server.cafile, "--roster", roster,
                            "--ledger", tmp_path / "b.db", env=base)
        assert code == 0 and f"{JIA}_20260105-093000_甲局.xlsx" in out, out
    finally:
        server.stop()
