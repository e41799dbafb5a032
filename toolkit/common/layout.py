"""The output layout: every name the toolkit gives to what it writes, in one place.

A check writes into OUTDIR::

    findings.json                   FINDINGS_JSON, the stable interface, written last
    annotated/<stem>_校验意见.xlsx   ANNOTATED_DIR, ANNOTATED_MARK: one copy per return
    imported/<name>_<form>.xlsx     IMPORTED_DIR, imported_name(): a published report's
                                    figures in the national-format workbook
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
IMPORTED_DIR = "imported"
IMPORTED_STAMP = "imported_from"  # custom property disclosure.imported_from: the source file
OUTBOX = "outbox"
SENT_LOG = "sent_log.jsonl"
FEEDBACK_SHEET = "校验结果"  # first sheet of an annotated copy


def imported_name(source: str) -> str:
    """``年报.pdf`` -> ``年报_pdf.xlsx``: the form kept in the name, so 年报.pdf and
    年报.docx of one agency do not share a workbook."""
    from pathlib import PurePath

    from toolkit.common.filenames import safe_filename

    path = PurePath(source)
    form = path.suffix.lstrip(".").lower()
    return safe_filename(f"{path.stem}_{form}" if form else path.stem, ".xlsx")
