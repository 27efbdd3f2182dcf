"""Chat and Responses request validation: every bad parameter is a 400 naming it."""

from __future__ import annotations

import pytest

from mockserver.core.errors import DomainError
from mockserver.skytells.catalog import Catalog
from mockserver.skytells.inference import chat, response_input, responses
from tests.domain_answers import inference_answer

CATALOG = Catalog.load()
MESSAGES = [{"role": "user", "content": "hi"}]


def chat_body(**changes: object) -> dict:
    return {"model": "gpt-5", "messages": MESSAGES, **changes}


def test_defaults_follow_the_catalog() -> None:
    request = chat.parse(chat_body(), CATALOG)
    assert (request.max_tokens, request.temperature, request.top_p) == (8192, 0.7, 0.95)
    assert (request.frequency_penalty, request.presence_penalty, request.stop, request.stream) == (0.0, 0.0, (), False)


def test_accepted_forms() -> None:
    request = chat.parse(chat_body(stop="END", max_completion_tokens=7, temperature=0, top_p=1,
                                  frequency_penalty=-2, presence_penalty=2, stream=True,
                                  stream_options={"include_usage": True},
                                  messages=[{"role": "developer", "content": "be brief"},
                                            {"role": "user", "content": [{"type": "text", "text": "hi"}]},
                                            {"role": "assistant", "content": None}]), CATALOG)
    assert request.stop == ("END",) and request.max_tokens == 7 and request.include_usage
    assert [m.role for m in request.messages] == ["system", "user", "assistant"]
    assert chat.parse(chat_body(stop=["a", "b", "c", "d"]), CATALOG).stop == ("a", "b", "c", "d")


@pytest.mark.parametrize(("changes", "param"), [
    ({"temperature": 2.5}, "temperature"),
    ({"temperature": -0.1}, "temperature"),
    ({"temperature": "hot"}, "temperature"),
    ({"top_p": 1.5}, "top_p"),
    ({"frequency_penalty": -3}, "frequency_penalty"),
    ({"presence_penalty": 2.01}, "presence_penalty"),
    ({"max_tokens": 0}, "max_tokens"),
    ({"max_tokens": 1.5}, "max_tokens"),
    ({"max_tokens": True}, "max_tokens"),
    ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
    ({"stop": 5}, "stop"),
    ({"stop": [""]}, "stop"),
    ({"stream": "yes"}, "stream"),
    ({"stream_options": {"include_usage": True}}, "stream_options"),
    ({"n": 129}, "n"),
    ({"n": 0}, "n"),
    ({"top_logprobs": 3}, "top_logprobs"),
    ({"logprobs": True, "top_logprobs": 21}, "top_logprobs"),
    ({"tools": [{"type": "web_search"}]}, "tools[0].type"),
    ({"tools": [{"type": "function", "function": {"name": "a b"}}]}, "tools[0].function.name"),
    ({"tool_choice": "required"}, "tool_choice"),
    ({"response_format": {"type": "xml"}}, "response_format"),
    ({"response_format": {"type": "json_schema", "json_schema": {"name": "x"}}},
     "response_format.json_schema.schema"),
    ({"audio": {"voice": "alloy"}}, "audio"),
    ({"frobnicate": 1}, "frobnicate"),
    ({"seed": "x"}, "seed"),
    ({"metadata": {"a": 1}}, "metadata.a"),
    ({"logit_bias": {"1": 500}}, "logit_bias.1"),
    ({"service_tier": "gold"}, "service_tier"),
    ({"messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}]},
     "messages[0].content[0]"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "ftp://x"}}]}]},
     "messages[0].content[0].image_url.url"),
    ({"messages": []}, "messages"),
    ({"messages": [{"role": "tool", "content": "x"}]}, "messages[0].tool_call_id"),
    ({"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
    ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, "messages[0].content[0].image_url"),
    ({"model": None}, "model"),
    ({"model": 5}, "model"),
])
def test_bad_chat_parameters(changes: dict, param: str) -> None:
    body = {key: value for key, value in chat_body(**changes).items() if value is not None}
    with pytest.raises(DomainError) as caught:
        chat.parse(body, CATALOG)
    assert inference_answer(caught.value).status == 400 and inference_answer(caught.value).param == param


def test_models_follow_the_catalog_endpoints() -> None:
    with pytest.raises(DomainError) as responses_only:
        chat.parse(chat_body(model="gpt-5.3-codex"), CATALOG)
    answer = inference_answer(responses_only.value)
    assert answer.status == 400 and "POST /v1/responses" in answer.message
    assert (answer.code, answer.details) == ("unsupported_endpoint", {"endpoints": ["/v1/responses"]})
    with pytest.raises(DomainError) as media:
        chat.parse(chat_body(model="truefusion-pro"), CATALOG)
    assert "POST /v1/predictions" in inference_answer(media.value).message
    with pytest.raises(DomainError) as unknown:
        chat.parse(chat_body(model="gpt-9"), CATALOG)
    answer = inference_answer(unknown.value)
    assert (answer.status, answer.error_id, answer.param) == (404, "MODEL_NOT_FOUND", "model")
    assert responses.parse({"model": "gpt-5.3-codex", "input": "hi"}, CATALOG).model.namespace == "gpt-5.3-codex"


@pytest.mark.parametrize(("changes", "param"), [
    ({"input": None}, "input"),
    ({"input": 5}, "input"),
    ({"input": [{"type": "function_call_output", "output": "x"}]}, "input[0].call_id"),
    ({"input": [{"type": "web_search_call"}]}, "input[0].type"),
    ({"tools": [{"type": "file_search"}]}, "tools[0].type"),
    ({"text": {"format": {"type": "json_schema", "schema": {}}}}, "text.format.name"),
    ({"background": True}, "background"),
    ({"conversation": False}, "conversation"),
    ({"truncation": "maybe"}, "truncation"),
    ({"max_tool_calls": 0}, "max_tool_calls"),
    ({"max_output_tokens": 0}, "max_output_tokens"),
    ({"temperature": 3}, "temperature"),
    ({"top_p": -1}, "top_p"),
    ({"instructions": 7}, "instructions"),
    ({"previous_response_id": 7}, "previous_response_id"),
    ({"metadata": {"a": 1}}, "metadata"),
])
def test_bad_responses_parameters(changes: dict, param: str) -> None:
    body = {key: value for key, value in {"model": "gpt-5", "input": "hi", **changes}.items() if value is not None}
    with pytest.raises(DomainError) as caught:
        responses.parse(body, CATALOG)
    assert inference_answer(caught.value).status == 400 and inference_answer(caught.value).param == param


def test_responses_input_forms() -> None:
    request = responses.parse({"model": "gpt-5", "input": [
        {"role": "user", "content": "a"},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "b"}]},
        {"role": "user", "content": [{"type": "input_text", "text": "c"}]},
    ]}, CATALOG)
    turns = response_input.conversation(list(request.input), lambda ref: {})
    assert [(m.role, m.content) for m in turns] == [("user", "a"), ("assistant", "b"), ("user", "c")]

