"""The create path's quick "no safety term anywhere" check never hides a term the safety checker would flag."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mockserver.core.safety import flagged_terms
from mockserver.skytells.predictions import _may_flag

TEXT = st.text(alphabet=st.sampled_from('aAbnuΣσςİi\x00\x1f\n"\\ -'), max_size=8)
VALUES: st.SearchStrategy[Any] = st.recursive(
    TEXT | st.integers() | st.none(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3), max_leaves=8)


@given(VALUES, st.lists(TEXT, max_size=3))
def test_no_term_found_by_the_checker_is_missed(value: Any, terms: list[str]) -> None:
    if flagged_terms(value, terms):
        assert _may_flag(value, terms)


def test_a_term_in_a_nested_prompt_is_seen() -> None:
    assert _may_flag({"prompt": ["calm", {"x": "Some NSFW art"}]}, ("nsfw",))
    assert not _may_flag({"prompt": "a fox", "n": 2}, ("nsfw", "gore"))
