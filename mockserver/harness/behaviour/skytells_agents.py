"""Agent turns of the Skytells Inference API (OpenAI semantics): tool loops and structured outputs.

``skytells.agent_turns`` runs what agent frameworks do, plain and streamed:

* Chat Completions tool loop: ``tools`` with ``tool_choice`` ``required`` or a named function give
  ``finish_reason: tool_calls`` and calls (``call_...`` ids, tools that were offered, the named one, one call
  without ``parallel_tool_calls``) whose ``arguments`` are JSON valid against the tool's ``parameters``;
  streamed calls rebuild from their deltas (id/name first, then argument fragments); sending the calls back
  with ``role: tool`` results gives a text answer (on the mock: quoting a tool output).
* Structured outputs: ``response_format`` ``json_object`` is a JSON object, ``json_schema`` an instance of its
  schema (chat and Responses ``text.format``).
* ``n`` and logprobs: choices indexed ``0..n-1`` whose logprob tokens spell their content (with at most
  ``top_logprobs`` alternatives) and add up to the completion tokens billed, plain and streamed.
* Responses tool loop: ``function_call`` output items (streamed with ``response.function_call_arguments``
  deltas that add up to ``.done`` and the item), answered with ``function_call_output`` items, through
  ``previous_response_id`` or the whole conversation; ``GET /v1/responses/{id}/input_items`` lists the input
  in order and pages through it with ``after``.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, rule

from mockserver.harness.behaviour.agent_schemas import object_schemas, schema_problem, tools
from mockserver.harness.behaviour.common import (
    HarnessMachine,
    dig,
    expect,
    expect_status,
    parse_json_data,
    sse_frames,
)
from mockserver.harness.behaviour.skytells import InferenceMachine, check_response_stream

CALL_ID = re.compile(r"^call_[A-Za-z0-9]{24}$")
CHOICES = st.sampled_from(["required", "named"])


def tool_result(call: dict[str, Any]) -> str:
    """The result an agent sends back for ``call`` (JSON text naming the call)."""
    return json.dumps({"ok": True, "result": f"done-{call['name']}-{len(call['arguments'])}"})


def check_arguments(check: str, operation: str, field: str, name: str, arguments: Any,
                    offered: dict[str, dict[str, Any]]) -> None:
    """A call names an offered tool and its ``arguments`` are JSON text valid against the tool's parameters."""
    expect(name in offered, check, operation, f"a call to {name!r}, which is not one of the tools "
                                              f"({', '.join(offered)})", field=field)
    try:
        value = json.loads(arguments) if isinstance(arguments, str) else None
    except ValueError:
        value = None
    expect(isinstance(value, dict), check, operation, f"the arguments of {name!r} are not a JSON object: "
                                                      f"{str(arguments)[:120]!r}", field=field)
    problem = schema_problem(offered[name]["parameters"], value)
    expect(problem is None, "tools.arguments", operation, f"the arguments of {name!r} break its parameters "
                                                          f"schema: {problem}; arguments {arguments[:200]}",
           field=field)


def chat_stream_message(text: str, operation: str) -> tuple[dict[str, Any], Any]:
    """Choice 0 of a chat stream rebuilt from its deltas (content and tool calls) and its finish_reason."""
    check = "sse.chat_tool_calls"
    frames = sse_frames(text)
    expect(bool(frames) and frames[-1].get("data") == "[DONE]", check, operation, "the stream does not end with "
                                                                                  "[DONE]", field="data")
    content, calls, finish = "", {}, None
    for chunk in (parse_json_data(f) for f in frames[:-1]):
        for choice in (chunk or {}).get("choices") or []:
            if choice.get("index") != 0:
                continue
            delta = choice.get("delta") or {}
            content += delta.get("content") or ""
            for piece in delta.get("tool_calls") or []:
                merge_call_delta(calls, piece, operation)
            finish = choice.get("finish_reason") or finish
    expect(sorted(calls) == list(range(len(calls))), check, operation,
           f"tool call indexes are {sorted(calls)}, not 0..{len(calls) - 1}", field="choices[0].delta.tool_calls")
    message = {"role": "assistant", "content": content or None}
    if calls:
        message["tool_calls"] = [calls[i] for i in sorted(calls)]
    return message, finish


def merge_call_delta(calls: dict[int, dict[str, Any]], piece: Any, operation: str) -> None:
    """Add one ``delta.tool_calls[]`` piece: the first of an index carries id, type and name; the rest only
    argument fragments (an SDK accumulator concatenates repeated strings)."""
    check, field = "sse.chat_tool_calls", "choices[0].delta.tool_calls"
    index = dig(piece, "index")
    expect(isinstance(index, int), check, operation, f"a tool call delta without an integer index: {piece}",
           field=field)
    fragment = dig(piece, "function.arguments")
    if index not in calls:
        expect(isinstance(piece.get("id"), str) and piece.get("type") == "function"
               and isinstance(dig(piece, "function.name"), str), check, operation,
               f"the first delta of tool call {index} lacks id, type 'function' or function.name: {piece}",
               field=field)
        calls[index] = {"id": piece["id"], "type": "function",
                        "function": {"name": piece["function"]["name"], "arguments": fragment or ""}}
        return
    expect(piece.get("id") is None and dig(piece, "function.name") is None, check, operation,
           f"a later delta of tool call {index} repeats its id or name (accumulators would double them): {piece}",
           field=field)
    calls[index]["function"]["arguments"] += fragment or ""


def stream_choices(text: str) -> tuple[dict[int, tuple[str, list[Any]]], Any]:
    """Every choice of a chat stream: its content and logprob entries in order; and the last usage seen."""
    found: dict[int, tuple[str, list[Any]]] = {}
    usage = None
    for chunk in (parse_json_data(f) for f in sse_frames(text) if f.get("data") != "[DONE]"):
        usage = (chunk or {}).get("usage") or usage
        for choice in (chunk or {}).get("choices") or []:
            content, tokens = found.get(choice.get("index"), ("", []))
            found[choice.get("index")] = (content + (dig(choice, "delta.content") or ""),
                                          tokens + (dig(choice, "logprobs.content") or []))
    return found, usage


def function_call_stream(text: str, final: dict[str, Any], operation: str) -> None:
    """``response.function_call_arguments`` deltas of each call add up to its ``.done`` and to the item."""
    check = "sse.responses_function_calls"
    events = [e for e in (parse_json_data(f) for f in sse_frames(text)) if isinstance(e, dict)]
    for item in final.get("output") or []:
        if not isinstance(item, dict) or item.get("type") != "function_call":
            continue
        mine = [e for e in events if e.get("item_id") == item.get("id") or dig(e, "item.id") == item.get("id")]
        added = [e for e in mine if e.get("type") == "response.output_item.added"]
        expect(len(added) == 1 and dig(added[0], "item.arguments") == "", check, operation,
               f"call {item.get('id')}: expected one response.output_item.added with arguments ''",
               field="item.arguments")
        streamed = "".join(e.get("delta", "") for e in mine
                           if e.get("type") == "response.function_call_arguments.delta")
        done = [e for e in mine if e.get("type") == "response.function_call_arguments.done"]
        expect(len(done) == 1, check, operation, f"call {item.get('id')}: {len(done)} arguments.done events",
               field="type")
        expect(streamed == done[0].get("arguments") == item.get("arguments"), check, operation,
               f"call {item.get('id')}: the deltas {streamed[:80]!r}, .done {str(done[0].get('arguments'))[:80]!r} "
               f"and the item's arguments {str(item.get('arguments'))[:80]!r} differ", field="delta")
        expect(done[0].get("name") == item.get("name"), check, operation,
               f"call {item.get('id')}: .done names {done[0].get('name')!r}, the item {item.get('name')!r}",
               field="name")


class AgentTurns(InferenceMachine):
    """Tool loops (chat and Responses), structured outputs and stored input items."""

    name = "skytells.agent_turns"
    description = ("tool calls valid against their schemas, tool results answered, structured outputs, n and "
                   "logprobs, input items")
    paid_per_step: ClassVar[float] = 2.0
    answered = Bundle("answered")  # (response id, [(type, call_id)] of its input, in order)
    MAX_TOKENS = 1024
    PROMPT_TOKENS = 2000


    # -- chat completions ---------------------------------------------------------------------

    def chat(self, body: dict[str, Any], stream: bool, why: str) -> tuple[dict[str, Any], Any]:
        """POST a chat body: choice 0's message (rebuilt from the stream when streaming) and finish_reason."""
        operation = self.ctx.operation("POST", "/chat/completions")
        body = {"model": self.model, "max_tokens": self.MAX_TOKENS, **body, "stream": stream}
        response = self.ctx.call("POST", "/chat/completions", json_body=body, stream=stream)
        expect_status(response, 200, "chat.create", operation, why)
        if stream:
            return chat_stream_message(response.text, operation)
        completion = self.ctx.json(response, "chat.create", operation)
        return dig(completion, "choices.0.message") or {}, dig(completion, "choices.0.finish_reason")

    @rule(offered=tools(count=2), choice=CHOICES, stream=st.booleans(), parallel=st.booleans())
    def chat_tool_loop(self, offered: list[dict[str, Any]], choice: str, stream: bool, parallel: bool) -> None:
        operation = self.ctx.operation("POST", "/chat/completions")
        named = offered[0]["name"]
        prompt = f"Please use {named.replace('_', ' ')} for me."
        specs = [{"type": "function", "function": tool} for tool in offered]
        tool_choice: Any = "required" if choice == "required" else {"type": "function", "function": {"name": named}}
        messages: list[dict[str, Any]] = [{"role": "user", "content": prompt}]
        body = {"messages": messages, "tools": specs, "tool_choice": tool_choice, "parallel_tool_calls": parallel}
        message, finish = self.chat(body, stream, f"tools with tool_choice {choice}")
        calls = message.get("tool_calls") or []
        self.check_chat_calls(calls, finish, message, choice, parallel, {t["name"]: t for t in offered}, operation)
        results = [{"role": "tool", "tool_call_id": call["id"], "content": tool_result(call["function"])}
                   for call in calls]
        messages += [{"role": "assistant", "content": None, "tool_calls": calls}, *results]
        answer, finish = self.chat({"messages": messages, "tools": specs, "tool_choice": "auto"}, stream,
                                   "the tool results sent back")
        self.check_answer(answer, finish, [r["content"] for r in results], operation)

    def check_chat_calls(self, calls: list[Any], finish: Any, message: dict[str, Any], choice: str, parallel: bool,
                         offered: dict[str, dict[str, Any]], operation: str) -> None:
        check = "tools.call"
        expect(finish == "tool_calls", check, operation, f"tool_choice {choice} gave finish_reason {finish!r}, "
                                                         "not 'tool_calls'", field="choices[0].finish_reason")
        expect(bool(calls), check, operation, f"tool_choice {choice} gave no tool_calls",
               field="choices[0].message.tool_calls")
        expect(message.get("content") in (None, ""), check, operation, "a tool-call reply has content "
                                                                       f"{str(message.get('content'))[:80]!r}",
               field="choices[0].message.content")
        expect(parallel or len(calls) == 1, check, operation, f"{len(calls)} calls with parallel_tool_calls false",
               field="choices[0].message.tool_calls")
        ids = [call.get("id") for call in calls]
        expect(all(isinstance(i, str) and CALL_ID.match(i) for i in ids) and len(set(ids)) == len(ids), check,
               operation, f"call ids {ids} are not distinct call_<24 letters or digits>",
               field="choices[0].message.tool_calls.id")
        for call in calls:
            name = dig(call, "function.name")
            if choice == "named":
                expect(name == next(iter(offered)), check, operation, f"tool_choice named "
                                                                      f"{next(iter(offered))!r}, the call is {name!r}",
                       field="choices[0].message.tool_calls.function.name")
            check_arguments(check, operation, "choices[0].message.tool_calls.function.arguments", name,
                            dig(call, "function.arguments"), offered)

    def check_answer(self, message: dict[str, Any], finish: Any, outputs: list[str], operation: str) -> None:
        """After tool results, ``auto`` answers in text (on the mock: quoting a tool output)."""
        check = "tools.answer"
        expect(finish in ("stop", "length") and not message.get("tool_calls"), check, operation,
               f"after the tool results tool_choice auto gave finish_reason {finish!r} and "
               f"{len(message.get('tool_calls') or [])} calls, not a text answer", field="choices[0].finish_reason")
        content = message.get("content")
        expect(isinstance(content, str) and bool(content), check, operation, "the answer has no text",
               field="choices[0].message.content")
        if finish == "stop" and self.ctx.target.is_mock:
            expect(any(output in content for output in outputs), check, operation,
                   f"the answer {content[:120]!r} quotes none of the tool outputs (README: the answer quotes them)",
                   field="choices[0].message.content")

    @rule(shape=object_schemas(), kind=st.sampled_from(["json_schema", "json_object"]), stream=st.booleans())
    def chat_structured(self, shape: tuple[dict[str, Any], bool], kind: str, stream: bool) -> None:
        operation = self.ctx.operation("POST", "/chat/completions")
        schema, strict = shape
        response_format: dict[str, Any] = {"type": kind}
        if kind == "json_schema":
            response_format["json_schema"] = {"name": "record", "schema": schema, "strict": strict}
        body = {"messages": [{"role": "user", "content": "Describe a record as JSON."}],
                "response_format": response_format}
        message, finish = self.chat(body, stream, f"response_format {kind}")
        if message.get("refusal") and message.get("content") is None:
            return  # a structured refusal (the safety checker) is an answer too
        self.check_structured(message.get("content"), finish, schema if kind == "json_schema" else None,
                              f"structured.{kind}", operation, "choices[0].message.content")

    def check_structured(self, content: Any, finish: Any, schema: dict[str, Any] | None, check: str,
                         operation: str, field: str) -> None:
        if finish in ("length", "max_output_tokens"):
            return  # cut at the token limit: not whole JSON, as documented
        try:
            value = json.loads(content) if isinstance(content, str) else None
        except ValueError:
            value = None
        expect(isinstance(value, dict), check, operation, f"the reply is not a JSON object: {str(content)[:160]!r}",
               field=field)
        if schema is not None:
            problem = schema_problem(schema, value)
            expect(problem is None, check, operation, f"the reply breaks the json_schema: {problem}; reply "
                                                      f"{content[:200]}", field=field)

    @rule(n=st.integers(1, 4), top=st.integers(0, 5), stream=st.booleans(), max_tokens=st.integers(1, 64))
    def chat_choices_and_logprobs(self, n: int, top: int, stream: bool, max_tokens: int) -> None:
        """``n`` choices indexed 0..n-1; each choice's logprob tokens spell its content (at most ``top``
        alternatives each) and together they are the completion tokens billed."""
        operation = self.ctx.operation("POST", "/chat/completions")
        check = "chat.choices"
        body = {"model": self.model, "messages": [{"role": "user", "content": "Say something"}], "n": n,
                "logprobs": True, "top_logprobs": top, "max_tokens": max_tokens, "stream": stream}
        if stream:
            body["stream_options"] = {"include_usage": True}
        response = self.ctx.call("POST", "/chat/completions", json_body=body, stream=stream)
        expect_status(response, 200, check, operation, f"n={n} with logprobs")
        choices, usage = (stream_choices(response.text) if stream
                          else self.plain_choices(self.ctx.json(response, check, operation)))
        expect(sorted(choices) == list(range(n)), check, operation, f"n={n} gave choices {sorted(choices)}",
               field="choices.index")
        for index, (content, tokens) in sorted(choices.items()):
            spelled = "".join(str(dig(t, "token")) for t in tokens)
            expect(spelled == content, check, operation, f"choice {index}: the logprob tokens spell "
                                                         f"{spelled[:60]!r}, the content is {content[:60]!r}",
                   field="choices.logprobs.content")
            widest = max((len(dig(t, "top_logprobs") or []) for t in tokens), default=0)
            expect(widest <= top, check, operation, f"choice {index}: {widest} top_logprobs with top_logprobs={top}",
                   field="choices.logprobs.content.top_logprobs")
        billed = dig(usage, "completion_tokens")
        counted = sum(len(tokens) for _, tokens in choices.values())
        expect(billed == counted, check, operation, f"usage.completion_tokens is {billed}, the {n} choices have "
                                                    f"{counted} tokens", field="usage.completion_tokens")

    @staticmethod
    def plain_choices(completion: Any) -> tuple[dict[int, tuple[str, list[Any]]], Any]:
        found = {c.get("index"): (dig(c, "message.content") or "", dig(c, "logprobs.content") or [])
                 for c in (completion or {}).get("choices") or []}
        return found, (completion or {}).get("usage")

    # -- responses ------------------------------------------------------------------------------

    def respond(self, body: dict[str, Any], stream: bool, why: str) -> dict[str, Any]:
        """POST a Responses body: the Response object (the stream's final one when streaming), checked."""
        operation = self.ctx.operation("POST", "/responses")
        body = {"model": self.model, "max_output_tokens": self.MAX_TOKENS, **body, "stream": stream}
        response = self.ctx.call("POST", "/responses", json_body=body, stream=stream)
        expect_status(response, 200, "responses.create", operation, why)
        if not stream:
            return self.ctx.json(response, "responses.create", operation)
        final = check_response_stream(response.text, response.headers.get("content-type", ""), operation)
        function_call_stream(response.text, final, operation)
        return final

    @rule(target=answered, offered=tools(count=2), choice=CHOICES, stream=st.booleans(), chained=st.booleans())
    def responses_tool_loop(self, offered: list[dict[str, Any]], choice: str, stream: bool,
                            chained: bool) -> tuple[str, list[tuple[str, str | None]]]:
        operation = self.ctx.operation("POST", "/responses")
        named = offered[0]["name"]
        prompt = f"Please use {named.replace('_', ' ')} for me."
        specs = [{"type": "function", **tool} for tool in offered]
        tool_choice: Any = "required" if choice == "required" else {"type": "function", "name": named}
        first = self.respond({"input": prompt, "tools": specs, "tool_choice": tool_choice}, stream,
                             f"function tools with tool_choice {choice}")
        calls = self.check_function_calls(first, choice, {t["name"]: t for t in offered}, tool_choice, operation)
        outputs = [{"type": "function_call_output", "call_id": c["call_id"], "output": tool_result(c)} for c in calls]
        if chained:
            items: list[dict[str, Any]] = outputs
            body: dict[str, Any] = {"previous_response_id": first["id"], "input": items, "tools": specs}
        else:
            items = [{"role": "user", "content": prompt},
                     *({k: c[k] for k in ("type", "call_id", "name", "arguments")} for c in calls), *outputs]
            body = {"input": items, "tools": specs}
        second = self.respond(body, stream, "function_call_output items sent back")
        check = "tools.answer"
        expect(second.get("status") == "completed" and not [o for o in second.get("output") or []
                                                             if dig(o, "type") == "function_call"], check, operation,
               f"after the outputs tool_choice auto gave status {second.get('status')!r} and function calls, not "
               "a text answer", field="output")
        texts = [dig(part, "text") for item in second.get("output") or [] if dig(item, "type") == "message"
                 for part in dig(item, "content") or []]
        expect(any(isinstance(t, str) and t for t in texts), check, operation, "the answer has no text",
               field="output")
        return second["id"], [(i.get("type", "message"), i.get("call_id")) for i in items]

    def check_function_calls(self, response: dict[str, Any], choice: str, offered: dict[str, dict[str, Any]],
                             tool_choice: Any, operation: str) -> list[dict[str, Any]]:
        check = "responses.function_call"
        calls = [o for o in response.get("output") or [] if dig(o, "type") == "function_call"]
        expect(bool(calls), check, operation, f"tool_choice {choice} gave no function_call output item",
               field="output")
        ids = [c.get("call_id") for c in calls]
        expect(all(isinstance(i, str) and CALL_ID.match(i) for i in ids) and len(set(ids)) == len(ids), check,
               operation, f"call_ids {ids} are not distinct call_<24 letters or digits>", field="output.call_id")
        for call in calls:
            expect(call.get("status") == "completed", check, operation, f"a call's status is {call.get('status')!r}",
                   field="output.status")
            if choice == "named":
                expect(call.get("name") == next(iter(offered)), check, operation,
                       f"tool_choice named {next(iter(offered))!r}, the call is {call.get('name')!r}",
                       field="output.name")
            check_arguments(check, operation, "output.arguments", call.get("name"), call.get("arguments"), offered)
        if not [o for o in response.get("output") or [] if dig(o, "type") == "message"]:
            expect(response.get("output_text", "") == "", check, operation, "output_text of a calls-only response "
                                                                            "is not ''", field="output_text")
        echoed = [dig(t, "name") for t in response.get("tools") or []]
        expect(echoed == list(offered) and response.get("tool_choice") == tool_choice, check, operation,
               f"the response echoes tools {echoed} and tool_choice {response.get('tool_choice')!r}, not what was "
               "sent", field="tools")
        return calls

    @rule(shape=object_schemas(), kind=st.sampled_from(["json_schema", "json_object"]), stream=st.booleans())
    def responses_structured(self, shape: tuple[dict[str, Any], bool], kind: str, stream: bool) -> None:
        operation = self.ctx.operation("POST", "/responses")
        schema, strict = shape
        text_format: dict[str, Any] = {"type": kind}
        if kind == "json_schema":
            text_format.update(name="record", schema=schema, strict=strict)
        final = self.respond({"input": "Describe a record as JSON.", "text": {"format": text_format}}, stream,
                             f"text.format {kind}")
        expect(dig(final, "text.format.type") == kind, f"structured.{kind}", operation,
               f"the response echoes text.format {dig(final, 'text.format')!r}", field="text.format")
        parts = [part for item in final.get("output") or [] if dig(item, "type") == "message"
                 for part in dig(item, "content") or []]
        if any(dig(part, "type") == "refusal" for part in parts):
            return  # a structured refusal (the safety checker) is an answer too
        text = "".join(dig(part, "text") or "" for part in parts)
        reason = dig(final, "incomplete_details.reason")
        self.check_structured(text, reason, schema if kind == "json_schema" else None, f"structured.{kind}",
                              operation, "output.content.text")

    @rule(stored=answered, limit=st.integers(1, 3))
    def input_items(self, stored: tuple[str, list[tuple[str, str | None]]], limit: int) -> None:
        """The input items, oldest first, match what was sent; pages of ``limit`` with ``after`` add up to it."""
        rid, sent = stored
        operation = self.ctx.operation("GET", "/responses/{id}/input_items")
        check = "responses.input_items"
        seen: list[dict[str, Any]] = []
        after: str | None = None
        for _ in range(len(sent) + 1):
            query = {"order": "asc", "limit": limit, **({"after": after} if after else {})}
            response = self.ctx.call("GET", "/responses/{id}/input_items", params={"id": rid}, query=query)
            expect_status(response, 200, check, operation, "the input items of a stored response")
            page = self.ctx.json(response, check, operation)
            data = page.get("data") or []
            expect(len(data) <= limit, check, operation, f"limit={limit} gave {len(data)} items", field="data")
            expect(page.get("first_id") == dig(data, "0.id") and page.get("last_id") == (data[-1].get("id") if data
                                                                                          else None),
                   check, operation, "first_id / last_id are not the ids of the page's first / last item",
                   field="first_id")
            seen += data
            after = page.get("last_id")
            if not page.get("has_more"):
                break
        listed = [(item.get("type"), item.get("call_id")) for item in seen]
        expect(listed == sent, check, operation, f"the input items (oldest first, {len(seen)} in pages of {limit}) "
                                                 f"are {listed}, the request sent {sent}", field="data")
        ids = [item.get("id") for item in seen]
        expect(len(set(ids)) == len(ids), check, operation, f"item ids repeat across pages: {ids}", field="data.id")
        response = self.ctx.call("GET", "/responses/{id}/input_items", params={"id": rid + "0"})
        expect_status(response, 404, check, operation, "an unknown response id")


MACHINES: tuple[type[HarnessMachine], ...] = (AgentTurns,)
