"""The rule catalogue is data, checked when it loads (issue 10: rules entirely as data)."""

from __future__ import annotations

import pytest

from toolkit.formats import catalogue
from toolkit.formats.spec import TEMPLATES_DIR

TEXT = (TEMPLATES_DIR / "rules.yaml").read_text(encoding="utf-8")


def test_shipped_catalogue_loads_and_every_template_uses_known_placeholders():
    data = catalogue.parse(TEXT)
    known = set(data["placeholders"])
    for rule in catalogue.rules().values():
        assert rule.placeholders <= known, rule.id
        assert rule.render(**dict.fromkeys(known, "x"))  # renders with every field given


@pytest.mark.parametrize("bad, named", [
    ("{expected}（{expr}）", "{expectd}"),  # a misspelt field
    ("{expected}（{expr}）", "{}"),  # positional
    ("{expected}（{expr}）", "{value.real}"),  # attribute access
])
def test_unknown_placeholder_is_an_error_at_load(bad, named):
    assert bad in TEXT
    with pytest.raises(ValueError, match="rules.yaml R3.message"):
        catalogue.parse(TEXT.replace(bad, named, 1))


def test_unchecked_texts_and_phrases_are_checked_too():
    with pytest.raises(ValueError, match="phrases.unchecked"):
        catalogue.parse(TEXT.replace("{what}暂无法核对", "{wat}暂无法核对", 1))
    with pytest.raises(ValueError, match=r"R3\.unchecked"):
        catalogue.parse(TEXT.replace("unchecked: 本行{column}", "unchecked: 本行{colum}", 1))
