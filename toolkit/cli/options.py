"""Checks on option values that a type alone does not make: a limit must be a finite
number above zero and within reason (``inf``, ``nan``, ``-1``, ``1e302`` all parse as
floats), a count of workers at least one.  A bad value is a usage error (exit 2) with a
中文 message, never a verdict mailed to every agency."""

from __future__ import annotations

import math

import typer

MAX_MB = 100_000  # 100 GB: far above any workbook; beyond, the arithmetic on it is not sane
MAX_SECONDS = 86_400  # a day per file


def _bounded(value: float | None, top: float) -> float | None:
    if value is not None and not (math.isfinite(value) and 0 < value <= top):
        raise typer.BadParameter(f"应为大于 0、不超过 {top:,} 的数字，不能是 {value}")
    return value


def megabytes(value: float | None) -> float | None:
    return _bounded(value, MAX_MB)


def seconds(value: float | None) -> float | None:
    return _bounded(value, MAX_SECONDS)


def at_least_one(value: int | None) -> int | None:
    if value is not None and value < 1:
        raise typer.BadParameter(f"应为不小于 1 的整数，不能是 {value}")
    return value
