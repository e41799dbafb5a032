"""Figure kinds, one table (workbook_templates/kinds.yaml): whole or decimal, signed or
not, decimal places, unit, display format.  The template (validation, display), the cell
classifier (units), the pandera figures schema (sign, whole numbers, places), the
validator, the summary and the roll-up (rounding, display) all read them here."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import yaml

from toolkit.common.resources import format_data


@dataclass(frozen=True)
class Kind:
    id: str
    title: str
    whole: bool
    signed: bool
    places: int
    unit: str
    money: bool
    number_format: str
    what: str
    noun: str
    max: int  # beyond it (absolute value), a typing slip, not a figure (R6.range)

    def round(self, number: float) -> float:
        """``number`` kept to this kind's places (a whole number for whole kinds)."""
        return int(round(number)) if self.whole else round(number, self.places)


@cache
def _data() -> dict:
    return yaml.safe_load((format_data() / "kinds.yaml").read_text(encoding="utf-8"))


def default() -> str:
    """The kind of a figure whose format data names none."""
    return _data()["default"]


@cache
def kinds() -> dict[str, Kind]:
    loaded = {}
    for kind_id, fields in _data()["kinds"].items():
        loaded[kind_id] = kind = Kind(id=kind_id, **fields)
        if kind.whole and kind.places:
            raise ValueError(f"kinds.yaml: {kind_id} is whole but keeps {kind.places} places")
    return loaded


def kind(kind_id: str) -> Kind:
    return kinds()[kind_id]


def places() -> int:
    """The most decimal places any kind keeps: results rounded to it lose nothing."""
    return max(k.places for k in kinds().values())


def tolerance() -> float:
    """Two sums of figures agree when they differ by less than this (float noise, far
    below the last decimal place any figure keeps)."""
    return 10.0 ** -(places() + 2)
