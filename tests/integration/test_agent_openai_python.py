"""Agent features of the Inference API through the official ``openai`` Python SDK, used as its docs use it.

Tool calling (every ``tool_choice``, parallel calls, a full agent loop, streamed calls), structured outputs
(``parse`` helpers, ``json_object``), the Responses API with function tools, ``n``, ``logprobs`` and image parts.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from typing import Any, Literal

import openai
import pytest
from openai import OpenAI
from pydantic import BaseModel

from mockserver.skytells.inference import tokens
from tests.agent_support import (
    BOTH_QUESTION,
    CALL_ID,
    CHAT_TOOLS,
    MODEL,
    RESPONSES_TOOLS,
    SCHEMAS,
    UNRELATED_QUESTION,
    WEATHER_QUESTION,
    _dump_journal,  # noqa: F401 -- autouse fixture
    assert_call,
    assert_valid,
    run_tool,
)
from tests.conftest import KEY


@pytest.fixture
def client(skytells_url: str) -> OpenAI:
    return OpenAI(api_key=KEY, base_url=skytells_url, max_retries=0)


def ask(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


class CalendarEvent(BaseModel):
    name: str
    date: str
    participants: list[str]
    priority: Literal["low", "normal", "high"]


class GetWeather(BaseModel):
    """Forecast lookup."""

    city: str
    unit: Literal["celsius", "fahrenheit"]


# -- tool_choice ---------------------------------------------------------------------------------


def test_auto_calls_the_tool_the_question_names(client: OpenAI) -> None:
    completion = client.chat.completions.create(model=MODEL, messages=ask(WEATHER_QUESTION), tools=CHAT_TOOLS)
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    message = choice.message
    assert message.role == "assistant" and message.content is None and message.refusal is None
    [call] = message.tool_calls
    assert call.type == "function"
    assert_call(call.function.name, call.function.arguments, call.id, "get_weather")
    again = client.chat.completions.create(model=MODEL, messages=ask(WEATHER_QUESTION), tools=CHAT_TOOLS)
    assert again.choices[0].message.tool_calls[0].function.arguments == call.function.arguments  # seeded


def test_required_always_calls_even_when_nothing_matches(client: OpenAI) -> None:
    completion = client.chat.completions.create(model=MODEL, messages=ask(UNRELATED_QUESTION), tools=CHAT_TOOLS,
                                                tool_choice="required")
    assert completion.choices[0].finish_reason == "tool_calls"
    calls = completion.choices[0].message.tool_calls
    assert len(calls) >= 1
    for call in calls:
        assert_call(call.function.name, call.function.arguments, call.id)


def test_named_function_is_the_one_called(client: OpenAI) -> None:
    completion = client.chat.completions.create(
        model=MODEL, messages=ask(WEATHER_QUESTION), tools=CHAT_TOOLS,
        tool_choice={"type": "function", "function": {"name": "get_time"}})
    [call] = completion.choices[0].message.tool_calls
    assert_call(call.function.name, call.function.arguments, call.id, "get_time")


def test_none_answers_in_text(client: OpenAI) -> None:
    completion = client.chat.completions.create(model=MODEL, messages=ask(WEATHER_QUESTION), tools=CHAT_TOOLS,
                                                tool_choice="none")
    choice = completion.choices[0]
    assert choice.finish_reason == "stop" and not choice.message.tool_calls
    assert isinstance(choice.message.content, str) and choice.message.content


def test_unknown_named_function_is_a_400(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=MODEL, messages=ask(WEATHER_QUESTION), tools=CHAT_TOOLS,
                                       tool_choice={"type": "function", "function": {"name": "get_stock"}})
    assert caught.value.param == "tool_choice"


def test_tool_definitions_count_as_prompt_tokens(client: OpenAI) -> None:
    plain = client.chat.completions.create(model=MODEL, messages=ask(WEATHER_QUESTION))
    with_tools = client.chat.completions.create(model=MODEL, messages=ask(WEATHER_QUESTION), tools=CHAT_TOOLS)
    assert with_tools.usage.prompt_tokens > plain.usage.prompt_tokens
    arguments = with_tools.choices[0].message.tool_calls[0].function.arguments
    assert with_tools.usage.completion_tokens > 0
    assert with_tools.usage.total_tokens == with_tools.usage.prompt_tokens + with_tools.usage.completion_tokens
    assert arguments


@pytest.mark.parametrize(("parallel", "expected"), [(None, {"get_weather", "get_time"}), (True, {"get_weather",
                                                    "get_time"}), (False, None)])
def test_parallel_tool_calls(client: OpenAI, parallel: bool | None, expected: set[str] | None) -> None:
    options = {} if parallel is None else {"parallel_tool_calls": parallel}
    completion = client.chat.completions.create(model=MODEL, messages=ask(BOTH_QUESTION), tools=CHAT_TOOLS,
                                                **options)
    calls = completion.choices[0].message.tool_calls
    for call in calls:
        assert_call(call.function.name, call.function.arguments, call.id)
    assert len({call.id for call in calls}) == len(calls)
    if expected is None:
        assert len(calls) == 1 and calls[0].function.name in SCHEMAS
    else:
        assert sorted(call.function.name for call in calls) == sorted(expected)


# -- the agent loop ------------------------------------------------------------------------------


def test_agent_loop_quotes_the_tool_result(client: OpenAI, runtime) -> None:
    messages: list[Any] = [{"role": "system", "content": "You are a weather bot."}, *ask(WEATHER_QUESTION)]
    first = client.chat.completions.create(model=MODEL, messages=messages, tools=CHAT_TOOLS)
    assistant = first.choices[0].message
    assert first.choices[0].finish_reason == "tool_calls"
    messages.append(assistant)  # as the docs do: the SDK's message object goes back as it came
    outputs = []
    for call in assistant.tool_calls:
        output = run_tool(call.function.name, call.function.arguments)
        outputs.append(output)
        messages.append({"role": "tool", "tool_call_id": call.id, "content": output})
    before = runtime.accounts.get(KEY).credits
    final = client.chat.completions.create(model=MODEL, messages=messages, tools=CHAT_TOOLS)
    choice = final.choices[0]
    assert choice.finish_reason == "stop" and not choice.message.tool_calls
    assert all(output in choice.message.content for output in outputs)
    assert final.usage.prompt_tokens > first.usage.prompt_tokens + tokens.count_all(outputs) - 1
    assert runtime.accounts.get(KEY).credits < before
    # the tool message may also be given as text parts
    parts = [*messages[:-1], {"role": "tool", "tool_call_id": assistant.tool_calls[-1].id,
                              "content": [{"type": "text", "text": outputs[-1]}]}]
    assert outputs[-1] in client.chat.completions.create(model=MODEL, messages=parts,
                                                         tools=CHAT_TOOLS).choices[0].message.content


def test_pydantic_function_tool_loop(client: OpenAI) -> None:
    """``openai.pydantic_function_tool`` (strict) with ``chat.completions.parse``: parsed arguments, then the loop."""
    seen: list[GetWeather] = []

    def get_weather(city: str, unit: str) -> str:
        seen.append(GetWeather(city=city, unit=unit))
        return run_tool("get_weather", {"city": city, "unit": unit})

    tool = openai.pydantic_function_tool(GetWeather, name="get_weather")
    assert tool["function"]["strict"] is True
    first = client.chat.completions.parse(model=MODEL, messages=ask(WEATHER_QUESTION), tools=[tool])
    [call] = first.choices[0].message.tool_calls
    parsed = call.function.parsed_arguments
    assert isinstance(parsed, GetWeather)
    assert set(json.loads(call.function.arguments)) == {"city", "unit"}  # strict: every property, nothing else
    output = get_weather(parsed.city, parsed.unit)
    by_hand = {"role": "assistant", "content": None, "tool_calls": [
        {"id": call.id, "type": "function", "function": {"name": call.function.name,
                                                         "arguments": call.function.arguments}}]}
    final = client.chat.completions.create(model=MODEL, messages=[
        *ask(WEATHER_QUESTION), by_hand, {"role": "tool", "tool_call_id": call.id, "content": output}])
    assert output in final.choices[0].message.content and seen == [parsed]


# -- streamed tool calls -------------------------------------------------------------------------


def accumulate(chunks: list[Any]) -> dict[int, dict[str, str]]:
    """Manual delta accumulation, as the OpenAI cookbook does it."""
    calls: dict[int, dict[str, str]] = defaultdict(lambda: {"id": "", "name": "", "arguments": ""})
    for chunk in chunks:
        for delta in chunk.choices[0].delta.tool_calls or [] if chunk.choices else []:
            call = calls[delta.index]
            call["id"] += delta.id or ""
            if delta.function:
                call["name"] += delta.function.name or ""
                call["arguments"] += delta.function.arguments or ""
    return dict(calls)


def test_streamed_tool_calls_reassemble_to_the_plain_reply(client: OpenAI) -> None:
    request = {"model": MODEL, "messages": ask(BOTH_QUESTION), "tools": CHAT_TOOLS}
    plain = client.chat.completions.create(**request).choices[0].message.tool_calls
    expected = [(c.function.name, c.function.arguments) for c in plain]
    chunks = list(client.chat.completions.create(**request, stream=True))
    first = chunks[0].choices[0].delta
    assert first.role == "assistant" and first.content is None
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    calls = accumulate(chunks)
    assert sorted(calls) == list(range(len(plain)))
    assert [(calls[i]["name"], calls[i]["arguments"]) for i in sorted(calls)] == expected
    assert all(CALL_ID.match(call["id"]) for call in calls.values())
    # the id and name come first, with empty arguments; then argument fragments only
    opening = [d for c in chunks if c.choices for d in c.choices[0].delta.tool_calls or [] if d.id]
    assert [d.function.arguments for d in opening] == [""] * len(plain)
    assert all(d.type == "function" for d in opening)
    fragments = [d for c in chunks if c.choices for d in c.choices[0].delta.tool_calls or [] if not d.id]
    assert len(fragments) >= len(plain) and all(d.function.name is None for d in fragments)


def test_stream_helper_final_completion_equals_plain(client: OpenAI) -> None:
    request = {"model": MODEL, "messages": ask(WEATHER_QUESTION), "tools": CHAT_TOOLS}
    plain = client.chat.completions.create(**request).choices[0].message.tool_calls
    done_events = []
    with client.chat.completions.stream(**request) as stream:
        for event in stream:
            if event.type == "tool_calls.function.arguments.done":
                done_events.append((event.name, event.arguments))
        final = stream.get_final_completion()
    calls = final.choices[0].message.tool_calls
    assert final.choices[0].finish_reason == "tool_calls"
    assert [(c.function.name, c.function.arguments) for c in calls] == [
        (c.function.name, c.function.arguments) for c in plain] == done_events
    for call in calls:
        assert_call(call.function.name, call.function.arguments, call.id)


def test_stream_helper_parses_strict_pydantic_tool_arguments(client: OpenAI) -> None:
    tool = openai.pydantic_function_tool(GetWeather, name="get_weather")
    with client.chat.completions.stream(model=MODEL, messages=ask(WEATHER_QUESTION), tools=[tool]) as stream:
        final = stream.get_final_completion()
    [call] = final.choices[0].message.tool_calls
    assert isinstance(call.function.parsed_arguments, GetWeather)


# -- structured outputs --------------------------------------------------------------------------


def test_parse_with_a_pydantic_model(client: OpenAI) -> None:
    messages = [{"role": "system", "content": "Extract the event."},
                *ask("Alice and Bob are going to a science fair on Friday.")]
    completion = client.chat.completions.parse(model=MODEL, messages=messages, response_format=CalendarEvent)
    message = completion.choices[0].message
    assert completion.choices[0].finish_reason == "stop" and message.refusal is None
    assert isinstance(message.parsed, CalendarEvent)
    schema = openai.lib._pydantic.to_strict_json_schema(CalendarEvent)
    assert set(assert_valid(message.content, schema)) == {"name", "date", "participants", "priority"}
    # streamed: the same JSON text, split into content deltas
    with client.chat.completions.stream(model=MODEL, messages=messages, response_format=CalendarEvent) as stream:
        deltas = [e.delta for e in stream if e.type == "content.delta"]
        final = stream.get_final_completion()
    assert "".join(deltas) == message.content == final.choices[0].message.content
    assert final.choices[0].message.parsed == message.parsed
    assert len(deltas) > 1


def test_json_schema_response_format_by_hand(client: OpenAI) -> None:
    schema = {"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string"},
                                                        "minItems": 2, "maxItems": 4},
                                               "score": {"type": "number", "minimum": 0, "maximum": 1},
                                               "email": {"type": "string", "format": "email"}},
              "required": ["tags", "score", "email"], "additionalProperties": False}
    completion = client.chat.completions.create(
        model="gpt-5", messages=ask("Tag this text"),
        response_format={"type": "json_schema", "json_schema": {"name": "tags", "schema": schema, "strict": True}})
    assert_valid(completion.choices[0].message.content, schema)


def test_json_object_is_a_json_object(client: OpenAI) -> None:
    completion = client.chat.completions.create(model=MODEL, messages=ask("Describe a cat as JSON."),
                                                response_format={"type": "json_object"})
    assert isinstance(json.loads(completion.choices[0].message.content), dict)
    text = client.chat.completions.create(model=MODEL, messages=ask("Describe a cat as JSON."),
                                          response_format={"type": "text"}).choices[0].message.content
    assert text != completion.choices[0].message.content


def test_flagged_prompt_with_structured_output_is_a_refusal(client: OpenAI) -> None:
    completion = client.chat.completions.parse(model=MODEL, messages=ask("show me gore"),
                                               response_format=CalendarEvent)
    message = completion.choices[0].message
    assert isinstance(message.refusal, str) and message.refusal
    assert message.content is None and message.parsed is None
    assert completion.choices[0].finish_reason == "stop"


# -- Responses API with tools --------------------------------------------------------------------


def function_calls(response: Any) -> list[Any]:
    return [item for item in response.output if item.type == "function_call"]


def test_responses_function_call_and_output_continuation(client: OpenAI) -> None:
    first = client.responses.create(model=MODEL, input=WEATHER_QUESTION, tools=RESPONSES_TOOLS)
    [call] = function_calls(first)
    assert call.id.startswith("fc_") and call.status == "completed"
    assert_call(call.name, call.arguments, call.call_id, "get_weather")
    assert first.output_text == ""
    assert [t.name for t in first.tools] == ["get_weather", "get_time"]
    assert first.tool_choice == "auto" and first.parallel_tool_calls is True
    output = run_tool(call.name, call.arguments)
    second = client.responses.create(model=MODEL, previous_response_id=first.id, tools=RESPONSES_TOOLS,
                                     input=[{"type": "function_call_output", "call_id": call.call_id,
                                             "output": output}])
    assert second.status == "completed" and not function_calls(second)
    assert output in second.output_text
    # the same turn without previous_response_id: the call item goes back in the input
    stateless = client.responses.create(model=MODEL, tools=RESPONSES_TOOLS, input=[
        {"role": "user", "content": WEATHER_QUESTION},
        {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
        {"type": "function_call_output", "call_id": call.call_id, "output": output}])
    assert output in stateless.output_text


@pytest.mark.parametrize("choice", ["required", {"type": "function", "name": "get_time"}, "none"])
def test_responses_tool_choice(client: OpenAI, choice: Any) -> None:
    response = client.responses.create(model=MODEL, input=UNRELATED_QUESTION, tools=RESPONSES_TOOLS,
                                       tool_choice=choice)
    calls = function_calls(response)
    if choice == "none":
        assert calls == [] and response.output_text
    else:
        assert calls
        for call in calls:
            assert_call(call.name, call.arguments, call.call_id, None if choice == "required" else "get_time")


def test_responses_other_tool_types_are_a_400(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=MODEL, input="Search the web", tools=[{"type": "web_search"}])
    assert caught.value.param == "tools[0].type"


def test_responses_parse_with_text_format(client: OpenAI) -> None:
    response = client.responses.parse(model=MODEL, input="Alice and Bob meet on Friday.", text_format=CalendarEvent)
    assert isinstance(response.output_parsed, CalendarEvent)
    assert response.text.format.type == "json_schema"
    schema = openai.lib._pydantic.to_strict_json_schema(CalendarEvent)
    assert_valid(response.output_text, schema)
    as_object = client.responses.create(model=MODEL, input="A cat as JSON", text={"format": {"type": "json_object"}})
    assert isinstance(json.loads(as_object.output_text), dict)


def test_responses_stream_function_call_events(client: OpenAI) -> None:
    plain = function_calls(client.responses.create(model=MODEL, input=WEATHER_QUESTION, tools=RESPONSES_TOOLS))
    events = list(client.responses.create(model=MODEL, input=WEATHER_QUESTION, tools=RESPONSES_TOOLS, stream=True))
    types = [e.type for e in events]
    deltas = [e for e in events if e.type == "response.function_call_arguments.delta"]
    assert types[:3] == ["response.created", "response.in_progress", "response.output_item.added"]
    assert types[-3:] == ["response.function_call_arguments.done", "response.output_item.done",
                          "response.completed"]
    assert len(deltas) >= 1 and [e.sequence_number for e in events] == list(range(len(events)))
    added = events[2].item
    assert added.type == "function_call" and added.arguments == "" and added.status == "in_progress"
    done = events[-3]
    assert {e.item_id for e in deltas} == {added.id, done.item_id}
    assert "".join(e.delta for e in deltas) == done.arguments == plain[0].arguments
    assert done.name == plain[0].name == "get_weather"
    final = events[-1].response
    assert [(c.name, c.arguments) for c in function_calls(final)] == [(c.name, c.arguments) for c in plain]
    with client.responses.stream(model=MODEL, input=WEATHER_QUESTION, tools=RESPONSES_TOOLS) as stream:
        helper = stream.get_final_response()
    assert [c.arguments for c in function_calls(helper)] == [plain[0].arguments]


def test_responses_input_items_paging(client: OpenAI) -> None:
    texts = [f"Message number {i}" for i in range(5)]
    response = client.responses.create(model=MODEL, input=[{"role": "user", "content": t} for t in texts])
    page = client.responses.input_items.list(response.id, limit=2)
    assert len(page.data) == 2 and page.has_more is True
    everything = list(client.responses.input_items.list(response.id, limit=2))  # the SDK follows `after`
    assert len(everything) == 5 and len({item.id for item in everything}) == 5

    def text_of(item: Any) -> str:
        return item.content[0].text

    assert [text_of(item) for item in everything] == texts[::-1]  # newest first by default
    ascending = client.responses.input_items.list(response.id, order="asc")
    assert [text_of(item) for item in ascending.data] == texts and ascending.has_more is False
    assert ascending.first_id == ascending.data[0].id and ascending.last_id == ascending.data[-1].id
    with pytest.raises(openai.NotFoundError):
        client.responses.input_items.list("resp_doesnotexist")


# -- n, logprobs, images -------------------------------------------------------------------------


def test_n_choices_are_distinct_and_usage_sums(client: OpenAI, runtime) -> None:
    single = client.chat.completions.create(model=MODEL, messages=ask("Name a colour."))
    before = runtime.accounts.get(KEY).credits
    completion = client.chat.completions.create(model=MODEL, messages=ask("Name a colour."), n=3)
    assert [c.index for c in completion.choices] == [0, 1, 2]
    contents = [c.message.content for c in completion.choices]
    assert len(set(contents)) == 3
    usage = completion.usage
    assert usage.prompt_tokens == single.usage.prompt_tokens
    assert usage.completion_tokens == tokens.count_all(contents)
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    spent = before - runtime.accounts.get(KEY).credits
    assert spent == pytest.approx(usage.prompt_tokens * 0.5e-6 + usage.completion_tokens * 1.25e-6, abs=1e-9)
    chunks = list(client.chat.completions.create(model=MODEL, messages=ask("Name a colour."), n=3, stream=True))
    streamed: dict[int, str] = defaultdict(str)
    for chunk in chunks:
        for choice in chunk.choices:
            streamed[choice.index] += choice.delta.content or ""
    assert [streamed[i] for i in range(3)] == contents


@pytest.mark.parametrize("n", [0, 129])
def test_absurd_n_is_a_400(client: OpenAI, n: int) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=MODEL, messages=ask("x"), n=n)
    assert caught.value.param == "n"


def test_logprobs_tokens_concatenate_to_the_content(client: OpenAI) -> None:
    completion = client.chat.completions.create(model=MODEL, messages=ask("What is machine learning?"),
                                                logprobs=True, top_logprobs=3)
    choice = completion.choices[0]
    content = choice.logprobs.content
    assert "".join(t.token for t in content) == choice.message.content
    assert len(content) == completion.usage.completion_tokens
    for item in content:
        assert item.logprob <= 0 and item.bytes == list(item.token.encode())
        assert len(item.top_logprobs) == 3 and item.top_logprobs[0].logprob >= item.top_logprobs[-1].logprob
    chunks = list(client.chat.completions.create(model=MODEL, messages=ask("What is machine learning?"),
                                                 logprobs=True, stream=True))
    streamed = [t.token for c in chunks if c.choices and c.choices[0].logprobs for t in c.choices[0].logprobs.content]
    assert "".join(streamed) == choice.message.content
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=MODEL, messages=ask("x"), top_logprobs=2)
    assert caught.value.param == "top_logprobs"


PNG = base64.b64encode(bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                                     "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"))


@pytest.mark.parametrize("url", [f"data:image/png;base64,{PNG.decode()}", "https://example.com/cat.png"])
def test_image_parts_are_accepted_and_counted(client: OpenAI, url: str) -> None:
    text_only = client.chat.completions.create(model=MODEL, messages=ask("What is in this image?"))
    completion = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": [
        {"type": "text", "text": "What is in this image?"},
        {"type": "image_url", "image_url": {"url": url, "detail": "low"}}]}])
    assert completion.choices[0].message.content
    assert completion.usage.prompt_tokens > text_only.usage.prompt_tokens
    response = client.responses.create(model=MODEL, input=[{"role": "user", "content": [
        {"type": "input_text", "text": "What is in this image?"},
        {"type": "input_image", "image_url": url, "detail": "auto"}]}])
    assert response.status == "completed" and response.output_text
    assert response.usage.input_tokens > tokens.count_tokens("What is in this image?")


def test_audio_parts_are_a_400_naming_the_part(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": [
            {"type": "text", "text": "Transcribe"},
            {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}]}])
    assert caught.value.param == "messages[0].content[1]"


def test_scripted_tool_calls_then_reply(client: OpenAI, runtime) -> None:
    """Control-plane rules script a whole agent turn: exactly these calls, then this answer."""
    runtime.rules.add({"match": {"route": "/v1/chat/*"}, "outcome": {"replies": [
        {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo", "unit": "celsius"}}]},
        "It is sunny in Oslo."]}})
    first = client.chat.completions.create(model=MODEL, messages=ask(WEATHER_QUESTION), tools=CHAT_TOOLS)
    [call] = first.choices[0].message.tool_calls
    assert (call.function.name, json.loads(call.function.arguments)) == ("get_weather",
                                                                        {"city": "Oslo", "unit": "celsius"})
    final = client.chat.completions.create(model=MODEL, tools=CHAT_TOOLS, messages=[
        *ask(WEATHER_QUESTION), first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": run_tool(call.function.name, call.function.arguments)}])
    assert final.choices[0].message.content == "It is sunny in Oslo."

