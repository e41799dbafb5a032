"""A1 references, our own arithmetic in one place: column letters <-> numbers, "B7" <->
(row 7, col 2), ranges "B4:D6" <-> (min_row, min_col, max_row, max_col).  Rows and
columns are 1-based.  Results are remembered (a batch asks for the same refs in every
file), up to a bound so that a hostile file cannot grow the caches without end."""

from __future__ import annotations

MAX_ROW, MAX_COL = 1_048_576, 16_384  # Excel's grid
_KEEP = 100_000  # most entries per cache

_LETTERS: dict[int, str] = {}
_NUMBERS: dict[str, int] = {}
_REFS: dict[str, tuple[int, int]] = {}


def col_letter(col: int) -> str:
    """1 -> 'A', 28 -> 'AB'."""
    s = _LETTERS.get(col)
    if s is None:
        n, s = col, ""
        while n:
            n, r = divmod(n - 1, 26)
            s = chr(65 + r) + s
        if len(_LETTERS) < _KEEP:
            _LETTERS[col] = s
    return s


def col_number(ref: str) -> int:
    """The column of 'AB', 'ab', '$AB$7' or 'AB7': its letters up to the first other
    character ('$' skipped) -> 28.  Lenient, for cell references written by a file."""
    col = _NUMBERS.get(ref)
    if col is None:
        col = 0
        for ch in ref:
            o = ord(ch)
            if 65 <= o <= 90:
                col = col * 26 + o - 64
            elif 97 <= o <= 122:
                col = col * 26 + o - 96
            elif ch != "$":
                break
        if len(_NUMBERS) < _KEEP:
            _NUMBERS[ref] = col
    return col


def ref_of(row: int, col: int, absolute: bool = False) -> str:
    """(4, 2) -> 'B4'; absolute -> '$B$4'."""
    if absolute:
        return f"${col_letter(col)}${row}"
    return f"{col_letter(col)}{row}"


def parse_ref(ref: str) -> tuple[int, int]:
    """'B4' / '$b$4' / 'B4:D4' (its top-left cell) -> (row 4, col 2).  ValueError when
    not a cell inside Excel's grid."""
    pos = _REFS.get(ref)
    if pos is None:
        pos = _parse_ref(ref)
        if len(_REFS) < _KEEP:
            _REFS[ref] = pos
    return pos


def _parse_ref(ref: str) -> tuple[int, int]:
    s = ref.split(":", 1)[0].replace("$", "").strip().upper()
    i = 0
    while i < len(s) and "A" <= s[i] <= "Z":
        i += 1
    letters, digits = s[:i], s[i:]
    if not 1 <= len(letters) <= 3 or not digits.isdigit() or not digits.isascii():
        raise ValueError(f"不是单元格引用：{ref!r}")
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    row = int(digits)
    if not (1 <= row <= MAX_ROW and col <= MAX_COL):
        raise ValueError(f"单元格引用超出范围：{ref!r}")
    return row, col


def parse_range(ref: str) -> tuple[int, int, int, int]:
    """'B4:D6' (either corner first) or 'B4' -> (min_row, min_col, max_row, max_col).
    ValueError as parse_ref."""
    first, _, second = ref.partition(":")
    r1, c1 = parse_ref(first)
    r2, c2 = parse_ref(second) if second else (r1, c1)
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


def range_of(min_row: int, min_col: int, max_row: int, max_col: int, absolute: bool = False) -> str:
    """(4, 2, 6, 4) -> 'B4:D6'; one cell -> 'B4'."""
    top = ref_of(min_row, min_col, absolute)
    if (min_row, min_col) == (max_row, max_col):
        return top
    return f"{top}:{ref_of(max_row, max_col, absolute)}"
