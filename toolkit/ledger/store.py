"""Opening the ledger and writing to it.

Two commands at once are safe: the database is in WAL mode (readers never wait for the
writer), every write is one ``BEGIN IMMEDIATE`` transaction (the write lock is taken up
front, so two writers never deadlock half-way) and a busy timeout makes the second
writer wait for the first instead of failing."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path

from toolkit.common.agency import first_rows
from toolkit.ledger import schema

DEFAULT_NAME = "disclosure.db"
ENV_VAR = "DISCLOSURE_LEDGER"
BUSY_SECONDS = 60.0  # how long a writer waits for another command's transaction


class LedgerError(Exception):
    """A ledger that cannot be used; the message is 中文 and names the file."""


def ledger_path(option: str | os.PathLike | None = None, env: Mapping[str, str] | None = None) -> Path:
    """--ledger, else DISCLOSURE_LEDGER, else disclosure.db in the current folder."""
    env = os.environ if env is None else env
    chosen = option or env.get(ENV_VAR) or DEFAULT_NAME
    return Path(chosen)


def now() -> str:
    return datetime.now().astimezone().isoformat(timespec="milliseconds")


def _retry_locked(step, seconds: float = BUSY_SECONDS):
    """Runs ``step``, again while SQLite says the database is locked.  Switching a new
    ledger to WAL needs the file to itself, and SQLite answers a second process opening it
    at that moment with "locked" at once, without waiting the busy timeout."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class Ledger:
    """One open ledger.  Use as a context manager, or call close()."""

    def __init__(self, path: str | os.PathLike, *, upto: int = schema.SCHEMA_VERSION):
        self.path = Path(path)
        if self.path.is_dir():
            raise LedgerError(f"台账 {self.path} 是文件夹，不是台账文件（请用 --ledger 指定一个文件）")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: transactions are ours (BEGIN IMMEDIATE … COMMIT).
            self.conn = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute(f"PRAGMA busy_timeout = {int(BUSY_SECONDS * 1000)}")
            # Checked before any pragma: a file that is not ours is left byte for byte.
            found, tables = _retry_locked(self._identify)
            if not found and tables:
                # Someone else's database: never add our tables to it.
                raise LedgerError(f"{self.path} 是别的程序的数据库，不是本工具的台账：请用 --ledger 另指定一个文件")
            if found > schema.SCHEMA_VERSION:
                raise LedgerError(f"台账 {self.path} 由更新版本的本工具写成（第 {found} 版），"
                                  f"当前版本只认识到第 {schema.SCHEMA_VERSION} 版：请升级本工具")
            _retry_locked(lambda: self.conn.execute("PRAGMA journal_mode = WAL"))
            # In WAL mode NORMAL survives a killed process (only a power cut may lose the
            # last transactions, which collect redoes: a saved file is found by name and
            # sha256) and spares an fsync per message collected.
            self.conn.execute("PRAGMA synchronous = NORMAL")
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.version = schema.migrate(self.conn, upto)
        except LedgerError:
            self.conn.close()
            raise
        except sqlite3.DatabaseError as exc:
            if getattr(self, "conn", None) is not None:
                self.conn.close()
            raise LedgerError(f"无法打开台账 {self.path}：文件不是本工具的台账或已损坏（{exc}）") from None
        except OSError as exc:
            raise LedgerError(f"无法打开台账 {self.path}：{exc.strerror or exc}") from None

    def _identify(self) -> tuple[int, int]:
        """(schema version, number of tables), read in one transaction: read one after
        the other, a second process creating the ledger in between would make a new
        ledger look like another program's database."""
        self.conn.execute("BEGIN")
        try:
            return schema.version(self.conn), self.conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]
        finally:
            self.conn.execute("ROLLBACK")

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One unit of work, all or nothing."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # ---- roster and campaign ---------------------------------------------------------

    def record_roster(self, entries: Iterable) -> None:
        """The roster as given (name, contact, email, code), in its order; an agency
        listed twice by its first row (as mail addresses it); an agency no longer listed
        keeps its history but moves to the end."""
        at = now()
        firsts, _repeats = first_rows(entries)  # listed twice: its first row, as mail goes
        with self.transaction() as db:
            db.execute("UPDATE agencies SET position = position + 1000000")
            for i, (key, e) in enumerate(firsts.items()):
                db.execute("INSERT INTO agencies(name, key, contact, email, code, position, updated_at)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET"
                           " contact=excluded.contact, email=excluded.email, code=excluded.code,"
                           " position=excluded.position, updated_at=excluded.updated_at",
                           (e.name, key, e.contact, e.email, e.code, i, at))

    def set_campaign(self, **values: object) -> None:
        with self.transaction() as db:
            for key, value in values.items():
                if value is not None:
                    db.execute("INSERT INTO campaign VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                               (key, str(value)))

    def campaign(self) -> dict[str, str]:
        return {r["key"]: r["value"] for r in self.conn.execute("SELECT key, value FROM campaign")}

    def agencies(self) -> list[sqlite3.Row]:
        return self.conn.execute("SELECT * FROM agencies ORDER BY position, name").fetchall()

    # ---- mail out --------------------------------------------------------------------

    def record_sent(self, table: str, **row: object) -> None:
        """A message sent or drafted: ``table`` is templates_sent, feedback or reminders."""
        assert table in ("templates_sent", "feedback", "reminders")
        row.setdefault("at", now())
        names = ", ".join(row)
        with self.transaction() as db:
            db.execute(f"INSERT INTO {table}({names}) VALUES ({', '.join('?' * len(row))})", tuple(row.values()))

    # ---- mail in ---------------------------------------------------------------------

    def has_message(self, message_id: str) -> bool:
        return self.conn.execute("SELECT 1 FROM messages WHERE message_id = ?", (message_id,)).fetchone() is not None

    def seen_uids(self, folder: str, uidvalidity: str) -> set[str]:
        rows = self.conn.execute("SELECT uid FROM messages WHERE folder = ? AND uidvalidity = ?",
                                 (folder, uidvalidity))
        return {r["uid"] for r in rows}

    def stored_attachment(self, message_id: str, sha256: str) -> str | None:
        row = self.conn.execute("SELECT path FROM files WHERE message_id = ? AND sha256 = ?",
                                (message_id, sha256)).fetchone()
        return row["path"] if row else None

    def record_message(self, message: Mapping[str, object], files: list[Mapping[str, object]]) -> None:
        """A collected message and the files saved from it, in one transaction: a
        collect killed before this leaves the message to be fetched again."""
        at = now()
        with self.transaction() as db:
            db.execute("INSERT INTO messages(message_id, folder, uid, uidvalidity, sender, subject, date, agency,"
                       " returns, note, collected_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
                       " ON CONFLICT(message_id) DO NOTHING",
                       (message["message_id"], message.get("folder"), message.get("uid"),
                        message.get("uidvalidity"), message.get("sender"), message.get("subject"),
                        message.get("date"), message.get("agency"), len(files), message.get("note"), at))
            for f in files:
                db.execute("INSERT INTO files(path, sha256, name, agency, message_id, received_at, saved_at,"
                           " recorded_at) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
                           (str(f["path"]), f["sha256"], f.get("name"), f.get("agency"), message["message_id"],
                            message.get("date"), f.get("saved_at"), at))

    def received(self, sha256s: Iterable[str]) -> dict[str, str]:
        """sha256 -> the earliest Date of a message that brought those bytes."""
        out: dict[str, str] = {}
        for sha in set(sha256s):
            row = self.conn.execute("SELECT MIN(received_at) AS t FROM files WHERE sha256 = ? AND received_at IS NOT NULL",
                                    (sha,)).fetchone()
            if row and row["t"]:
                out[sha] = row["t"]
        return out

    def messages_to_read(self) -> list[sqlite3.Row]:
        return self.conn.execute("SELECT * FROM messages WHERE note IS NOT NULL ORDER BY date").fetchall()

    # ---- checks ----------------------------------------------------------------------

    def record_check(self, outdir: str | None, verdicts: list[Mapping[str, object]]) -> int:
        """One check: a verdict per file (path, sha256, agency, status, errors, warnings,
        used, why, findings=[{rule, severity, sheet, cell, message}])."""
        with self.transaction() as db:
            check_id = db.execute("INSERT INTO checks(outdir, at) VALUES (?, ?)", (outdir, now())).lastrowid
            for v in verdicts:
                vid = db.execute("INSERT INTO verdicts(check_id, path, sha256, agency, status, errors, warnings,"
                                 " used, why) VALUES (?,?,?,?,?,?,?,?,?)",
                                 (check_id, v["path"], v.get("sha256"), v.get("agency"), v["status"],
                                  v.get("errors", 0), v.get("warnings", 0), int(bool(v.get("used", True))),
                                  v.get("why"))).lastrowid
                db.executemany("INSERT INTO findings(verdict_id, rule, severity, sheet, cell, message)"
                               " VALUES (?,?,?,?,?,?)",
                               [(vid, f["rule"], f["severity"], f.get("sheet"), f.get("cell"), f.get("message"))
                                for f in v.get("findings", ())])
        return check_id

    def rows(self, sql: str, *params: object) -> list[sqlite3.Row]:
        """A read for the reports (status); no transaction needed in WAL mode."""
        return self.conn.execute(sql, params).fetchall()
