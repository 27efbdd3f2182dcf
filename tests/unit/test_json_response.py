"""The JSON every API response is written with: orjson's bytes, equal to the compact stdlib form the APIs used."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mockserver.core.http import JSONResponse, json_array_bytes, json_bytes, json_object_bytes

# What the APIs answer: text (any Unicode but lone surrogates), 64-bit integers, booleans, null, nesting.
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)
leaves = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | text | st.sampled_from((0.5, 1.25, -3.0, 0.1))
documents = st.recursive(leaves, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
                         max_leaves=30)


def stdlib(content: Any) -> bytes:
    return json.dumps(content, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


@given(documents)
def test_bytes_equal_the_compact_stdlib_form(document: Any) -> None:
    assert json_bytes(document) == stdlib(document)


def test_what_orjson_refuses_falls_back_to_the_stdlib() -> None:
    for content in ({"n": 10**30}, {1: "a"}, [[[[]]]] * 2):
        assert json_bytes(content) == stdlib(content)
    deep: Any = []
    for _ in range(300):  # beyond orjson's 254 levels
        deep = [deep]
    assert json_bytes(deep) == stdlib(deep)


def test_response_is_utf8_json_with_its_length() -> None:
    response = JSONResponse({"text": "héllo ✓", "n": 1}, status_code=201)
    assert response.body == '{"text":"héllo ✓","n":1}'.encode()
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-length"] == str(len(response.body))


plain_keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)


@given(st.dictionaries(plain_keys, documents, max_size=5), st.lists(documents, max_size=5))
def test_spliced_bytes_equal_the_bytes_of_the_whole(members: dict[str, Any], items: list[Any]) -> None:
    """The list page splices kept views' bytes: the same bytes as encoding the whole document at once."""
    assert json_object_bytes({key: json_bytes(value) for key, value in members.items()}) == json_bytes(members)
    assert json_array_bytes(json_bytes(item) for item in items) == json_bytes(items)
