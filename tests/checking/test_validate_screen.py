"""pandera is handed only the rows where a schema's checks fail (validate._failures): the
failure cases are the same as when it validates the whole chunk, for every schema and
every kind of mistake, and a chunk where every check holds is not handed over at all."""

from __future__ import annotations

from figures import filled_return

from toolkit.checking import validate
from toolkit.formats import spec
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
        assert {i for i, _, _ in whole} == set(map(int, frame.index[validate._failing_cells(schema, frame).any(axis=1)]))
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


def test_pandera_gets_the_failing_cells_and_the_columns_their_checks_read(tmp_path, monkeypatch):
    results = [read_return(filled_return(tmp_path / f"{i}.xlsx", changes)) for i, changes in enumerate(MISTAKES)]
    format_id = results[0].format_id
    classes, numbers = validate.frames(format_id, results, list(range(len(results))), {})
    values_schema, _figures, sums_schema = validate._schemas(format_id)
    handed = []
    real = type(values_schema).validate
    monkeypatch.setattr(type(values_schema), "validate",
                        lambda self, frame, **k: (handed.append(frame), real(self, frame, **k))[1])

    list(validate._failures(values_schema, classes))
    assert set(handed[-1].columns) == {"p3.open.natural", "p3.open.legal"}
    assert list(handed[-1].index) == [1, 6]

    failing = {(i, col) for i, col, _ in validate._failures(sums_schema, numbers)}
    assert (4, "p3.received.total") in failing
    anchored = [eq for eq in spec.get(format_id).equations if eq.anchor == "p3.received.total"]
    terms = {t.key for eq in anchored for t in (*eq.lhs, *eq.rhs)}
    assert terms <= set(handed[-1].columns) < set(numbers.columns)  # the terms, not every figure
    assert set(handed[-1].index) == {i for i, _ in failing}


def test_clean_tells_exactly_the_files_validate_finds_nothing_in(tmp_path):
    """A batch keeps for validate() only the files clean() does not pass (check_files):
    clean() never passes a file validate() has a finding on, and holds back no other
    but one with a whole number a float does not hold exactly (summed as validate sums it)."""
    from toolkit.template.writer import write_template

    changes = [*MISTAKES, {"p3.open.natural": 10**17}]
    results = [read_return(filled_return(tmp_path / f"{i}.xlsx", c)) for i, c in enumerate(changes)]
    write_template(tmp_path / "unfilled.xlsx", spec.get("gov-2021"), agency="某局", year=2023)
    results.append(read_return(tmp_path / "unfilled.xlsx"))
    found = validate.validate(results)
    assert validate.clean(results) == [not f for f in found[:-2]] + [False, False]
    assert found[-1] and found[0] == [] and found[7] == [] and all(found[1:7])
