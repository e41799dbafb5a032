"""Safe, fast reader for .xlsx / .xlsm (OOXML SpreadsheetML).

Why not openpyxl: it loads every cell of every sheet (~50 ms for a small template); a
batch of thousands of returns needs ~1.5 ms per file.  So:

* The zip's central directory is read by zipfile (a file up to 4 MB is read into memory
  first), but members are inflated here, with zlib: the declared size and ratio are
  checked before inflating, and the bytes really produced are counted while inflating
  (a member that inflates past its declared size is refused at once; the total is
  capped, see Limits).  Small members are inflated in one call, large ones in 64 KB steps.
* Small parts (sheets, shared strings, custom properties up to Limits.one_pass_max) are read in ONE
  PASS: inflated whole, checked by expat without Python handlers (well-formedness,
  encoding, DOCTYPE/entities refused: C speed), then taken apart with regexes (also C
  speed) instead of one Python call per XML event.  Every cell of the sheet is indexed
  raw and turned into a RawCell only when asked for (a malformed cell nobody reads is no
  error, as before), so the second read of a sheet is free.  The regexes rely on what
  expat proved plus checks of their own (UTF-8, no comment/CDATA/PI/DOCTYPE, no prefix on
  row and c, every <row>/<c> accounted for); whenever one fails, the part is read by
  the streaming path below, which stays the reference: both paths give the same answers
  (tests/workbook/test_book.py runs every test through both; bench/bench_onepass.py
  measures what the one pass buys).  A book indexes at most
  Limits.one_pass_budget bytes of sheets this way, so memory stays bounded.
* Streaming path (large parts, odd parts): expat with handlers in Python, no tree.  A
  DOCTYPE or any entity declaration is refused by the parser itself (F7), before anything
  is expanded; no external entity is ever resolved.  Only the cells asked for are kept,
  and a sheet scan stops as soon as the last row asked for has passed (the handler
  raises), so a sheet with a million rows costs what its first rows cost.
* <mergeCells> and <sheetProtection> come after <sheetData>.  A one-pass read takes them
  from the bytes it already holds; otherwise the raw inflated bytes are searched for the
  end of sheetData and the few tail elements are matched with a regex: inflating is ~10x
  cheaper than parsing.  The trade-off: merged_ranges/sheet protection of a huge sheet
  inflate it all (bounded by max_uncompressed_mb and max_seconds), and a malformed tail
  is read leniently (a mergeCell we cannot match is skipped, not an error).  Neither
  parser checks the XML after the end of sheetData: no reader needs it.
* workbook.xml and its rels are parsed once, at open; styles, custom properties and
  the sheets' tails lazily, once (a sheet's protection only when asked for).  workbook.xml,
  .rels and styles.xml results are remembered by their exact bytes (a batch repeats the
  template's parts; a key is the bytes themselves, never a hash or CRC a crafted part
  could match).
* Macros are never run or loaded: vbaProject.bin is never read.

Modules, one per concept: zipguard (the zip, inflated under Limits), xmlsafe (hardened
expat, escapes), onepass (the one-pass readers' checks and text decoding), sheetfast (the
one-pass sheet index), sheetscan (the streaming sheet scan, cells), sheettail (merges,
protection), strings (shared strings), parts (workbook.xml, rels, styles, custom
properties), numfmt (numbers, date formats), refs (defined-name targets),
workbook (OoxmlBook).
"""

from __future__ import annotations

from toolkit.workbook.ooxml.numfmt import is_date_format
from toolkit.workbook.ooxml.refs import parse_name_target
from toolkit.workbook.ooxml.workbook import OoxmlBook
from toolkit.workbook.ooxml.zipguard import _Zip

__all__ = ["OoxmlBook", "is_date_format", "parse_name_target", "_Zip"]  # _Zip: tests watch its member reads
