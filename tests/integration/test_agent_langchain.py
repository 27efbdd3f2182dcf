"""``langchain-openai`` pointed at the mock as its docs show for any OpenAI-compatible endpoint.

``ChatOpenAI(base_url=..., api_key=...)`` (invoke, stream, ``bind_tools`` and a manual tool loop, every
``with_structured_output`` method, the Responses API). ``OpenAIEmbeddings`` (token ids by default, text with
``check_embedding_ctx_length=False``) is covered in ``test_embedding_token_ids.py``.
"""

from __future__ import annotations

import json
from typing import Literal

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_openai import ChatOpenAI
from openai import OpenAI
from pydantic import BaseModel

from tests.agent_support import (
    CALL_ID,
    MODEL,
    WEATHER_QUESTION,
    _dump_journal,  # noqa: F401 -- autouse fixture
    assert_valid,
    requests_to,
    run_tool,
)
from tests.conftest import KEY


@tool
def get_weather(city: str, unit: Literal["celsius", "fahrenheit"]) -> str:
    """Forecast lookup."""
    return run_tool("get_weather", {"city": city, "unit": unit})


@tool
def get_time(timezone: str) -> str:
    """Clock lookup."""
    return run_tool("get_time", {"timezone": timezone})


TOOLS = {"get_weather": get_weather, "get_time": get_time}


class CalendarEvent(BaseModel):
    """An event on the calendar."""

    name: str
    date: str
    participants: list[str]


EVENT_PROMPT = "Alice and Bob are going to a science fair on Friday. Extract the event as JSON."


@pytest.fixture
def llm(skytells_url: str) -> ChatOpenAI:
    return ChatOpenAI(model=MODEL, base_url=skytells_url, api_key=KEY, max_retries=0)


def tool_schema(name: str) -> dict:
    return convert_to_openai_tool(TOOLS[name])["function"]["parameters"]


def assert_tool_call(call: dict, expected_name: str | None = None) -> None:
    assert call["name"] in TOOLS and (expected_name is None or call["name"] == expected_name)
    assert_valid(call["args"], tool_schema(call["name"]))
    assert CALL_ID.match(call["id"]) and call["type"] == "tool_call"


def test_invoke_and_stream_agree(llm: ChatOpenAI, skytells_url: str) -> None:
    messages = [SystemMessage("You are helpful."), HumanMessage("What is machine learning?")]
    answer = llm.invoke(messages)
    assert isinstance(answer, AIMessage) and answer.content and answer.response_metadata["finish_reason"] == "stop"
    sdk = OpenAI(api_key=KEY, base_url=skytells_url).chat.completions.create(model=MODEL, messages=[
        {"role": "system", "content": "You are helpful."}, {"role": "user", "content": "What is machine learning?"}])
    assert answer.content == sdk.choices[0].message.content
    assert answer.usage_metadata["input_tokens"] == sdk.usage.prompt_tokens
    assert answer.usage_metadata["output_tokens"] == sdk.usage.completion_tokens
    chunks = list(llm.stream(messages))
    assert len(chunks) > 2
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk
    assert merged.content == answer.content


def test_bind_tools_parses_tool_calls(llm: ChatOpenAI) -> None:
    ai = llm.bind_tools([get_weather, get_time]).invoke(WEATHER_QUESTION)
    assert ai.content == "" and ai.response_metadata["finish_reason"] == "tool_calls"
    [call] = ai.tool_calls
    assert_tool_call(call, "get_weather")
    assert ai.invalid_tool_calls == []
    forced = llm.bind_tools([get_weather, get_time], tool_choice="get_time").invoke(WEATHER_QUESTION)
    assert [c["name"] for c in forced.tool_calls] == ["get_time"]
    assert_tool_call(forced.tool_calls[0], "get_time")
    anything = llm.bind_tools([get_weather, get_time], tool_choice="any").invoke("Tell me a story.")
    assert anything.tool_calls
    for call in anything.tool_calls:
        assert_tool_call(call)


def test_streamed_tool_calls_merge_into_the_same_call(llm: ChatOpenAI) -> None:
    bound = llm.bind_tools([get_weather, get_time])
    plain = bound.invoke(WEATHER_QUESTION)
    chunks = list(bound.stream(WEATHER_QUESTION))
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk
    assert [(c["name"], c["args"]) for c in merged.tool_calls] == [(c["name"], c["args"]) for c in plain.tool_calls]
    assert merged.tool_calls and all(CALL_ID.match(c["id"]) for c in merged.tool_calls)


def test_manual_tool_loop_with_tool_messages(llm: ChatOpenAI, skytells_url: str) -> None:
    bound = llm.bind_tools([get_weather, get_time])
    messages: list = [HumanMessage(WEATHER_QUESTION)]
    ai = bound.invoke(messages)
    messages.append(ai)
    outputs = []
    for call in ai.tool_calls:
        result = TOOLS[call["name"]].invoke(call)  # a ToolMessage, as the LangChain docs show
        assert isinstance(result, ToolMessage) and result.tool_call_id == call["id"]
        outputs.append(result.content)
        messages.append(result)
    final = bound.invoke(messages)
    assert final.tool_calls == [] and final.response_metadata["finish_reason"] == "stop"
    assert outputs and all(output in final.content for output in outputs)
    sent = requests_to(skytells_url, "/v1/chat/completions")[-1]["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "tool"]
    assert sent[1]["content"] is None and sent[1]["tool_calls"][0]["id"] == ai.tool_calls[0]["id"]


@pytest.mark.parametrize("method", [None, "json_schema", "function_calling"])
def test_with_structured_output_pydantic(llm: ChatOpenAI, method: str | None, skytells_url: str) -> None:
    options = {} if method is None else {"method": method}
    structured = llm.with_structured_output(CalendarEvent, include_raw=True, **options)
    result = structured.invoke(EVENT_PROMPT)
    assert result["parsing_error"] is None
    event = result["parsed"]
    assert isinstance(event, CalendarEvent)
    raw = result["raw"]
    if method == "function_calling":
        [call] = raw.tool_calls
        assert call["name"] == "CalendarEvent" and CalendarEvent(**call["args"]) == event
        assert_valid(call["args"], convert_to_openai_tool(CalendarEvent)["function"]["parameters"])
    else:
        sent = requests_to(skytells_url, "/v1/chat/completions")[-1]["response_format"]
        assert sent["type"] == "json_schema" and sent["json_schema"]["name"] == "CalendarEvent"
        assert assert_valid(raw.content, sent["json_schema"]["schema"]) == event.model_dump()


def test_with_structured_output_json_mode(llm: ChatOpenAI, runtime) -> None:
    """json_mode asks for *a* JSON object: a dict schema gets whatever object the mock writes; a Pydantic schema
    parses only when the object fits, which a test can script with a ``{"json": ...}`` outcome."""
    loose = llm.with_structured_output(None, method="json_mode", include_raw=True).invoke(EVENT_PROMPT)
    assert loose["parsing_error"] is None and isinstance(loose["parsed"], dict)
    assert loose["parsed"] == json.loads(loose["raw"].content)
    event = {"name": "Science fair", "date": "Friday", "participants": ["Alice", "Bob"]}
    runtime.rules.add({"match": {"route": "/v1/chat/*"}, "outcome": {"json": event}, "times": 1})
    parsed = llm.with_structured_output(CalendarEvent, method="json_mode").invoke(EVENT_PROMPT)
    assert parsed == CalendarEvent(**event)


def test_responses_api_tool_loop(skytells_url: str) -> None:
    llm = ChatOpenAI(model=MODEL, base_url=skytells_url, api_key=KEY, max_retries=0, use_responses_api=True)
    bound = llm.bind_tools([get_weather, get_time])
    messages: list = [HumanMessage(WEATHER_QUESTION)]
    ai = bound.invoke(messages)
    [call] = ai.tool_calls
    assert_tool_call(call, "get_weather")
    messages += [ai, get_weather.invoke(call)]
    final = bound.invoke(messages)
    assert final.tool_calls == []
    assert run_tool("get_weather", call["args"]) in final.text
    sent = requests_to(skytells_url, "/v1/responses")
    assert len(sent) == 2 and [t["name"] for t in sent[0]["tools"]] == ["get_weather", "get_time"]
    assert {"function_call", "function_call_output"} <= {i.get("type") for i in sent[1]["input"]}
    plain = llm.invoke("What is machine learning?")
    assert plain.text and plain.tool_calls == []

