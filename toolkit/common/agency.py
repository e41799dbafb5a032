"""Agency names as typed by people: match them loosely (spaces, full-width forms)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import TypeVar

_SPACE = re.compile(r"\s+")
T = TypeVar("T")


def normalize_agency(name: object) -> str:
    """The form two spellings of one agency share: NFKC, no white space (U+3000 and
    no-break spaces included)."""
    if name is None:
        return ""
    return _SPACE.sub("", unicodedata.normalize("NFKC", str(name)))


def first_rows(entries: Iterable[T]) -> tuple[dict[str, T], list[tuple[T, T]]]:
    """A roster's agencies by normalised name, each by the first row that lists it (the
    rule every command addresses an agency by), and every later row with the first it
    repeats.  ``entries`` have a ``.name``."""
    first: dict[str, T] = {}
    repeats: list[tuple[T, T]] = []
    for e in entries:
        kept = first.setdefault(normalize_agency(e.name), e)
        if kept is not e:
            repeats.append((e, kept))
    return first, repeats
