"""``litellm`` pointed at the mock the way its docs use any OpenAI-compatible server: ``model="openai/<name>"``
with ``api_base`` and ``api_key``.

``import litellm`` fetches a model price map from GitHub unless ``LITELLM_LOCAL_MODEL_COST_MAP=True`` (offline it
retries with back-off, then falls back to the bundled copy): the variable is set before the import.
"""

from __future__ import annotations

import json
import os
from typing import Any, Literal

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm  # after the environment variable above
import numpy as np
import pytest
from openai import OpenAI
from pydantic import BaseModel

from tests.agent_support import (
    CHAT_TOOLS,
    MODEL,
    RESPONSES_TOOLS,
    WEATHER_QUESTION,
    _dump_journal,  # noqa: F401 -- autouse fixture
    assert_call,
    assert_valid,
    requests_to,
    run_tool,
)
from tests.conftest import KEY

#: litellm's own pydantic models warn about ``ReadOnly`` TypedDict items when first built.
pytestmark = pytest.mark.filterwarnings("ignore:.*ReadOnly. qualifier:UserWarning")

MESSAGES = [{"role": "system", "content": "You are helpful."}, {"role": "user", "content": "What is machine learning?"}]


class CalendarEvent(BaseModel):
    name: str
    date: str
    participants: list[str]
    priority: Literal["low", "normal", "high"]


@pytest.fixture
def route(skytells_url: str) -> dict[str, Any]:
    """The keyword arguments that send a litellm call to the mock (no retries: nothing may sleep)."""
    return {"api_base": skytells_url, "api_key": KEY, "num_retries": 0, "max_retries": 0}


@pytest.fixture
def sdk(skytells_url: str) -> OpenAI:
    return OpenAI(api_key=KEY, base_url=skytells_url, max_retries=0)


def test_completion_plain_equals_the_sdk(route: dict[str, Any], sdk: OpenAI) -> None:
    response = litellm.completion(model=f"openai/{MODEL}", messages=MESSAGES, **route)
    expected = sdk.chat.completions.create(model=MODEL, messages=MESSAGES)
    assert response.choices[0].message.content == expected.choices[0].message.content
    assert response.choices[0].finish_reason == "stop"
    assert response.usage.prompt_tokens == expected.usage.prompt_tokens
    assert response.usage.completion_tokens == expected.usage.completion_tokens


def test_completion_stream_reassembles(route: dict[str, Any], sdk: OpenAI) -> None:
    expected = sdk.chat.completions.create(model=MODEL, messages=MESSAGES).choices[0].message.content
    chunks = list(litellm.completion(model=f"openai/{MODEL}", messages=MESSAGES, stream=True, **route))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == expected
    rebuilt = litellm.stream_chunk_builder(chunks, messages=MESSAGES)
    assert rebuilt.choices[0].message.content == expected and rebuilt.choices[0].finish_reason == "stop"


def test_tools_and_the_agent_loop(route: dict[str, Any], skytells_url: str) -> None:
    messages: list[Any] = [{"role": "user", "content": WEATHER_QUESTION}]
    first = litellm.completion(model=f"openai/{MODEL}", messages=messages, tools=CHAT_TOOLS, tool_choice="auto",
                               **route)
    assert first.choices[0].finish_reason == "tool_calls"
    message = first.choices[0].message
    [call] = message.tool_calls
    assert_call(call.function.name, call.function.arguments, call.id, "get_weather")
    output = run_tool(call.function.name, call.function.arguments)
    messages += [message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": call.id, "content": output}]
    final = litellm.completion(model=f"openai/{MODEL}", messages=messages, tools=CHAT_TOOLS, **route)
    assert final.choices[0].finish_reason == "stop" and output in final.choices[0].message.content
    sent = requests_to(skytells_url, "/v1/chat/completions")[-1]
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "tool"]


def test_streamed_tool_calls_rebuild(route: dict[str, Any]) -> None:
    request = {"model": f"openai/{MODEL}", "messages": [{"role": "user", "content": WEATHER_QUESTION}],
               "tools": CHAT_TOOLS, **route}
    plain = litellm.completion(**request).choices[0].message.tool_calls
    chunks = list(litellm.completion(**request, stream=True))
    rebuilt = litellm.stream_chunk_builder(chunks, messages=request["messages"])
    calls = rebuilt.choices[0].message.tool_calls
    assert [(c.function.name, c.function.arguments) for c in calls] == [
        (c.function.name, c.function.arguments) for c in plain]
    assert rebuilt.choices[0].finish_reason == "tool_calls"


def test_response_format_pydantic_and_json_schema(route: dict[str, Any], skytells_url: str) -> None:
    prompt = [{"role": "user", "content": "Alice and Bob are going to a science fair on Friday."}]
    response = litellm.completion(model=f"openai/{MODEL}", messages=prompt, response_format=CalendarEvent, **route)
    event = CalendarEvent.model_validate_json(response.choices[0].message.content)
    sent = requests_to(skytells_url, "/v1/chat/completions")[-1]["response_format"]
    assert sent["type"] == "json_schema"
    assert assert_valid(response.choices[0].message.content, sent["json_schema"]["schema"]) == event.model_dump()
    schema = {"type": "object", "properties": {"colour": {"type": "string", "enum": ["red", "green", "blue"]},
                                               "count": {"type": "integer", "minimum": 1, "maximum": 9}},
              "required": ["colour", "count"], "additionalProperties": False}
    by_hand = litellm.completion(
        model=f"openai/{MODEL}", messages=prompt, **route,
        response_format={"type": "json_schema", "json_schema": {"name": "pick", "schema": schema, "strict": True}})
    assert_valid(by_hand.choices[0].message.content, schema)
    as_object = litellm.completion(model=f"openai/{MODEL}", messages=prompt, response_format={"type": "json_object"},
                                   **route)
    assert isinstance(json.loads(as_object.choices[0].message.content), dict)


def test_embedding_equals_the_sdk(route: dict[str, Any], sdk: OpenAI) -> None:
    texts = ["A photorealistic mountain lake at sunrise", "A red fox"]
    response = litellm.embedding(model=f"openai/{MODEL}", input=texts, **route)
    vectors = np.array([item["embedding"] for item in response.data])
    expected = sdk.embeddings.create(model=MODEL, input=texts, encoding_format="float")
    np.testing.assert_allclose(vectors, [d.embedding for d in expected.data], atol=1e-6)
    assert response.usage.prompt_tokens == expected.usage.prompt_tokens


def test_responses_with_tools_and_continuation(route: dict[str, Any], sdk: OpenAI) -> None:
    plain = litellm.responses(model=f"openai/{MODEL}", input="Write a haiku", **route)
    assert plain.output_text == sdk.responses.create(model=MODEL, input="Write a haiku").output_text
    first = litellm.responses(model=f"openai/{MODEL}", input=WEATHER_QUESTION, tools=RESPONSES_TOOLS, **route)
    [call] = [item for item in first.output if item.type == "function_call"]
    assert_call(call.name, call.arguments, call.call_id, "get_weather")
    output = run_tool(call.name, call.arguments)
    second = litellm.responses(model=f"openai/{MODEL}", previous_response_id=first.id, tools=RESPONSES_TOOLS,
                               input=[{"type": "function_call_output", "call_id": call.call_id, "output": output}],
                               **route)
    assert output in second.output_text
