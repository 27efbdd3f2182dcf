"""The agent-turn checks' stream logic: tool calls rebuilt from chat deltas, Responses argument events."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.harness.behaviour.agent_schemas import schema_problem, tools
from mockserver.harness.behaviour.common import Violation
from mockserver.harness.behaviour.skytells_agents import (
    chat_stream_message,
    check_arguments,
    function_call_stream,
    stream_choices,
)

CALL = "call_" + "A" * 24
OP = "POST /v1/chat/completions"


def sse(*chunks: dict[str, Any]) -> str:
    frames = [{"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]} for delta, finish in chunks]
    return "".join(f"data: {json.dumps(frame)}\n\n" for frame in frames) + "data: [DONE]\n\n"


def test_streamed_calls_are_rebuilt_from_their_deltas() -> None:
    first = {"index": 0, "id": CALL, "type": "function", "function": {"name": "f", "arguments": ""}}
    text = sse(({"role": "assistant", "content": None}, None), ({"tool_calls": [first]}, None),
               ({"tool_calls": [{"index": 0, "function": {"arguments": "{\"a\":"}}]}, None),
               ({"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]}, None), ({}, "tool_calls"))
    message, finish = chat_stream_message(text, OP)
    assert finish == "tool_calls" and message["content"] is None
    call = {"id": CALL, "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}}
    assert message["tool_calls"] == [call]


@pytest.mark.parametrize(("pieces", "needle"), [
    ([{"index": 0, "function": {"arguments": "{}"}}], "lacks id"),
    ([{"index": 0, "id": CALL, "type": "function", "function": {"name": "f"}},
      {"index": 0, "id": CALL, "function": {"arguments": "{}"}}], "repeats its id"),
    ([{"index": 1, "id": CALL, "type": "function", "function": {"name": "f"}}], "not 0..0"),
])
def test_malformed_call_deltas_are_violations(pieces: list[dict[str, Any]], needle: str) -> None:
    text = sse(*[({"tool_calls": [piece]}, None) for piece in pieces], ({}, "tool_calls"))
    with pytest.raises(Violation, match=needle):
        chat_stream_message(text, OP)


def test_arguments_are_checked_against_the_offered_tool() -> None:
    offered = {"f": {"parameters": {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}}}
    check_arguments("tools.call", OP, "x", "f", "{\"n\": 1}", offered)
    with pytest.raises(Violation, match=r"\.n: 'one' is not of type 'integer'"):
        check_arguments("tools.call", OP, "x", "f", "{\"n\": \"one\"}", offered)
    with pytest.raises(Violation, match="not one of the tools"):
        check_arguments("tools.call", OP, "x", "g", "{}", offered)
    with pytest.raises(Violation, match="not a JSON object"):
        check_arguments("tools.call", OP, "x", "f", "[1]", offered)


def events(*items: dict[str, Any]) -> str:
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in items)


def test_function_call_events_must_add_up_to_the_item() -> None:
    item = {"type": "function_call", "id": "fc_1", "call_id": CALL, "name": "f", "arguments": "{\"a\":1}",
            "status": "completed"}
    stream = [{"type": "response.output_item.added", "item": {**item, "arguments": "", "status": "in_progress"}},
              {"type": "response.function_call_arguments.delta", "item_id": "fc_1", "delta": "{\"a\":"},
              {"type": "response.function_call_arguments.delta", "item_id": "fc_1", "delta": "1}"},
              {"type": "response.function_call_arguments.done", "item_id": "fc_1", "name": "f",
               "arguments": "{\"a\":1}"}]
    function_call_stream(events(*stream), {"output": [item]}, "POST /v1/responses")
    with pytest.raises(Violation, match="differ"):
        function_call_stream(events(*stream[:2], stream[3]), {"output": [item]}, "POST /v1/responses")


@given(st.data())
def test_generated_tools_have_distinct_names_and_strict_means_closed(data: st.DataObject) -> None:
    offered = data.draw(tools(count=2))
    assert len({tool["name"] for tool in offered}) == 2
    for tool in offered:
        schema = tool["parameters"]
        missing_required = schema_problem(schema, {})
        assert (missing_required is None) == (not schema["required"])
        if tool["strict"]:
            assert schema["required"] == list(schema["properties"]) and schema["additionalProperties"] is False
            assert schema_problem(schema, {"unexpected": 1}) is not None


def test_stream_choices_follow_each_index_and_keep_the_last_usage() -> None:
    def frame(index: int, text: str) -> dict[str, Any]:
        logprobs = {"content": [{"token": text, "logprob": -0.1, "bytes": None, "top_logprobs": []}]}
        return {"choices": [{"index": index, "delta": {"content": text}, "logprobs": logprobs}], "usage": None}

    frames = [frame(0, "He"), frame(1, "Hi"), frame(0, "llo"), {"choices": [], "usage": {"completion_tokens": 3}}]
    text = "".join(f"data: {json.dumps(f)}\n\n" for f in frames) + "data: [DONE]\n\n"
    choices, usage = stream_choices(text)
    assert {index: content for index, (content, _) in choices.items()} == {0: "Hello", 1: "Hi"}
    assert [t["token"] for t in choices[0][1]] == ["He", "llo"] and usage == {"completion_tokens": 3}
