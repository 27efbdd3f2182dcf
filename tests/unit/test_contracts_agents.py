"""The Skytells contract for agent turns (issue 11): OpenAI's shapes of tools, tool calls, structured outputs,
``n``, logprobs, vision parts, Responses function calls and input items are accepted, and what breaks them is
reported field by field."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from mockserver.spec import validate_request, validate_response, validate_schema

JSON = {"content-type": "application/json"}
SSE = {"content-type": "text/event-stream"}
KEY = {"authorization": "Bearer sk-1", **JSON}
CALL_ID = "call_" + "a1B2c3D4e5F6g7H8i9J0k1L2"
WEATHER = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
           "additionalProperties": False}
TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": WEATHER,
                                           "strict": True}}]


def chat_request(**extra: Any) -> dict[str, Any]:
    return {"model": "gpt-5", "messages": [{"role": "user", "content": "Weather in Paris?"}], **extra}


def request_problems(path: str, body: dict[str, Any]) -> list[str]:
    return validate_request("skytells", "POST", path, KEY, json.dumps(body))


AGENT_LOOP = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                 {"type": "image_url", "image_url": {"url": "https://example.com/a.png",
                                                                     "detail": "low"}},
                                 {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]},
    {"role": "assistant", "content": None,
     "tool_calls": [{"id": CALL_ID, "type": "function", "function": {"name": "get_weather",
                                                                     "arguments": "{\"city\": \"Paris\"}"}}]},
    {"role": "tool", "tool_call_id": CALL_ID, "content": "{\"temp\": 21}"},
    {"role": "tool", "tool_call_id": CALL_ID, "content": [{"type": "text", "text": "sunny"}]},
]


@pytest.mark.parametrize("extra", [
    {"tools": TOOLS, "tool_choice": "required", "parallel_tool_calls": False},
    {"tools": TOOLS, "tool_choice": {"type": "function", "function": {"name": "get_weather"}}},
    {"tools": TOOLS, "tool_choice": "auto", "messages": AGENT_LOOP},
    {"response_format": {"type": "json_object"}},
    {"response_format": {"type": "json_schema", "json_schema": {"name": "w", "schema": WEATHER, "strict": True}}},
    {"response_format": {"type": "text"}, "n": 128, "logprobs": True, "top_logprobs": 20},
], ids=["required", "named", "loop", "json_object", "json_schema", "n_logprobs"])
def test_openai_chat_requests_conform(extra: dict[str, Any]) -> None:
    assert request_problems("/v1/chat/completions", chat_request(**extra)) == []


@pytest.mark.parametrize(("extra", "needle"), [
    ({"n": 129}, "$.n"),
    ({"n": 0}, "$.n"),
    ({"top_logprobs": 3}, "'logprobs' is a required property"),
    ({"logprobs": True, "top_logprobs": 21}, "$.top_logprobs"),
    ({"tools": [{"type": "function", "function": {"name": "bad name!"}}]}, "$.tools[0].function.name"),
    ({"tools": [{"type": "code_interpreter"}]}, "$.tools[0]"),
    ({"tool_choice": "always"}, "$.tool_choice"),
    ({"response_format": {"type": "json_schema"}}, "json_schema"),
    ({"response_format": {"type": "yaml"}}, "$.response_format"),
    ({"messages": [{"role": "tool", "content": "21"}]}, "tool_call_id"),
    ({"messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}]}, "$.messages[0]"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "ftp://x/a.png"}}]}]},
     "$.messages[0].content"),
    ({"messages": [{"role": "system", "content": None}]}, "$.messages[0].content"),
    ({"tool_choice": "auto"}, "'tools' is a required property"),
    ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "string"}}}]},
     "$.tools[0].function.parameters.type"),
], ids=["n_high", "n_low", "top_without_logprobs", "top_high", "tool_name", "tool_type", "choice", "no_schema",
        "format_type", "tool_without_id", "audio_part", "ftp_image", "null_system", "choice_without_tools",
        "string_parameters"])
def test_chat_requests_outside_the_contract_are_reported(extra: dict[str, Any], needle: str) -> None:
    problems = request_problems("/v1/chat/completions", chat_request(**extra))
    assert any(needle in problem for problem in problems), problems


def completion(**message: Any) -> dict[str, Any]:
    finish = "tool_calls" if "tool_calls" in message else "stop"
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-5",
            "choices": [{"index": 0, "finish_reason": finish, "logprobs": None,
                         "message": {"role": "assistant", "content": None, "refusal": None, "annotations": [],
                                     **message}}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}}


TOOL_CALL = {"id": CALL_ID, "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"P\"}"}}


def chat_response_problems(body: dict[str, Any]) -> list[str]:
    return validate_response("skytells", "POST", "/v1/chat/completions", 200, JSON, json.dumps(body))


def test_tool_call_replies_n_choices_and_logprobs_conform() -> None:
    assert chat_response_problems(completion(tool_calls=[TOOL_CALL])) == []
    body = completion(content="Hi there")
    top = [{"token": " there", "logprob": -0.5, "bytes": [32, 116]}]
    body["choices"][0]["logprobs"] = {"content": [{"token": "Hi", "logprob": -0.1, "bytes": [72, 105],
                                                   "top_logprobs": []},
                                                  {"token": " there", "logprob": 0.0, "bytes": None,
                                                   "top_logprobs": top}], "refusal": None}
    body["choices"].append({**copy.deepcopy(body["choices"][0]), "index": 1})
    assert chat_response_problems(body) == []


@pytest.mark.parametrize(("edit", "needle"), [
    (lambda c: c["choices"][0]["message"].pop("tool_calls"), "'tool_calls' is a required property"),
    (lambda c: c["choices"][0]["message"]["tool_calls"][0]["function"].update(arguments="{city: P"),
     "is not a 'json'"),
    (lambda c: c["choices"][0]["message"]["tool_calls"][0].update(id="call_1"), "$.choices[0].message.tool_calls[0]"),
    (lambda c: c["choices"][0].update(logprobs={"content": [{"token": "x", "logprob": 0.5, "bytes": None,
                                                             "top_logprobs": []}]}), "$.choices[0].logprobs"),
    (lambda c: c["choices"][0].update(finish_reason="function_call"), "$.choices[0].finish_reason"),
], ids=["calls_missing", "arguments_not_json", "call_id", "positive_logprob", "finish_reason"])
def test_broken_tool_call_replies_are_reported(edit: Any, needle: str) -> None:
    body = completion(tool_calls=[copy.deepcopy(TOOL_CALL)])
    edit(body)
    problems = chat_response_problems(body)
    assert any(needle in problem for problem in problems), problems


def chunk(delta: dict[str, Any], finish: str | None = None, logprobs: Any = None) -> str:
    body = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-5",
            "choices": [{"index": 0, "delta": delta, "logprobs": logprobs, "finish_reason": finish}]}
    return "data: " + json.dumps(body) + "\n\n"


def test_streamed_tool_calls_and_logprobs_conform() -> None:
    first = {"index": 0, "id": CALL_ID, "type": "function", "function": {"name": "get_weather", "arguments": ""}}
    stream = (chunk({"role": "assistant", "content": None}) + chunk({"tool_calls": [first]})
              + chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\":"}}]})
              + chunk({}, "tool_calls") + "data: [DONE]\n\n")
    assert validate_response("skytells", "POST", "/v1/chat/completions", 200, SSE, stream) == []
    logprobs = {"content": [{"token": "Hi", "logprob": -0.2, "bytes": [72, 105], "top_logprobs": []}],
                "refusal": None}
    assert validate_response("skytells", "POST", "/v1/chat/completions", 200, SSE,
                             chunk({"content": "Hi"}, logprobs=logprobs) + "data: [DONE]\n\n") == []
    no_index = chunk({"tool_calls": [{"function": {"arguments": "{"}}]}) + "data: [DONE]\n\n"
    problems = validate_response("skytells", "POST", "/v1/chat/completions", 200, SSE, no_index)
    assert any("'index' is a required property" in p for p in problems), problems


FUNCTION_TOOL = {"type": "function", "name": "get_weather", "description": "Weather", "parameters": WEATHER,
                 "strict": True}


@pytest.mark.parametrize("extra", [
    {"input": "Weather?", "tools": [FUNCTION_TOOL], "tool_choice": {"type": "function", "name": "get_weather"},
     "parallel_tool_calls": False},
    {"input": [{"role": "user", "content": [{"type": "input_text", "text": "What is it?"},
                                            {"type": "input_image", "image_url": "https://example.com/a.png",
                                             "detail": "auto"}]},
               {"type": "function_call", "call_id": CALL_ID, "name": "get_weather", "arguments": "{}"},
               {"type": "function_call_output", "call_id": CALL_ID, "output": "21"}], "tools": [FUNCTION_TOOL]},
    {"input": [{"type": "function_call_output", "call_id": CALL_ID, "output": "21"}],
     "previous_response_id": "resp_1"},
    {"input": [{"type": "item_reference", "id": "msg_1"},
               {"role": "assistant", "content": [{"type": "refusal", "refusal": "No."}]}]},
    {"input": "Weather?", "text": {"format": {"type": "json_schema", "name": "w", "schema": WEATHER, "strict": True}}},
    {"input": "Weather?", "text": {"format": {"type": "json_object"}}},
], ids=["named", "items", "chained", "reference", "json_schema", "json_object"])
def test_openai_responses_requests_conform(extra: dict[str, Any]) -> None:
    assert request_problems("/v1/responses", {"model": "gpt-5", **extra}) == []


@pytest.mark.parametrize(("extra", "needle"), [
    ({"tools": [{"type": "web_search"}]}, "$.tools[0]"),
    ({"tool_choice": {"type": "function", "function": {"name": "get_weather"}}}, "$.tool_choice"),
    ({"text": {"format": {"type": "json_schema", "schema": WEATHER}}}, "'name' is a required property"),
    ({"input": [{"type": "function_call_output", "output": "21"}]}, "$.input"),
    ({"input": [{"type": "function_call", "call_id": "c", "name": "f", "arguments": "{x"}]}, "$.input"),
    ({"tool_choice": "required"}, "'tools' is a required property"),
], ids=["tool_type", "chat_style_choice", "format_name", "output_without_call_id", "arguments_not_json",
        "choice_without_tools"])
def test_responses_requests_outside_the_contract_are_reported(extra: dict[str, Any], needle: str) -> None:
    problems = request_problems("/v1/responses", {"model": "gpt-5", "input": "x", **extra})
    assert any(needle in problem for problem in problems), problems


def function_call(status: str = "completed", arguments: str = "{\"city\":\"Paris\"}") -> dict[str, Any]:
    return {"type": "function_call", "id": "fc_0a1b", "call_id": CALL_ID, "name": "get_weather",
            "arguments": arguments, "status": status}


def response(output: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": "resp_1", "object": "response", "created_at": 1, "model": "gpt-5", "status": "completed",
            "output": output, "output_text": "", "parallel_tool_calls": True, "tools": [FUNCTION_TOOL],
            "tool_choice": "required", "text": {"format": {"type": "text"}}}


def test_function_call_responses_conform_and_broken_ones_are_reported() -> None:
    check = lambda body: validate_schema("skytells", "Response", body)  # noqa: E731
    assert check(response([function_call()])) == []
    assert any("is not a 'json'" in p for p in check(response([function_call(arguments="{")])))
    assert any("$.output[0]" in p for p in check(response([{**function_call(), "call_id": "x"}])))
    assert any("$.text" in p for p in check({**response([]), "text": {}}))
    assert any("$.tools[0]" in p for p in check({**response([]), "tools": [{"type": "function"}]}))


def event(kind: str, **fields: Any) -> str:
    return f"event: {kind}\ndata: " + json.dumps({"type": kind, "sequence_number": 0, **fields}) + "\n\n"


def test_function_call_stream_events_conform() -> None:
    where = {"item_id": "fc_0a1b", "output_index": 0}
    stream = (event("response.output_item.added", output_index=0, item=function_call("in_progress", ""))
              + event("response.function_call_arguments.delta", **where, delta="{\"city\":")
              + event("response.function_call_arguments.done", **where, name="get_weather", arguments="{}")
              + event("response.output_item.done", output_index=0, item=function_call())
              + event("response.completed", response=response([function_call()])))
    assert validate_response("skytells", "POST", "/v1/responses", 200, SSE, stream) == []
    broken = event("response.function_call_arguments.done", **where, arguments="{") + event(
        "response.completed", response=response([]))
    problems = validate_response("skytells", "POST", "/v1/responses", 200, SSE, broken)
    assert any("'name' is a required property" in p for p in problems), problems
    assert any("is not a 'json'" in p for p in problems), problems


def test_input_item_lists_conform_and_404_is_the_inference_error() -> None:
    items = [{"id": "msg_1", "type": "message", "role": "user", "status": "completed",
              "content": [{"type": "input_text", "text": "Weather?"}]},
             {"id": "fc_1", **function_call()},
             {"id": "fco_1", "type": "function_call_output", "call_id": CALL_ID, "output": "21", "status": "completed"}]
    page = {"object": "list", "data": items, "first_id": "msg_1", "last_id": "fco_1", "has_more": False}
    path = "/v1/responses/resp_1/input_items"
    assert validate_response("skytells", "GET", path, 200, JSON, json.dumps(page)) == []
    empty = {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}
    assert validate_response("skytells", "GET", path, 200, JSON, json.dumps(empty)) == []
    no_id = {**page, "data": [{k: v for k, v in items[2].items() if k != "id"}]}
    assert any("'id' is a required property" in p
               for p in validate_response("skytells", "GET", path, 200, JSON, json.dumps(no_id)))
    error = {"error": {"message": "No response", "type": "not_found_error", "code": "RESPONSE_NOT_FOUND",
                       "error_id": "RESPONSE_NOT_FOUND", "status": 404}}
    assert validate_response("skytells", "GET", path, 404, JSON, json.dumps(error)) == []
    assert validate_request("skytells", "GET", path, KEY, query="limit=100&order=asc&after=msg_1") == []
    assert any("limit" in p for p in validate_request("skytells", "GET", path, KEY, query="limit=101"))
    assert any("order" in p for p in validate_request("skytells", "GET", path, KEY, query="order=up"))


def test_token_id_embedding_input_conforms() -> None:
    for value in ([1, 2, 3], [[1, 2], [3]]):
        assert request_problems("/v1/embeddings", {"model": "deepbrain-router", "input": value}) == []
    assert request_problems("/v1/embeddings", {"model": "deepbrain-router", "input": [[-1]]})


def test_responses_refusals_conform() -> None:
    refusal = {"type": "refusal", "refusal": "I can't help with that."}
    message = {"type": "message", "id": "msg_1", "status": "completed", "role": "assistant", "content": [refusal]}
    assert validate_schema("skytells", "Response", response([message])) == []
    where = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
    stream = (event("response.content_part.added", **where, part={"type": "refusal", "refusal": ""})
              + event("response.refusal.delta", **where, delta="I can't")
              + event("response.refusal.done", **where, refusal="I can't help with that.")
              + event("response.content_part.done", **where, part=refusal)
              + event("response.completed", response=response([message])))
    assert validate_response("skytells", "POST", "/v1/responses", 200, SSE, stream) == []
    broken = event("response.refusal.done", **where, text="x") + event("response.completed", response=response([]))
    problems = validate_response("skytells", "POST", "/v1/responses", 200, SSE, broken)
    assert any("'refusal' is a required property" in p for p in problems), problems
