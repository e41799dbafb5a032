"""The ledger: migrations keep what an earlier version recorded; two commands at once on
one ledger both complete and lose nothing; checks record their verdicts."""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from figures import consistent, fill

from toolkit.formats import spec
from toolkit.ledger import SCHEMA_VERSION, Ledger, LedgerError
from toolkit.ledger import schema
from toolkit.reading.roster import RosterEntry, write_sample_roster
from toolkit.template.writer import write_template

ROOT = Path(__file__).resolve().parents[2]


def test_v1_ledger_is_migrated_and_nothing_is_lost(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    assert schema.migrate(conn, upto=1) == 1  # what version 1 of the tool wrote
    conn.execute("INSERT INTO agencies VALUES ('示例县教育局', '示例县教育局', '张三', 'jy@example.cn', '', 0, 't')")
    conn.execute("INSERT INTO messages(message_id, sender, date, agency, returns, collected_at)"
                 " VALUES ('<a@x>', 'jy@example.cn', '2026-01-05T09:00:00+08:00', '示例县教育局', 1, 't')")
    conn.execute("INSERT INTO files(path, sha256, name, agency, message_id, received_at, recorded_at)"
                 " VALUES ('/r/教育局.xlsx', 'ab', '教育局.xlsx', '示例县教育局', '<a@x>', '2026-01-05T09:00:00+08:00', 't')")
    conn.execute("INSERT INTO checks(outdir, at) VALUES ('/out', 't')")
    conn.execute("INSERT INTO verdicts(check_id, path, sha256, agency, status, errors, warnings)"
                 " VALUES (1, '/r/教育局.xlsx', 'ab', '示例县教育局', 'fail', 2, 0)")
    conn.close()

    with Ledger(path) as ledger:
        assert ledger.version == SCHEMA_VERSION == 2
        assert [r["name"] for r in ledger.agencies()] == ["示例县教育局"]
        assert ledger.received(["ab"]) == {"ab": "2026-01-05T09:00:00+08:00"}
        [v] = ledger.rows("SELECT agency, status, errors, why FROM verdicts")
        assert tuple(v) == ("示例县教育局", "fail", 2, None)  # the new column, empty for old rows
        ledger.record_sent("reminders", agency="示例县教育局", owes="待修改", result="drafted")
        assert [tuple(r) for r in ledger.rows("SELECT version FROM schema_version ORDER BY version")] == [(1,), (2,)]
    with Ledger(path) as again:  # opening an up-to-date ledger changes nothing
        assert again.version == 2 and len(again.rows("SELECT * FROM reminders")) == 1


def test_a_ledger_from_a_newer_version_or_not_a_ledger_is_refused(tmp_path):
    newer = tmp_path / "newer.db"
    with Ledger(newer):
        pass
    conn = sqlite3.connect(newer)
    conn.execute("INSERT INTO schema_version VALUES (99, 't')")
    conn.commit()
    conn.close()
    with pytest.raises(LedgerError, match="由更新版本的本工具写成"):
        Ledger(newer)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(LedgerError, match="不是本工具的台账或已损坏"):
        Ledger(junk)
    assert junk.read_bytes() == b"not a database at all" * 100  # never changed
    other = tmp_path / "disclosure.db"  # another program's SQLite database
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (t TEXT)")
    conn.commit()
    conn.close()
    before = other.read_bytes()
    with pytest.raises(LedgerError, match="是别的程序的数据库"):
        Ledger(other)
    assert other.read_bytes() == before


WRITER = """
import sys
from toolkit.ledger import Ledger
with Ledger(sys.argv[1]) as ledger:
    for i in range(int(sys.argv[3])):
        ledger.record_message({"message_id": f"<{sys.argv[2]}-{i}@x>", "date": "2026-01-05"},
                              [{"path": f"/r/{sys.argv[2]}-{i}.xlsx", "sha256": f"{sys.argv[2]}{i}"}])
"""


def test_two_writers_at_once_lose_nothing(tmp_path):
    """Two processes each record 300 messages into one ledger, interleaved."""
    path = tmp_path / "shared.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), name, "300"], env=env,
                              stderr=subprocess.PIPE) for name in ("a", "b")]
    for p in procs:
        _out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    with Ledger(path) as ledger:
        assert ledger.rows("SELECT COUNT(*) FROM messages")[0][0] == 600
        assert ledger.rows("SELECT COUNT(DISTINCT sha256) FROM files")[0][0] == 600


def test_an_agency_listed_twice_is_recorded_by_its_first_row(tmp_path):
    """As mail and distribute address it: remind and status must not use the second row."""
    with Ledger(tmp_path / "l.db") as ledger:
        ledger.record_roster([RosterEntry("甲局", "张三", "jia@example.cn"), RosterEntry("乙局", "李四", "yi@example.cn"),
                              RosterEntry("甲局 ", "王五", "jia2@example.cn")])
        rows = ledger.rows("SELECT name, contact, email, position FROM agencies ORDER BY position")
    assert [tuple(r) for r in rows] == [("甲局", "张三", "jia@example.cn", 0), ("乙局", "李四", "yi@example.cn", 1)]


def test_a_ledger_created_by_another_command_while_this_one_opens_it(tmp_path, monkeypatch):
    """Between reading the ledger's version and counting its tables, another command
    creates the ledger: it is a new ledger of ours, not another program's database."""
    path = tmp_path / "new.db"
    read_version, other, errors = schema.version, [], []

    def create():
        try:
            Ledger(path).close()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def version_while_another_creates(conn):
        found = read_version(conn)
        if not other:  # the other command starts right after this one has read the version
            other.append(threading.Thread(target=create))
            other[0].start()
            other[0].join(0.5)
        return found

    monkeypatch.setattr(schema, "version", version_while_another_creates)
    with Ledger(path) as ledger:
        assert ledger.version == SCHEMA_VERSION
    other[0].join(30)
    assert not other[0].is_alive() and errors == []


def _returns(folder: Path, template: Path, agencies: list[str], seed: int) -> None:
    fmt = spec.get("gov-2021")
    folder.mkdir()
    for i, name in enumerate(agencies):
        values = consistent(fmt, random.Random(seed + i))
        if i == 0:
            values["p3.open.total"] += 1  # one wrong total: R3
        fill(shutil.copy(template, folder / f"{name}.xlsx"), values, info={"agency": name})


def test_two_checks_at_once_on_one_ledger(tmp_path):
    """Two `disclosure check` commands on different folders, same ledger, at the same
    time: both complete and every verdict of both is recorded."""
    template = write_template(tmp_path / "t.xlsx", spec.get("gov-2021"), year=2025)
    first = [f"示例县{c}局" for c in "甲乙丙"]
    second = [f"示例县{c}局" for c in "丁戊己"]
    _returns(tmp_path / "r1", template, first, 1)
    _returns(tmp_path / "r2", template, second, 10)
    roster = write_sample_roster(tmp_path / "名单.xlsx", [RosterEntry(n) for n in first + second])
    db = tmp_path / "台账.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", "from toolkit.cli import main; main()", "check", str(tmp_path / r), "-o",
                               str(tmp_path / f"out{r}"), "--roster", str(roster), "--ledger", str(db),
                               "--workers", "1"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for r in ("r1", "r2")]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 1, (out.decode(), err.decode())  # one failing return each
    with Ledger(db) as ledger:
        assert len(ledger.rows("SELECT * FROM checks")) == 2
        got = {(r["agency"], r["status"]) for r in ledger.rows("SELECT agency, status FROM verdicts")}
        assert got == {(first[0], "fail"), (second[0], "fail")} | {(n, "pass") for n in first[1:] + second[1:]}
        [finding] = ledger.rows("SELECT f.rule FROM findings f JOIN verdicts v ON v.id = f.verdict_id"
                                " WHERE v.agency = ?", first[0])
        assert finding["rule"] == "R3"
        assert [r["name"] for r in ledger.agencies()] == first + second
