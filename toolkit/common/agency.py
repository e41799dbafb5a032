"""Agency names as typed by people: match them loosely (spaces, full-width forms)."""

from __future__ import annotations

import re
import unicodedata

_SPACE = re.compile(r"\s+")


def normalize_agency(name: object) -> str:
    """The form two spellings of one agency share: NFKC, no white space (U+3000 and
    no-break spaces included)."""
    if name is None:
        return ""
    return _SPACE.sub("", unicodedata.normalize("NFKC", str(name)))
