"""Annotated copies: the agency's own workbook handed back with every mistake shown where
it is (``OUTDIR/annotated/<name>_校验意见.xlsx``), made by patching the return's XML,
never by loading it into a model and saving it again.

What a copy adds, and all it changes:

- a conditional format per flagged cell (errors red, warnings yellow) that outranks the
  template's own and is bound to the value the check saw: it clears itself once the clerk
  changes that value (marks.py);
- a comment per flagged cell by ``校验工具`` (the rule's title, severity and the 中文
  message; on a cell with the agency's own comment, theirs first, then ours), printed at
  the end of its sheet (comments.py);
- a new first sheet ``校验结果`` (FEEDBACK_SHEET): what to do, the file, agency, year and
  counts, then one row per finding with a link to its cell (feedback.py);
- the styles these need, appended (styles.py).

Every other part stays byte for byte as the agency saved it: cached formula values,
drawings, pictures, charts, extension lists, printer settings, custom XML, protection
with its password hash, data validation, defined names, the ``_meta`` stamp, the macro
project of an .xlsm (carried, never run).  Transitional and Strict Open XML alike
(package.py).  The one other edit: a sheet saved as selected is unselected (two selected
sheets would open grouped).

The agency fixes the figures in this very file and sends it back; the reader ignores
FEEDBACK_SHEET.  Re-annotating a returned copy replaces our marks, never stacks them:
ours are recognised by what they are (a formula term, an author, a marker cell), so no
record is needed and a copy re-saved by any program still works.

Modules: batch (names, which reports, the pool), annotated (one copy), package (zip,
XML, relationships, content types), marks, comments, styles, feedback.
"""

from toolkit.common.layout import FEEDBACK_SHEET
from toolkit.outputs.annotate.annotated import ERROR_COLOR, WARNING_COLOR
from toolkit.outputs.annotate.batch import (
    POOL_THRESHOLD,
    AnnotateError,
    Annotated,
    annotate,
    annotate_all,
    annotated_name,
    why_not,
)
from toolkit.outputs.annotate.comments import AUTHOR, MARK
from toolkit.outputs.annotate.feedback import COLUMNS, HEADER_ROW, RECORD_HEADER, TODO_FAIL, TODO_WARN
from toolkit.outputs.annotate.marks import TAG

__all__ = ["AUTHOR", "COLUMNS", "ERROR_COLOR", "FEEDBACK_SHEET", "HEADER_ROW", "MARK", "POOL_THRESHOLD",
           "RECORD_HEADER", "TAG", "TODO_FAIL", "TODO_WARN", "WARNING_COLOR", "AnnotateError", "Annotated",
           "annotate", "annotate_all", "annotated_name", "why_not"]
