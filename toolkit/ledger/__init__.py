"""The campaign ledger: one SQLite file (standard library) that remembers the whole
campaign across commands and rounds — roster, templates sent, mail received, files and
their sha256, every check's verdicts and findings, feedback and reminders sent.

A low stage: it depends on toolkit.common only and records plain data; the commands
(collect, check, mail, distribute, remind, status) call it.  findings.json and
sent_log.jsonl stay as exports."""

from toolkit.ledger.schema import SCHEMA_VERSION
from toolkit.ledger.store import DEFAULT_NAME, ENV_VAR, Ledger, LedgerError, ledger_path

__all__ = ["DEFAULT_NAME", "ENV_VAR", "SCHEMA_VERSION", "Ledger", "LedgerError", "ledger_path"]
