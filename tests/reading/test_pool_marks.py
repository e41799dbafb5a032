"""What a read return sends across the worker pool: the template's own places and a plain
number go as marks and come back as the shared objects (a result pickles small, and a
batch's results hold one copy of each); anything else comes back as it was."""

from __future__ import annotations

import copy
import pickle

from figures import filled_return

from toolkit.reading.reader import read_return, template_places
from toolkit.reading.values import Value, _number


def test_a_template_return_crosses_the_pool_as_marks(tmp_path):
    result = read_return(filled_return(tmp_path / "甲局.xlsx", {"p3.open.natural": "无"}))
    assert result.read_by == "names" and result.places is template_places(result.format_id)
    blob = pickle.dumps(result)
    back = pickle.loads(blob)
    assert back.places is template_places(result.format_id)
    assert back.values == result.values and back.findings == result.findings and back.meta == result.meta
    numbers = [k for k, v in back.values.items() if v.cls == "number"]
    assert numbers and all(back.values[k] is _number(back.values[k].number) for k in numbers)
    assert back.values["p3.open.natural"] == Value("nil_word", None, "无", expected=0)
    # The mark is what keeps a result small: the same result with places of its own
    # (equal, but not the shared dict) pickles to well over half as much again.
    unshared = copy.copy(result)
    unshared.places = dict(result.places)
    assert len(blob) * 1.5 < len(pickle.dumps(unshared))


def test_places_of_their_own_cross_the_pool_unchanged(tmp_path):
    result = read_return(filled_return(tmp_path / "乙局.xlsx"))
    moved = dict(result.places)
    moved["p3.open.natural"] = ("三、收到和处理政府信息公开申请情况", "Z99")
    result.places = moved
    back = pickle.loads(pickle.dumps(result))
    assert back.places == moved and back.places is not template_places(result.format_id)
