"""Tool calling, structured outputs, n, logprobs and vision parts of the Inference API (plain functions)."""

from __future__ import annotations

import json

import jsonschema
import pytest

from mockserver.core.errors import DomainError
from mockserver.core.randomness import Randomness
from mockserver.core.rules.model import ScriptedCall, Turn
from mockserver.core.runtime import Runtime
from mockserver.skytells.catalog import Catalog
from mockserver.skytells.inference import chat, response_input, response_views, responses, tokens, tools
from mockserver.skytells.inference.routes import page_query
from mockserver.skytells.inference.text import Message, ToolCall
from tests.conftest import KEY, make_settings
from tests.domain_answers import inference_answer

CATALOG = Catalog.load()
WEATHER = {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
           "required": ["city"]}
TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "Current weather of a city",
                                      "parameters": WEATHER}},
    {"type": "function", "function": {"name": "get_stock_price", "description": "Latest quote of a ticker",
                                      "parameters": {"type": "object", "properties": {"ticker": {"type": "string"}},
                                                     "required": ["ticker"], "additionalProperties": False},
                                      "strict": True}},
]


@pytest.fixture
def runtime() -> Runtime:
    return Runtime.from_settings(make_settings())


def ask(text: str, **changes: object) -> chat.ChatRequest:
    return chat.parse({"model": "gpt-5", "messages": [{"role": "user", "content": text}], "tools": TOOLS,
                       **changes}, CATALOG)


def names(generations: list) -> list[list[str]]:
    return [[call.name for call in g.tool_calls] for g in generations]


def test_auto_calls_the_tools_the_user_message_matches(runtime: Runtime) -> None:
    assert names(chat.run(runtime, ask("What is the weather in Paris?"))) == [["get_weather"]]
    both = chat.run(runtime, ask("Weather in Oslo and the stock price of ACME?"))
    assert names(both) == [["get_stock_price", "get_weather"]]  # best match first
    one = chat.run(runtime, ask("Weather in Oslo and the stock price of ACME?", parallel_tool_calls=False))
    assert names(one) == [["get_stock_price"]]


def test_arguments_are_valid_against_the_parameters(runtime: Runtime) -> None:
    [generation] = chat.run(runtime, ask("Weather in Oslo and the stock price of ACME?"))
    schemas = {tool["function"]["name"]: tool["function"]["parameters"] for tool in TOOLS}
    for call in generation.tool_calls:
        jsonschema.validate(json.loads(call.arguments), schemas[call.name])
        assert call.id.startswith("call_") and len(call.id) == 29
    assert generation.finish_reason == "tool_calls" and generation.content is None
    assert generation.completion_tokens == tokens.count_all(f"{c.name} {c.arguments}" for c in generation.tool_calls)


def test_choice_none_required_and_named(runtime: Runtime) -> None:
    assert names(chat.run(runtime, ask("Weather?", tool_choice="none"))) == [[]]
    unmatched = chat.run(runtime, ask("Tell me a joke", tool_choice="required"))
    assert len(unmatched[0].tool_calls) == 1  # nothing matches: one tool, picked by the seed
    named = {"type": "function", "function": {"name": "get_stock_price"}}
    assert names(chat.run(runtime, ask("Weather in Paris?", tool_choice=named))) == [["get_stock_price"]]
    with pytest.raises(DomainError) as unknown:
        ask("hi", tool_choice={"type": "function", "function": {"name": "nope"}})
    assert inference_answer(unknown.value).param == "tool_choice"


def test_after_a_tool_result_auto_answers_quoting_it(runtime: Runtime) -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'}}
    request = chat.parse({"model": "gpt-5", "tools": TOOLS, "messages": [
        {"role": "user", "content": "Weather in Oslo?"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": "12 C and raining"}]}, CATALOG)
    [answer] = chat.run(runtime, request)
    assert answer.finish_reason == "stop" and not answer.tool_calls
    assert answer.text.startswith("Based on the tool results: get_weather returned 12 C and raining.")
    counted = tokens.count_all(["Weather in Oslo?", ' get_weather {"city":"Oslo"}', "12 C and raining"])
    definitions = tokens.count_all(tools.parse({"tools": TOOLS}, nested=True).definitions_text())
    assert answer.prompt_tokens == counted + definitions


def test_same_conversation_same_calls_and_other_seed_other_arguments(runtime: Runtime) -> None:
    first = chat.run(runtime, ask("Stock price of ACME?"))[0].tool_calls
    again = chat.run(Runtime.from_settings(make_settings()), ask("Stock price of ACME?"))[0].tool_calls
    other = chat.run(Runtime.from_settings(make_settings(seed=99)), ask("Stock price of ACME?"))[0].tool_calls
    assert [c.arguments for c in first] == [c.arguments for c in again]
    assert [c.id for c in first] == [c.id for c in again]
    assert [c.id for c in first] != [c.id for c in other]


def test_streamed_tool_calls_reassemble_to_the_plain_reply(runtime: Runtime) -> None:
    request = ask("Weather in Oslo and the stock price of ACME?", stream=True)
    generations = chat.run(runtime, request)
    rebuilt: dict[int, dict[str, str]] = {}
    for data, _ in chat.chunks(request, generations, "chatcmpl-x", 0):
        for call in data["choices"][0]["delta"].get("tool_calls", []) if data["choices"] else []:
            entry = rebuilt.setdefault(call["index"], {"id": "", "name": "", "arguments": ""})
            entry["id"] += call.get("id", "")
            entry["name"] += call.get("function", {}).get("name", "")
            entry["arguments"] += call["function"]["arguments"]
    expected = [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in generations[0].tool_calls]
    assert [rebuilt[i] for i in sorted(rebuilt)] == expected


def test_structured_outputs_follow_the_schema(runtime: Runtime) -> None:
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "size": {"type": "integer"}},
              "required": ["name", "size"], "additionalProperties": False}
    fmt = {"type": "json_schema", "json_schema": {"name": "city", "schema": schema, "strict": True}}
    [generation] = chat.run(runtime, chat.parse({"model": "gpt-5", "response_format": fmt,
                                                  "messages": [{"role": "user", "content": "A city"}]}, CATALOG))
    jsonschema.validate(json.loads(generation.text), schema)
    [plain] = chat.run(runtime, chat.parse({"model": "gpt-5", "response_format": {"type": "json_object"},
                                            "messages": [{"role": "user", "content": "A city"}]}, CATALOG))
    assert isinstance(json.loads(plain.text), dict)


def test_a_flagged_prompt_with_a_format_is_a_refusal(runtime: Runtime) -> None:
    runtime = Runtime.from_settings(make_settings(safety_terms=("gore",)))
    request = chat.parse({"model": "gpt-5", "response_format": {"type": "json_object"},
                          "messages": [{"role": "user", "content": "gore please"}]}, CATALOG)
    [generation] = chat.run(runtime, request)
    body = chat.completion(request, [generation], "chatcmpl-x", 0)
    message = body["choices"][0]["message"]
    assert message["content"] is None and message["refusal"] and body["choices"][0]["finish_reason"] == "stop"


def test_n_choices_are_distinct_and_usage_sums_them(runtime: Runtime) -> None:
    request = chat.parse({"model": "gpt-5", "n": 3, "messages": [{"role": "user", "content": "Hi"}]}, CATALOG)
    generations = chat.run(runtime, request)
    body = chat.completion(request, generations, "chatcmpl-x", 0)
    texts = [choice["message"]["content"] for choice in body["choices"]]
    assert len(set(texts)) == 3 and [c["index"] for c in body["choices"]] == [0, 1, 2]
    assert body["usage"]["completion_tokens"] == sum(tokens.count_tokens(t) for t in texts)
    assert chat.billed_tokens(generations) == (body["usage"]["prompt_tokens"], body["usage"]["completion_tokens"])


def test_logprob_tokens_concatenate_to_the_content(runtime: Runtime) -> None:
    request = chat.parse({"model": "gpt-5", "logprobs": True, "top_logprobs": 3,
                          "messages": [{"role": "user", "content": "Hi"}]}, CATALOG)
    body = chat.completion(request, chat.run(runtime, request), "chatcmpl-x", 0)
    entries = body["choices"][0]["logprobs"]["content"]
    assert "".join(e["token"] for e in entries) == body["choices"][0]["message"]["content"]
    for entry in entries:
        assert entry["logprob"] <= 0 and bytes(entry["bytes"]).decode() == entry["token"]
        tops = entry["top_logprobs"]
        assert len(tops) == 3 and tops[0]["token"] == entry["token"]
        assert [t["logprob"] for t in tops] == sorted((t["logprob"] for t in tops), reverse=True)


def test_images_count_as_tokens_and_are_not_fetched(runtime: Runtime) -> None:
    parts = [{"type": "text", "text": "What is this?"},
             {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "low"}},
             {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]
    request = chat.parse({"model": "gpt-5", "messages": [{"role": "user", "content": parts}]}, CATALOG)
    [generation] = chat.run(runtime, request)
    assert generation.prompt_tokens == tokens.count_tokens("What is this?") + 85 + 765


def test_scripted_calls_and_json_replace_the_turn(runtime: Runtime) -> None:
    calls = Turn(tool_calls=(ScriptedCall("get_weather", '{"city": "Paris"}'),))
    [generation] = chat.run(runtime, ask("anything"), calls)
    assert [(c.name, json.loads(c.arguments)) for c in generation.tool_calls] == [("get_weather", {"city": "Paris"})]
    [answer] = chat.run(runtime, ask("anything"), Turn(json='{"ok": true}'))
    assert answer.content == '{"ok": true}' and answer.finish_reason == "stop"


def test_responses_function_calls_continue_with_outputs(runtime: Runtime) -> None:
    store = responses.Responses(runtime)
    spec = [{"type": "function", "name": "get_weather", "parameters": WEATHER}]
    first, generation = store.create(KEY, responses.parse({"model": "gpt-5", "input": "Weather in Rome?",
                                                           "tools": spec}, CATALOG))
    store.save(first)
    [item] = response_views.view(first)["output"]
    assert item["type"] == "function_call" and item["call_id"] == generation.tool_calls[0].id
    follow = responses.parse({"model": "gpt-5", "previous_response_id": first["id"], "tools": spec, "input": [
        {"type": "function_call_output", "call_id": item["call_id"], "output": "25 C"}]}, CATALOG)
    second, _ = store.create(KEY, follow)
    assert second["output_text"].startswith("Based on the tool results: get_weather returned 25 C.")
    events = [data["type"] for data, _ in response_views.events(first, generation)]
    assert events[2:4] == ["response.output_item.added", "response.function_call_arguments.delta"]
    assert events[-3:] == ["response.function_call_arguments.done", "response.output_item.done",
                           "response.completed"]


def test_function_call_items_join_into_one_assistant_turn() -> None:
    items = response_input.parse_items([
        {"role": "user", "content": "x"},
        {"type": "function_call", "call_id": "c1", "name": "a", "arguments": "{}"},
        {"type": "function_call", "call_id": "c2", "name": "b", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": "1"}])
    turns = response_input.conversation(items, lambda ref: {})
    assert [m.role for m in turns] == ["user", "assistant", "tool"]
    assert turns[1].tool_calls == (ToolCall("c1", "a", "{}"), ToolCall("c2", "b", "{}"))


def test_input_items_are_paged() -> None:
    record = {"input_items": [{"id": f"msg_{i}", "type": "message"} for i in range(5)]}
    page = response_views.input_items(record, page_query({"limit": "2"}))
    assert [i["id"] for i in page["data"]] == ["msg_4", "msg_3"] and page["has_more"]
    rest = response_views.input_items(record, page_query({"limit": "10", "after": "msg_3"}))
    assert [i["id"] for i in rest["data"]] == ["msg_2", "msg_1", "msg_0"] and not rest["has_more"]
    ascending = response_views.input_items(record, response_views.Page(order="asc", before="msg_2"))
    assert [i["id"] for i in ascending["data"]] == ["msg_0", "msg_1"]
    with pytest.raises(DomainError) as bad:
        page_query({"limit": "101"})
    assert inference_answer(bad.value).param == "limit"
    with pytest.raises(DomainError) as unknown:
        response_views.input_items(record, response_views.Page(after="msg_9"))
    assert inference_answer(unknown.value).param == "after"


def test_tool_matching_words() -> None:
    asked = tools.words("What's the weather like in Paris?")
    weather = tools.Tool("get_weather", "Current weather of a city")
    assert tools.score(weather, asked) == 3
    assert tools.score(tools.Tool("getStockPrice"), tools.words("stock price")) == 4
    assert tools.chosen(tools.ToolUse((weather,), "auto"), [Message("assistant", "x")], Randomness(1), "m") == []

