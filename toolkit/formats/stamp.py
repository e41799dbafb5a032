"""The template stamp: what a generated template says about itself.

Written by the template writer, read back by the reader (which format, agency and year a
return was made for; S2/S3/F9) and by mailing (which template goes to whom).  Two copies:

- a very hidden sheet ``_meta``: column A the keys of ``SHEET_KEYS``, column B the values,
  one row each, in that order;
- custom document properties ``disclosure.<key>`` for ``PROPERTY_KEYS``.

Readers take the properties when they name a format (no sheet to scan), else the sheet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

GENERATOR = "disclosure-toolkit"
SHEET = "_meta"
SHEET_KEYS = ("format", "agency", "year", "generator", "version", "fingerprint")
PROPERTY_PREFIX = "disclosure."
PROPERTY_KEYS = ("format", "agency", "year", "version", "fingerprint")
# The cells of the sheet that hold the stamp (A1:B6).
SHEET_REFS = tuple(f"{col}{row}" for row in range(1, len(SHEET_KEYS) + 1) for col in "AB")


def make(format_id: str, fingerprint: str, version: str, agency: str | None, year: int | None) -> dict[str, str]:
    """The stamp of a template, every key of ``SHEET_KEYS`` as text ("" when not given)."""
    return {
        "format": format_id,
        "agency": agency or "",
        "year": "" if year is None else str(year),
        "generator": GENERATOR,
        "version": version,
        "fingerprint": fingerprint,
    }


def sheet_rows(stamp: Mapping[str, str]) -> list[tuple[str, str]]:
    """(key, value) for the rows of the ``_meta`` sheet, in order."""
    return [(key, stamp.get(key, "")) for key in SHEET_KEYS]


def properties(stamp: Mapping[str, str]) -> dict[str, str]:
    """Custom property name -> value."""
    return {PROPERTY_PREFIX + key: stamp.get(key, "") for key in PROPERTY_KEYS}


def from_properties(props: Mapping[str, object]) -> dict[str, str]:
    """The stamp's keys found among custom properties (``disclosure.`` names; a roll-up's
    ``disclosure.rollup`` reads as ``rollup``).  Empty values are left out."""
    return {name[len(PROPERTY_PREFIX):]: _text(value) for name, value in props.items()
            if str(name).startswith(PROPERTY_PREFIX) and _text(value)}


def from_rows(rows: Iterable[Sequence[object]]) -> dict[str, str]:
    """The stamp in the ``_meta`` sheet's rows (column A key, column B value)."""
    stamp: dict[str, str] = {}
    for row in rows:
        if len(row) > 1 and _text(row[0]) and _text(row[1]):
            stamp[_text(row[0])] = _text(row[1])
    return stamp


def read(props: Mapping[str, object], rows: Callable[[], Iterable[Sequence[object]]]) -> dict[str, str]:
    """The stamp of a workbook: its properties when they name a format, else the rows of
    its ``_meta`` sheet (``rows`` is called only then; it returns () without the sheet)."""
    stamp = from_properties(props)
    if stamp.get("format"):
        return stamp
    return from_rows(rows())


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()
