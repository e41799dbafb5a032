"""What an agency typed into a figure cell, classified.

Returned workbooks are never trusted to hold typed numbers: a cell may be blank, hold
only an ideographic space, say 无, carry a unit ("3件", "251000元"), be a formula
without a cached result, a date, a boolean.  Each raw value gets a class; each class is
either accepted as a number (unchanged: stripping spaces or reading full-width digits
never changes a figure) or mapped to one rule of the catalogue.

| class         | example                 | verdict                         |
|---------------|-------------------------|---------------------------------|
| number        | 5, 24.1982              | accepted (then R6.negative / R6.fraction / R6.decimals) |
| text_number   | "2　", "\\xa031", "１２"   | accepted: the same figure       |
| formula       | =SUM(...) with result   | accepted: the cached result     |
| blank         | (empty)                 | R6.blank                        |
| whitespace    | "　", "\\xa0"             | R6.blank                        |
| nil_word      | 无, —, -, /, 不适用, 零 | R6.nil, expected 0              |
| unit_number   | "3件", "251000元"        | R6.unit, expected the number in the cell's unit |
| text          | "见附件"                | R6.text                         |
| formula_nocache | =B4+B5, no result saved | R6.formula                    |
| error         | #REF!                   | R6.formula_error                |
| date          | 2025-01-31              | R6.date                         |
| bool          | TRUE                    | R6.bool                         |
| too_large     | 400 digits, 1e308       | R6.range (beyond the kind's bound, kinds.yaml) |

A figure is a finite number within its kind's bound.  A whole number typed as text that a
float cannot hold exactly (2**53 + 1) stays a Python int, so sums over it stay exact.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from toolkit.formats import kinds
from toolkit.formats.spec import kind_limits

ACCEPTED = ("number", "text_number", "formula")
# Every class, in a fixed order: the batch frame stores a class as its index here (a
# small integer column validates far faster than strings).
CLASSES = (*ACCEPTED, "blank", "whitespace", "nil_word", "unit_number", "text",
           "formula_nocache", "error", "date", "bool", "too_large")
CODE = {name: i for i, name in enumerate(CLASSES)}

CLASS_RULES = {
    "blank": "R6.blank",
    "whitespace": "R6.blank",
    "nil_word": "R6.nil",
    "unit_number": "R6.unit",
    "text": "R6.text",
    "formula_nocache": "R6.formula",
    "error": "R6.formula_error",
    "date": "R6.date",
    "bool": "R6.bool",
    "too_large": "R6.range",
}

# Words agencies write for "nothing".  Compared after NFKC and removing white space.
NIL_WORDS = frozenset(
    unicodedata.normalize("NFKC", w)
    for w in ("无", "没有", "暂无", "无数据", "—", "——", "-", "--", "－", "/", "／", "\\",
              "不适用", "不涉及", "零", "〇", "空", "N/A", "n/a", "NA", "null", "nil", "×", "x")
)

# Units typed after a figure: counts and money.  Multipliers convert into 万元.
COUNT_UNITS = ("件", "条", "个", "项", "次", "宗", "起", "份", "人")
MONEY_UNITS = {"万元": 1, "万": 1, "元": 1e-4, "千元": 1e-1, "亿元": 1e4}

_SPACES = re.compile(r"[\s\u3000\u00a0\u200b\ufeff]+")
_NUMBER = re.compile(r"^[+-]?([0-9]{1,3}(,[0-9]{3})+|[0-9]+)(\.[0-9]+)?$")
_UNIT_NUMBER = re.compile(r"^([+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?)(.+)$")
# Full-width ASCII (０-９，．－ …) read as ASCII; nothing else is folded into a figure:
# NFKC would read "4²" as 42 and "④" as 4, changing what was typed.
_HALF_WIDTH = str.maketrans({chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)})


EXACT = 2**53  # beyond this a float no longer holds every whole number
MAX_DIGITS = 40  # longer digit strings are not converted at all: too large whatever the kind
SHOWN_CHARS = 24  # a value as typed is cut to this in messages


@dataclass(frozen=True, slots=True)
class Value:
    cls: str
    number: float | int | None  # the figure, when accepted (int only beyond EXACT)
    shown: object  # as typed, for messages and findings.json
    expected: object = None  # what the cell should hold, where that is clear
    detail: str = ""  # words for the rule's {detail}

    @property
    def accepted(self) -> bool:
        return self.cls in ACCEPTED

    def __reduce__(self):
        # A plain number crosses the process pool as its figure and comes back as the
        # shared Value of _number: a batch's results hold one object per distinct figure.
        if self.cls == "number":
            return _number, (self.number,)
        return Value, (self.cls, self.number, self.shown, self.expected, self.detail)

    @property
    def rule(self) -> str | None:
        return CLASS_RULES.get(self.cls)


def _num(text: str) -> float | int:
    """The number a checked digit string (``_NUMBER``) stands for: a float, or an exact
    int when it is whole and beyond EXACT; inf when it is too long to be any figure."""
    digits = text.replace(",", "")
    if len(digits) > MAX_DIGITS:
        return math.inf
    if "." in digits:
        return float(digits)
    whole = int(digits)
    return whole if abs(whole) > EXACT else float(whole)


def _too_large(number: float | int, kind: str) -> bool:
    return not abs(number) <= kind_limits().get(kind, kind_limits()["count"])


def _large(shown, kind: str) -> Value:
    text = str(shown)
    if len(text) > SHOWN_CHARS:
        text = f"{text[:SHOWN_CHARS - 4]}…（共 {len(text)} 个字符）"
    return Value("too_large", None, text, detail=f"{kind_limits().get(kind, kind_limits()['count']):,}")


def _clean(number: float):
    return int(number) if float(number).is_integer() else round(number, 10)


def classify_text(text: str, kind: str) -> Value:
    shown = text
    compact = _SPACES.sub("", text.translate(_HALF_WIDTH))
    if not compact:
        return Value("whitespace" if text else "blank", None, shown,
                     detail="只有空格" if text else "为空")
    if _NUMBER.match(compact):
        number = _num(compact)
        if _too_large(number, kind):
            return _large(shown, kind)
        return Value("text_number", number, shown)
    if unicodedata.normalize("NFKC", compact) in NIL_WORDS:
        return Value("nil_word", None, shown, expected=0)
    m = _UNIT_NUMBER.match(compact)
    if m:
        number, unit = _num(m.group(1)), m.group(2)
        if _too_large(number, kind):
            return _large(shown, kind)
        if unit in MONEY_UNITS:
            wan = number * MONEY_UNITS[unit]
            detail = "" if MONEY_UNITS[unit] == 1 else f"（{m.group(1)}{unit} = {_clean(wan)}万元，金额以万元为单位）"
            if not kinds.kind(kind).money:
                return Value("unit_number", None, shown, expected=_clean(number))
            return Value("unit_number", None, shown, expected=_clean(wan), detail=detail)
        if unit in COUNT_UNITS:
            return Value("unit_number", None, shown, expected=_clean(number))
    want = kinds.kind(kind).what
    return Value("text", None, shown, detail=want)


def classify(raw, kind: str) -> Value:
    """Classify one raw cell (a toolkit.workbook.model.RawCell, or None for a cell not present)."""
    if raw is None:
        return Value("blank", None, None, detail="为空")
    value = raw.value
    if raw.formula is not None:
        if raw.error:
            return Value("error", None, raw.error)
        if not raw.has_cache:
            return Value("formula_nocache", None, "=" + raw.formula)
        inner = classify(_cached(raw), kind)
        if inner.accepted:
            return Value("formula", inner.number, inner.shown)
        return inner
    if raw.error:
        return Value("error", None, raw.error)
    if isinstance(value, bool):
        return Value("bool", None, "TRUE" if value else "FALSE")
    if isinstance(value, (int, float)):
        if raw.is_date:
            return Value("date", None, _date_text(raw))
        if not math.isfinite(value):  # a stored NaN or INF is no figure
            return Value("error", None, str(value).upper())
        if _too_large(value, kind):
            return _large(f"{value:.6g}" if isinstance(value, float) else value, kind)
        return _number(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return Value("date", None, value.isoformat())
    if value is None:
        return Value("blank", None, None, detail="为空")
    return classify_text(str(value), kind)


@lru_cache(maxsize=4096)
def _number(value: int | float) -> Value:
    """Plain numbers recur across a batch: one shared (immutable) Value each, which also
    keeps results small when they cross a process pool."""
    exact = isinstance(value, int) and abs(value) > EXACT
    return Value("number", value if exact else float(value), _clean(value))


@dataclass(frozen=True)
class _Plain:
    """A formula's cached result seen as a plain cell."""

    value: object
    is_date: bool
    formula: None = None
    error: None = None
    has_cache: bool = True


def _cached(raw) -> _Plain:
    return _Plain(raw.value, raw.is_date)


def _date_text(raw) -> str:
    try:
        return raw.as_datetime().date().isoformat()
    except Exception:  # a serial out of range is still a date-formatted cell
        return str(raw.value)
