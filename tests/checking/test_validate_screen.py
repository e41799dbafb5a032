"""pandera is handed only the rows where a schema's checks fail (validate._failures): the
failure cases are the same as when it validates the whole chunk, for every schema and
every kind of mistake, and a chunk where every check holds is not handed over at all."""

from __future__ import annotations

from figures import filled_return

from toolkit.checking import validate
from toolkit.reading.reader import read_return

MISTAKES = [
    {},  # clean
    {"p3.open.natural": "无"},  # a nil word: values schema
    {"p3.open.business": -3},  # a negative count: figures schema
    {"p3.open.research": 2.5},  # a fraction of a count: figures schema
    {"p3.received.total": 999},  # a row total off: sums schema
    {"p2.fees.amount": 1.23456},  # too many decimals for 万元: figures schema
    {"p3.open.legal": "3件"},  # a unit typed with the number: values schema
    {},  # clean again, after the failing rows
]


def test_screened_failures_equal_pandera_on_the_whole_chunk(tmp_path):
    results = [read_return(filled_return(tmp_path / f"{i}.xlsx", changes)) for i, changes in enumerate(MISTAKES)]
    format_id = results[0].format_id
    positions = list(range(len(results)))
    classes, numbers = validate.frames(format_id, results, positions, {})
    for schema, frame in zip(validate._schemas(format_id), (classes, numbers, numbers)):
        whole = sorted((i, col, c.statistics["rule"]) for i, col, c in validate._failures(schema, frame, screen=False))
        screened = sorted((i, col, c.statistics["rule"]) for i, col, c in validate._failures(schema, frame))
        assert whole and screened == whole, schema.name
        assert {i for i, _, _ in whole} == set(map(int, frame.index[validate._failing_rows(schema, frame)]))
        assert 0 not in {i for i, _, _ in whole} and 7 not in {i for i, _, _ in whole}


def test_a_clean_chunk_is_not_handed_to_pandera(tmp_path, monkeypatch):
    results = [read_return(filled_return(tmp_path / f"{i}.xlsx")) for i in range(2)]
    format_id = results[0].format_id
    classes, numbers = validate.frames(format_id, results, [0, 1], {})
    called = []
    for schema, frame in zip(validate._schemas(format_id), (classes, numbers, numbers)):
        monkeypatch.setattr(type(schema), "validate", lambda *a, **k: called.append(a))
        assert list(validate._failures(schema, frame)) == []
    assert validate.validate(results) == [[], []]
    assert called == []
