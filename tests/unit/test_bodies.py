"""The strict JSON boundary: what it refuses, and the field it names."""

from __future__ import annotations

import asyncio
import sys

import orjson
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from starlette.requests import ClientDisconnect

from mockserver.core.bodies import BodyError, json_path, parse_json, path_beyond_depth, path_deeper_than, read_body


@pytest.mark.parametrize(("raw", "param"), [
    (b'{"input": {"guidance": NaN}}', "input.guidance"),
    (b'{"a": [0, {"b": Infinity}]}', "a[1].b"),
    (b'[-Infinity]', "[0]"),
    (b'{"n": 1e400}', "n"),
    (b'{"messages": [{"content": "x\\ud800"}]}', "messages[0].content"),
    (b'{"k\\udfff": 1}', None),
    (b'{"a": "\xed\xa0\x80"}', None),
    (b"\xef\xbb\xbf{}", None),
])
def test_non_strict_json_is_refused_naming_the_field(raw: bytes, param: str | None) -> None:
    with pytest.raises(BodyError) as refused:
        parse_json(raw)
    assert refused.value.status == 400
    if param is not None:
        assert refused.value.param == param


def test_depth_is_limited_without_recursion() -> None:
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # a recursive check would die long before 100k levels
    try:
        with pytest.raises(BodyError):
            parse_json(b"[" * 100_000 + b"]" * 100_000)
        with pytest.raises(BodyError) as refused:
            parse_json(b'{"a": ' + b"[" * 65 + b"]" * 65 + b"}", max_depth=64)
        assert refused.value.param == "a" + "[0]" * 63
    finally:
        sys.setrecursionlimit(limit)
    assert parse_json(b'{"a": ' + b"[" * 63 + b"]" * 63 + b"}", max_depth=64)  # 64 levels: accepted


def test_legitimate_documents_pass() -> None:
    assert parse_json(b'{"a": "\\ud83d\\ude00", "n": 18446744073709551615, "f": 1e308}') == {
        "a": "\U0001F600", "n": 18446744073709551615, "f": 1e308}


def test_reading_stops_at_the_limit() -> None:
    pulled = 0

    async def receive() -> dict:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * 1000, "more_body": pulled < 1000}

    with pytest.raises(BodyError) as refused:
        asyncio.run(read_body(receive, 10_000))
    assert refused.value.status == 413 and pulled == 11


def test_a_body_is_read_whole_from_one_message_or_several() -> None:
    def channel(*messages: dict):
        pending = list(messages)

        async def receive() -> dict:
            return pending.pop(0)
        return receive

    whole = {"type": "http.request", "body": b'{"a":1}', "more_body": False}
    assert asyncio.run(read_body(channel(whole), 100)) == b'{"a":1}'
    parts = [{"type": "http.request", "body": b'{"a"', "more_body": True},
             {"type": "http.request", "body": b"", "more_body": True},
             {"type": "http.request", "body": b":1}", "more_body": False}]
    assert asyncio.run(read_body(channel(*parts), 100)) == b'{"a":1}'
    with pytest.raises(BodyError):  # one message over the limit
        asyncio.run(read_body(channel({**whole, "body": b"x" * 101}), 100))


def test_a_client_gone_before_its_body_ended_is_a_disconnect() -> None:
    async def receive_then_leave() -> dict:
        receive_then_leave.calls += 1  # type: ignore[attr-defined]
        if receive_then_leave.calls == 1:  # type: ignore[attr-defined]
            return {"type": "http.request", "body": b"{", "more_body": True}
        return {"type": "http.disconnect"}

    receive_then_leave.calls = 0  # type: ignore[attr-defined]
    with pytest.raises(ClientDisconnect):
        asyncio.run(read_body(receive_then_leave, 100))


def test_json_paths() -> None:
    assert json_path(()) == "$"
    assert json_path(("messages", 0, "content")) == "messages[0].content"
    assert json_path((0, "a")) == "[0].a"


def test_too_deep_to_parse_still_names_where() -> None:
    nested = ('{"a":[1,{"b":' * 3 + "0" + "}]}" * 3).encode()
    assert path_beyond_depth(nested, 4) == "a[1].b.a"
    assert path_beyond_depth(b'{"x":1,"y":[[[[1]]]]}', 3) == "y[0][0]"
    assert path_beyond_depth(b'[1,"]",[3,[4]]]', 2) == "[2][1]"
    assert path_beyond_depth(b'{"k\\"q":{"z":{}}}', 2) == 'k"q.z'
    assert path_beyond_depth(b'{"a":{"b":1}}', 2) is None
    deep = b'{"tools":[{"p":' + b'{"a":' * 5000 + b"1" + b"}" * 5002 + b"]}"
    with pytest.raises(BodyError) as caught:
        parse_json(deep)
    assert caught.value.param.startswith("tools[0].p.a.a")


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=3),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner, max_size=3),
                    max_leaves=12)


def _depth(value: object) -> int:
    """How deep containers nest in ``value`` (a scalar 0, an empty container 1)."""
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
    return 0 if children is None else 1 + max((_depth(child) for child in children), default=0)


@given(JSON, st.integers(0, 5))
def test_a_path_is_named_exactly_when_containers_nest_too_deep(value: object, max_depth: int) -> None:
    path = path_deeper_than(value, max_depth)
    assert (path is None) == (_depth(value) <= max_depth)


@given(JSON, st.integers(0, 5))
def test_a_body_is_refused_exactly_when_containers_nest_too_deep(value: object, max_depth: int) -> None:
    """Also for bodies with no more brackets than the limit, which are not walked (brackets in strings too)."""
    try:
        raw = orjson.dumps(value)
    except TypeError:  # an integer beyond 64 bits: not JSON the mock is sent
        assume(False)
    if _depth(value) <= max_depth:
        assert parse_json(raw, max_depth) == value
    else:
        with pytest.raises(BodyError):
            parse_json(raw, max_depth)
