"""Rules across items (distinct tool names, a named tool_choice among the tools) applied to generated bodies."""

from __future__ import annotations

import json

from mockserver.harness.cross_rules import satisfy
from mockserver.spec import validate_request

KEY = {"x-api-key": "sk-1", "content-type": "application/json"}


def test_chat_tools_get_distinct_names_and_the_named_choice_one_of_them() -> None:
    body = {"model": "gpt-5", "messages": [{"role": "user", "content": "x"}],
            "tools": [{"type": "function", "function": {"name": "a"}}, {"type": "function", "function": {"name": "a"}},
                      {"type": "function", "function": {"name": "t1_0"}}],
            "tool_choice": {"type": "function", "function": {"name": "zzz"}}}
    assert satisfy("/v1/chat/completions", body) is True
    names = [tool["function"]["name"] for tool in body["tools"]]
    assert len(set(names)) == 3 and names[0] == "a"
    assert body["tool_choice"]["function"]["name"] == "a"
    assert validate_request("skytells", "POST", "/v1/chat/completions", KEY, json.dumps(body)) == []
    assert satisfy("/v1/chat/completions", body) is False  # already fine: untouched


def test_responses_tools_are_inline_and_other_bodies_are_left_alone() -> None:
    body = {"tools": [{"type": "function", "name": "f"}, {"type": "function", "name": "f"}],
            "tool_choice": {"type": "function", "name": "g"}}
    assert satisfy("/v1/responses", body) is True
    assert body["tools"][0]["name"] == "f" and body["tools"][1]["name"] != "f"
    assert body["tool_choice"]["name"] == "f"
    untouched = {"tools": [{"type": "function", "name": "f"}, {"type": "function", "name": "f"}]}
    assert satisfy("/v1/predictions", untouched) is False and untouched["tools"][1]["name"] == "f"
    assert satisfy("/v1/responses", {"tools": "nope", "tool_choice": "auto"}) is False
