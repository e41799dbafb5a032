"""The seed report shipped as data (toolkit/data/) is the published report, figure for
figure, stray spaces included (../shared/reference, present beside the repo in CI)."""

from __future__ import annotations

import pytest
from conftest import REFERENCE, reference_or_skip  # noqa: E402

from toolkit.formats import spec
from toolkit.formats.samples import seed_figures

FMT = spec.get("gov-2021")


@pytest.fixture(scope="module")
def tokens():
    reference_or_skip()
    lines = REFERENCE.read_text(encoding="utf-8").splitlines()
    return [line.removeprefix("\t") for line in lines if line.strip("\t")]


def after(tokens, label, n, start=0):
    i = tokens.index(label, start)
    return tokens[i + 1:i + 1 + n], i


def test_part_2_as_published(tokens):
    seed = seed_figures()
    for table in FMT.part("p2").tables:
        for row in table.rows:
            typed, _ = after(tokens, row.text, len(table.columns))
            for col, text in zip(table.columns, typed):
                value = seed[f"p2.{row.key}.{col.key}"]
                assert (value if isinstance(value, str) else format(value, "g")) == text, (row.text, col.text)


def test_parts_3_and_4_are_all_zero_as_published(tokens):
    seed = seed_figures()
    part3 = FMT.part("p3").tables[0]
    start = 0
    for row in part3.rows:
        typed, start = after(tokens, row.text, len(part3.columns), start)
        assert typed == ["0"] * len(part3.columns), row.text
        assert all(seed[f"p3.{row.key}.{c.key}"] == 0 for c in part3.columns)
    # Part 四: the 15 figures follow the last column label of its header.
    p4 = FMT.part("p4").tables[0]
    tail = tokens[tokens.index(FMT.part("p4").heads[0].text, start):]
    figures = [t for t in tail if t.strip().isdigit()]
    assert figures[:len(p4.columns)] == ["0"] * len(p4.columns)
    assert all(seed[f"p4.cases.{c.key}"] == 0 for c in p4.columns)
