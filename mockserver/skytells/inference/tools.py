"""Tool calling: the tools a request offers, whether a turn calls them, which ones, and the calls.

The rule (README, "Tool calls and structured outputs"):

* ``tool_choice: "none"`` (or no tools) never calls; ``"required"`` and a named function always call;
  ``"auto"`` (the default when tools are given) calls when the last message is the user's, and answers in
  text after a tool result (a ``tool`` message / ``function_call_output`` item).
* A named function is the one called. Otherwise a tool *matches* the last user message when a word of its
  name (split on ``_``, ``-`` and camelCase) or a long word of its description appears in it; with
  ``parallel_tool_calls`` (the default) every matching tool is called (at most :data:`MAX_CALLS`),
  without it only the best match. When nothing matches, one tool is picked by the seed.
* Arguments are a seeded instance of the function's ``parameters`` schema (``strict``: every property,
  no others), drawn from the conversation, so the same conversation always gets the same calls.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mockserver.core.randomness import Randomness
from mockserver.core.schema_instances import SchemaProblem, check_schema, instance
from mockserver.skytells.inference import params
from mockserver.skytells.inference.text import Message, ToolCall, conversation_digest

MAX_TOOLS = 128
MAX_CALLS = 8
NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
CHOICES = ("none", "auto", "required")
EMPTY_PARAMETERS: dict[str, Any] = {"type": "object", "properties": {}}
_WORD = re.compile(r"[A-Za-z][a-z]*|[0-9]+")


@dataclass(frozen=True)
class Tool:
    """A function the model may call."""

    name: str
    description: str = ""
    parameters: Mapping[str, Any] | None = None
    strict: bool = False
    param: str = "tools"  # where the parameters schema was given, named by errors

    def definition_text(self) -> str:
        """The tool as the prompt sees it (counted as prompt tokens)."""
        return f"{self.name} {self.description} {json.dumps(self.parameters or {}, separators=(',', ':'))}"


@dataclass(frozen=True)
class ToolUse:
    """The tools of a request and how they may be used."""

    tools: tuple[Tool, ...] = ()
    choice: str = "none"  # "none" | "auto" | "required" | "function"
    function: str | None = None  # the named function when choice == "function"
    parallel: bool = True

    def definitions_text(self) -> list[str]:
        return [tool.definition_text() for tool in self.tools]


NO_TOOLS = ToolUse()


def _tool(spec: Any, where: str, nested: bool) -> Tool:
    """One function tool; ``nested`` is the chat form ``{type, function: {...}}``, else the Responses form."""
    if not isinstance(spec, dict):
        raise params.invalid(where, "Each tool must be an object")
    if spec.get("type") != "function":
        raise params.invalid(f"{where}.type", f"Unsupported tool type {spec.get('type')!r}; only 'function' tools "
                                              "are supported")
    body, prefix = (spec.get("function"), f"{where}.function") if nested else (spec, where)
    if not isinstance(body, dict):
        raise params.invalid(prefix, "'function' must be an object with a 'name'")
    name = body.get("name")
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise params.invalid(f"{prefix}.name", "Function names are 1 to 64 characters of a-z, A-Z, 0-9, _ and -")
    description = params.optional_string(body, "description", within=f"{prefix}.")
    strict = params.boolean(body, "strict", False, within=f"{prefix}.")
    schema = body.get("parameters")
    if schema is not None:
        _check_parameters(schema, f"{prefix}.parameters")
    return Tool(name, description or "", schema, strict, f"{prefix}.parameters")


def _check_parameters(schema: Any, param: str) -> None:
    if not isinstance(schema, dict) or schema.get("type", "object") != "object":
        raise params.invalid(param, "Function parameters must be a JSON Schema of type 'object'")
    try:
        check_schema(schema)
    except SchemaProblem as problem:
        raise params.invalid(param, f"Invalid schema for function parameters: {problem}") from None


def _choice(value: Any, names: set[str], nested: bool) -> tuple[str, str | None]:
    if value is None:
        return ("auto" if names else "none"), None
    if isinstance(value, str):
        if value not in CHOICES:
            raise params.invalid("tool_choice", f"'tool_choice' must be one of {', '.join(CHOICES)} or a function")
        if value != "none" and not names:
            raise params.invalid("tool_choice", f"tool_choice '{value}' requires 'tools'")
        return value, None
    holder = value.get("function") if nested and isinstance(value, dict) else value
    name = holder.get("name") if isinstance(holder, dict) else None
    if not isinstance(value, dict) or value.get("type") != "function" or not isinstance(name, str):
        raise params.invalid("tool_choice", "A named tool_choice is {type: 'function', "
                                            + ("function: {name}}" if nested else "name}"))
    if name not in names:
        raise params.invalid("tool_choice", f"tool_choice names function '{name}', which is not in 'tools'")
    return "function", name


def parse(body: dict[str, Any], nested: bool) -> ToolUse:
    """``tools``, ``tool_choice`` and ``parallel_tool_calls`` of a chat (``nested``) or Responses body."""
    raw = body.get("tools")
    if raw is None and body.get("tool_choice") is None and body.get("parallel_tool_calls") is None:
        return NO_TOOLS  # what the checks below make of no tools (most requests)
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise params.invalid("tools", "'tools' must be an array of function tools")
    if len(raw) > MAX_TOOLS:
        raise params.invalid("tools", f"At most {MAX_TOOLS} tools per request, got {len(raw)}")
    tools = tuple(_tool(spec, f"tools[{index}]", nested) for index, spec in enumerate(raw))
    names = {tool.name for tool in tools}
    if len(names) != len(tools):
        raise params.invalid("tools", "Function names must be unique")
    choice, function = _choice(body.get("tool_choice"), names, nested)
    parallel = params.boolean(body, "parallel_tool_calls", True)
    return ToolUse(tools, choice, function, parallel)


def words(text: str) -> set[str]:
    """Lower-cased words of ``text`` (camelCase and snake_case split)."""
    return {word.lower() for word in _WORD.findall(text)}


def score(tool: Tool, asked: set[str]) -> int:
    """How well ``tool`` matches the words of the user's message: name words count double."""
    name_words = {w for w in words(tool.name) if len(w) >= 3} - {"get", "set", "the", "and", "for"}
    long_words = {w for w in words(tool.description) if len(w) >= 5}
    return 2 * len(name_words & asked) + len(long_words & asked)


def last_user_text(conversation: Sequence[Message]) -> str:
    for message in reversed(conversation):
        if message.role == "user":
            return message.content
    return ""


def chosen(use: ToolUse, conversation: Sequence[Message], rng: Randomness, model: str) -> list[Tool]:
    """The tools this turn calls (empty: it answers in text)."""
    if use.choice == "none" or not use.tools:
        return []
    if use.choice == "function":
        return [tool for tool in use.tools if tool.name == use.function]
    if use.choice == "auto" and (not conversation or conversation[-1].role != "user"):
        return []
    asked = words(last_user_text(conversation))
    ranked = sorted(((score(tool, asked), -index, tool) for index, tool in enumerate(use.tools)),
                    key=lambda entry: entry[:2], reverse=True)
    matching = [tool for points, _, tool in ranked if points > 0]
    if not matching:
        pick = rng.rng(f"tool-pick:{model}:{conversation_digest(model, conversation)}")
        return [pick.choice(use.tools)]
    return matching[:MAX_CALLS] if use.parallel else matching[:1]


def arguments(tool: Tool, rng: Randomness, model: str, conversation: Sequence[Message], variant: int) -> str:
    """The call's arguments: JSON text of a seeded instance of the tool's parameters."""
    stream = rng.rng(f"tool-args:{model}:{conversation_digest(model, conversation)}:{variant}:{tool.name}")
    try:
        value = instance(tool.parameters or EMPTY_PARAMETERS, stream, strict=tool.strict,
                         hint=last_user_text(conversation))
    except SchemaProblem as problem:  # a schema the cheap check lets through but no instance satisfies
        raise params.invalid(tool.param, f"No arguments satisfy the parameters of '{tool.name}': {problem}") from None
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def calls(use: ToolUse, conversation: Sequence[Message], rng: Randomness, model: str,
          variant: int = 0) -> tuple[ToolCall, ...]:
    """The calls this turn makes (empty when it answers in text)."""
    return tuple(ToolCall("call_" + rng.token("tool-call", 24), tool.name,
                          arguments(tool, rng, model, conversation, variant))
                 for tool in chosen(use, conversation, rng, model))


def results_quote(conversation: Sequence[Message], limit: int = 400) -> str:
    """A sentence quoting the tool results that end the conversation (empty if it does not end with any)."""
    names = {call.id: call.name for message in conversation for call in message.tool_calls}
    quoted: list[str] = []
    for message in reversed(conversation):
        if message.role != "tool":
            break
        output = message.content if len(message.content) <= limit else message.content[:limit] + "..."
        quoted.append(f"{names.get(message.tool_call_id or '', 'the tool')} returned {output}")
    return "Based on the tool results: " + "; ".join(reversed(quoted)) + "." if quoted else ""
