"""The ledger's tables, as numbered migrations.  A ledger written by an earlier version is
brought up to date when opened (each step in its own transaction, recorded in
schema_version), never recreated: nothing recorded is lost.

Version 1: roster, templates sent, messages received, files, checks, verdicts, findings,
feedback.  Version 2: the file's own saved time and the reason a file was chosen (the
choice of the return to use), reminders, the campaign's deadline.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

V1 = """
CREATE TABLE agencies (
    name TEXT PRIMARY KEY,          -- as on the roster
    key TEXT NOT NULL,              -- normalised name (spaces, full-width forms)
    contact TEXT, email TEXT, code TEXT,
    position INTEGER NOT NULL,      -- order on the roster
    updated_at TEXT NOT NULL
);
CREATE TABLE templates_sent (
    id INTEGER PRIMARY KEY,
    agency TEXT NOT NULL, address TEXT, file_name TEXT, sha256 TEXT,
    year INTEGER, deadline TEXT, message_id TEXT,
    result TEXT NOT NULL,           -- sent / rejected / failed / drafted
    at TEXT NOT NULL
);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE,
    folder TEXT, uid TEXT, uidvalidity TEXT,
    sender TEXT, subject TEXT,
    date TEXT,                      -- the message's Date header (ISO 8601)
    agency TEXT,                    -- known from the sender's address, else from a file
    returns INTEGER NOT NULL,       -- attachments taken as returns
    note TEXT,                      -- why a person should read it (no return, auto-reply)
    collected_at TEXT NOT NULL
);
CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,      -- absolute
    sha256 TEXT NOT NULL,
    name TEXT,                      -- the attachment's own name
    agency TEXT,
    message_id TEXT,                -- the message it came in (collect), else NULL
    received_at TEXT,               -- that message's Date
    recorded_at TEXT NOT NULL
);
CREATE UNIQUE INDEX files_attachment ON files(message_id, sha256) WHERE message_id IS NOT NULL;
CREATE INDEX files_sha ON files(sha256);
CREATE TABLE checks (
    id INTEGER PRIMARY KEY,
    outdir TEXT, at TEXT NOT NULL
);
CREATE TABLE verdicts (
    id INTEGER PRIMARY KEY,
    check_id INTEGER NOT NULL REFERENCES checks(id),
    path TEXT NOT NULL, sha256 TEXT, agency TEXT,  -- agency: roster name when matched
    status TEXT NOT NULL,           -- pass / fail / unreadable
    errors INTEGER NOT NULL, warnings INTEGER NOT NULL,
    used INTEGER NOT NULL DEFAULT 1 -- the agency's return to use in this check
);
CREATE INDEX verdicts_agency ON verdicts(agency);
CREATE TABLE findings (
    verdict_id INTEGER NOT NULL REFERENCES verdicts(id),
    rule TEXT NOT NULL, severity TEXT NOT NULL,
    sheet TEXT, cell TEXT, message TEXT
);
CREATE INDEX findings_verdict ON findings(verdict_id);
CREATE TABLE feedback (
    id INTEGER PRIMARY KEY,
    agency TEXT NOT NULL, address TEXT,
    kind TEXT NOT NULL,             -- feedback / confirmation
    sha256 TEXT,                    -- of the return the message is about
    message_id TEXT,
    result TEXT NOT NULL,           -- sent / rejected / failed / drafted
    at TEXT NOT NULL
);
"""

V2 = """
ALTER TABLE files ADD COLUMN saved_at TEXT;        -- the workbook's own saved time
ALTER TABLE verdicts ADD COLUMN why TEXT;          -- why this file is the one used
CREATE TABLE reminders (
    id INTEGER PRIMARY KEY,
    agency TEXT NOT NULL, address TEXT,
    owes TEXT NOT NULL,             -- 未报送 / 待修改
    message_id TEXT,
    result TEXT NOT NULL,           -- sent / rejected / failed / drafted
    at TEXT NOT NULL
);
CREATE TABLE campaign (
    key TEXT PRIMARY KEY,           -- deadline, year
    value TEXT
);
"""

MIGRATIONS: tuple[str, ...] = (V1, V2)
SCHEMA_VERSION = len(MIGRATIONS)


def version(conn: sqlite3.Connection) -> int:
    exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'").fetchone()
    if not exists:
        return 0
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(conn: sqlite3.Connection, upto: int = SCHEMA_VERSION) -> int:
    """Applies the missing migrations up to ``upto``; each step is one transaction
    (BEGIN IMMEDIATE: a second process opening the ledger at the same time waits, then
    sees the version already applied).  Returns the version reached."""
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            if not conn.execute("SELECT 1 FROM sqlite_master WHERE name='schema_version'").fetchone():
                conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
            current = version(conn)
            if current >= upto:
                conn.execute("COMMIT")
                return current
            for statement in _statements(MIGRATIONS[current]):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version VALUES (?, ?)",
                         (current + 1, datetime.now(timezone.utc).isoformat(timespec="seconds")))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def _statements(script: str) -> list[str]:
    """The statements of a migration (executescript would commit on its own)."""
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
