"""Sample figures shipped with the toolkit: the seed report's real figures, used by the
demo and the tests (a user's machine has no ../shared)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from . import spec

DATA_DIR = Path(__file__).resolve().parent / "data"


@cache
def _seed() -> dict:
    return yaml.safe_load((DATA_DIR / "seed_zhangshu_2023.yaml").read_text(encoding="utf-8"))


def seed_agency() -> tuple[str, int]:
    data = _seed()
    return data["agency"], data["year"]


def seed_figures() -> dict[str, object]:
    """Every figure of the seed report, keyed like spec figures, as the agency typed it."""
    data = _seed()
    fmt = spec.get(data["format"])
    return {key: data["figures"].get(key, data["others"]) for key in fmt.figures}
