"""The output layout: every name the toolkit gives to what it writes, in one place.

A check writes into OUTDIR::

    findings.json                   FINDINGS_JSON, the stable interface, written last
    annotated/<stem>_校验意见.xlsx   ANNOTATED_DIR, ANNOTATED_MARK: one copy per return
    汇总.xlsx                        SUMMARY_NAME
    outbox/*.eml                    OUTBOX: mail drafts (mail --dry-run)
    sent_log.jsonl                  SENT_LOG: one line per mail attempt

An annotated copy has our sheet FEEDBACK_SHEET first; readers skip it.  Readers of
returns use these names to recognise (and skip) what the toolkit wrote itself.
"""

from __future__ import annotations

FINDINGS_JSON = "findings.json"
ANNOTATED_DIR = "annotated"
ANNOTATED_MARK = "_校验意见"  # file name: <original stem>_校验意见.xlsx
SUMMARY_NAME = "汇总.xlsx"
OUTBOX = "outbox"
SENT_LOG = "sent_log.jsonl"
FEEDBACK_SHEET = "校验结果"  # first sheet of an annotated copy
