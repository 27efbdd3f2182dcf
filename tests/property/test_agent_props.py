"""Properties of agent turns: arguments and structured replies validate against arbitrary schemas, streamed
deltas rebuild the plain reply (tools, ``n``, logprobs), and usage adds up."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from mockserver.core.errors import InvalidInput
from mockserver.core.runtime import Runtime
from mockserver.skytells.catalog import Catalog
from mockserver.skytells.inference import chat, tokens
from tests.conftest import make_settings
from tests.domain_answers import inference_answer

CATALOG = Catalog.load()
RUNTIME = Runtime.from_settings(make_settings())

#: One property's keywords, drawn per keyword from a meta-schema fragment (hypothesis-jsonschema 0.23's object
#: strategy fails on current Hypothesis, so dictionaries are assembled here): arbitrary combinations, satisfiable
#: or not.
KEYWORDS = {
    "type": {"enum": ["string", "integer", "number", "boolean", "null", "array"]},
    "enum": {"type": "array", "items": {"type": ["string", "integer", "null"]}, "maxItems": 4},
    "minimum": {"type": "integer", "minimum": -100, "maximum": 100},
    "maximum": {"type": "integer", "minimum": -100, "maximum": 100},
    "multipleOf": {"enum": [2, 5, 0.5]},
    "minLength": {"type": "integer", "minimum": 0, "maximum": 30},
    "maxLength": {"type": "integer", "minimum": 0, "maximum": 30},
    "format": {"enum": ["date", "date-time", "email", "uuid", "uri"]},
    "pattern": {"enum": ["^[a-z]{2,5}$", "^[A-Z][0-9]+$", "x"]},
    "minItems": {"type": "integer", "minimum": 0, "maximum": 4},
}
_VALUES = {name: from_schema(meta) for name, meta in KEYWORDS.items()}
LEAF = st.lists(st.sampled_from(sorted(KEYWORDS)), max_size=4, unique=True).flatmap(
    lambda names: st.fixed_dictionaries({name: _VALUES[name] for name in names}))
NAMES = st.sampled_from(["city", "query", "days", "name", "unit", "when"])
SCHEMAS = st.tuples(st.dictionaries(NAMES, LEAF, max_size=4), st.lists(NAMES, max_size=3, unique=True),
                    st.booleans()).map(lambda t: {"type": "object", "properties": t[0], "required": t[1],
                                                  "additionalProperties": t[2]})

conversations = st.lists(st.sampled_from(["What is the weather in Paris?", "Run the tool", "hello there",
                                          "look up the order status"]), min_size=1, max_size=2)


def request(schema: dict[str, Any], strict: bool, texts: list[str], **extra: Any) -> chat.ChatRequest:
    tools = [{"type": "function", "function": {"name": "do_it", "parameters": schema, "strict": strict}}]
    messages = [{"role": "user", "content": text} for text in texts]
    return chat.parse({"model": "gpt-5", "messages": messages, "tools": tools, "tool_choice": "required",
                       **extra}, CATALOG)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=SCHEMAS, strict=st.booleans(), texts=conversations)
def test_tool_arguments_validate_or_the_schema_is_a_named_400(schema: dict, strict: bool, texts: list[str]) -> None:
    try:
        generations = chat.run(RUNTIME, request(schema, strict, texts))
    except InvalidInput as refused:
        answer = inference_answer(refused)
        assert answer.status == 400 and answer.param == "tools[0].function.parameters"
        return
    [call] = generations[0].tool_calls
    arguments = json.loads(call.arguments)
    jsonschema.validate(arguments, schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    if strict:
        assert set(arguments) == set(schema["properties"]) | set(schema["required"])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=SCHEMAS, texts=conversations)
def test_structured_replies_validate_or_the_schema_is_a_named_400(schema: dict, texts: list[str]) -> None:
    body = {"model": "gpt-5", "messages": [{"role": "user", "content": t} for t in texts],
            "response_format": {"type": "json_schema", "json_schema": {"name": "out", "schema": schema}}}
    try:
        [generation] = chat.run(RUNTIME, chat.parse(body, CATALOG))
    except InvalidInput as refused:
        answer = inference_answer(refused)
        assert answer.status == 400 and answer.param == "response_format.json_schema.schema"
        return
    jsonschema.validate(json.loads(generation.text), schema,
                        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def rebuild(items: list, n: int) -> list[dict[str, Any]]:
    """Each choice as a client's stream accumulator rebuilds it."""
    choices: list[dict[str, Any]] = [{"content": "", "calls": {}, "finish": None, "logprobs": []} for _ in range(n)]
    for data, _ in items:
        for choice in data["choices"]:
            built, delta = choices[choice["index"]], choice["delta"]
            built["content"] += delta.get("content") or ""
            for call in delta.get("tool_calls", []):
                entry = built["calls"].setdefault(call["index"], {"id": "", "name": "", "arguments": ""})
                entry["id"] += call.get("id", "")
                entry["name"] += call.get("function", {}).get("name", "")
                entry["arguments"] += call["function"].get("arguments", "")
            built["finish"] = choice["finish_reason"] or built["finish"]
            built["logprobs"] += (choice.get("logprobs") or {}).get("content") or []
    return choices


@settings(max_examples=100, deadline=None)
@given(texts=conversations, n=st.integers(1, 4), use_tools=st.booleans(), want_logprobs=st.booleans(),
       max_tokens=st.integers(1, 60))
def test_stream_rebuilds_the_plain_reply_and_usage_adds_up(texts: list[str], n: int, use_tools: bool,
                                                           want_logprobs: bool, max_tokens: int) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
              "required": ["city"]}
    extra: dict[str, Any] = {"n": n, "max_tokens": max_tokens, "logprobs": want_logprobs}
    if not use_tools:
        extra["tool_choice"] = "none"
    plain = request(schema, False, texts, **extra)
    streamed = request(schema, False, texts, stream=True, **extra)
    body = chat.completion(plain, chat.run(Runtime.from_settings(make_settings()), plain), "chatcmpl-a", 0)
    items = chat.chunks(streamed, chat.run(Runtime.from_settings(make_settings()), streamed), "chatcmpl-b", 0)
    for built, choice in zip(rebuild(items, n), body["choices"], strict=True):
        message = choice["message"]
        assert built["content"] == (message["content"] or "")
        calls = [{"id": c["id"], "name": c["function"]["name"], "arguments": c["function"]["arguments"]}
                 for c in message.get("tool_calls", [])]
        assert [built["calls"][i] for i in sorted(built["calls"])] == calls
        assert built["finish"] == choice["finish_reason"]
        if want_logprobs and message["content"]:
            assert built["logprobs"] == choice["logprobs"]["content"]
    completion = sum(tokens.count_tokens(c["message"]["content"] or "") + tokens.count_all(
        f"{t['function']['name']} {t['function']['arguments']}" for t in c["message"].get("tool_calls", []))
        for c in body["choices"])
    usage = body["usage"]
    assert usage["completion_tokens"] == completion
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["prompt_tokens"] == tokens.count_all(texts) + tokens.count_all(plain.tools.definitions_text())
