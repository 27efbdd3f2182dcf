"""Responses input: a string or items (messages, ``function_call``, ``function_call_output``,
``item_reference``), validated into the stored item form and the conversation the model reads.

Items are kept as OpenAI lists them back (``GET /v1/responses/{id}/input_items``); the conversation is
:class:`~.text.Message` turns: a run of ``function_call`` items is one assistant turn with those tool
calls (``call_id`` is the call's id), and a ``function_call_output`` is a ``tool`` turn answering it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from mockserver.skytells.inference import params
from mockserver.skytells.inference.text import Message, ToolCall

PART_TYPES = ("input_text", "output_text", "text", "input_image", "refusal")
ITEM_TYPES = ("message", "function_call", "function_call_output", "item_reference")


def _text_parts(content: Any, role: str) -> list[dict[str, Any]]:
    """A message's content as listed back: a string becomes one text part."""
    if isinstance(content, str):
        return [{"type": "output_text" if role == "assistant" else "input_text", "text": content}]
    return list(content) if isinstance(content, list) else []


def _string(item: dict[str, Any], name: str, where: str) -> str:
    value = item.get(name)
    if not isinstance(value, str) or not value:
        raise params.invalid(f"{where}.{name}", f"'{name}' must be a non-empty string")
    return value


def _output_text(value: Any, where: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return params.content_parts(value, f"{where}.output", PART_TYPES)[0]
    raise params.invalid(f"{where}.output", "'output' must be a string or an array of content parts")


#: what an input item's ``status`` may say (it is stored as ``completed`` whatever it said)
ITEM_STATUSES = ("in_progress", "completed", "incomplete")


def _item(raw: Any, where: str) -> dict[str, Any]:
    """One input item in its stored form (without an id unless given)."""
    if not isinstance(raw, dict):
        raise params.invalid(where, "Each input item must be an object")
    kind = raw.get("type", "message")
    if kind not in ITEM_TYPES:
        raise params.invalid(f"{where}.type", f"Input items of type {kind!r} are not supported; use one of "
                                              f"{', '.join(ITEM_TYPES)}")
    if "id" in raw and not isinstance(raw["id"], str):
        raise params.invalid(f"{where}.id", "'id' must be a string")
    if "status" in raw and raw["status"] not in ITEM_STATUSES:
        raise params.invalid(f"{where}.status", f"'status' must be one of {', '.join(ITEM_STATUSES)}")
    # an item keeps the id it was given; an empty one gets an id of its own, as one without does
    given = {"id": raw["id"]} if isinstance(raw.get("id"), str) and raw["id"] else {}
    if kind == "message":
        message = params.message(raw, where, PART_TYPES)
        role = "developer" if raw.get("role") == "developer" else message.role
        return {**given, "type": "message", "role": role, "content": _text_parts(raw.get("content"), role)}
    if kind == "function_call":
        arguments = _string(raw, "arguments", where)
        try:
            json.loads(arguments)
        except ValueError:
            raise params.invalid(f"{where}.arguments", "'arguments' must be JSON text") from None
        return {**given, "type": "function_call", "call_id": _string(raw, "call_id", where),
                "name": _string(raw, "name", where), "arguments": arguments, "status": "completed"}
    if kind == "function_call_output":
        return {**given, "type": "function_call_output", "call_id": _string(raw, "call_id", where),
                "output": _output_text(raw.get("output"), where), "status": "completed"}
    return {"type": "item_reference", "id": _string(raw, "id", where)}


def parse_items(value: Any) -> list[dict[str, Any]]:
    """``input``: a string (one user message) or a non-empty array of items."""
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": value}]}]
    if isinstance(value, list) and value:
        return [_item(raw, f"input[{index}]") for index, raw in enumerate(value)]
    raise params.invalid("input", "'input' must be a string or a non-empty array of input items")


def _message_turn(item: dict[str, Any]) -> Message:
    role = "system" if item["role"] == "developer" else item["role"]
    return params.message({"role": role, "content": item["content"]}, "input", PART_TYPES)


def conversation(items: list[dict[str, Any]], resolve: Callable[[str], dict[str, Any]]) -> list[Message]:
    """The turns of ``items``; ``resolve`` turns an ``item_reference`` id into the stored item."""
    turns: list[Message] = []
    for item in items:
        if item["type"] == "item_reference":
            item = resolve(item["id"])
        if item["type"] == "message":
            turns.append(_message_turn(item))
        elif item["type"] == "function_call_output":
            turns.append(Message("tool", item["output"], tool_call_id=item["call_id"]))
        else:
            call = ToolCall(item["call_id"], item["name"], item["arguments"])
            if turns and turns[-1].role == "assistant" and turns[-1].tool_calls and not turns[-1].content:
                turns[-1] = turns[-1]._replace(tool_calls=(*turns[-1].tool_calls, call))
            else:
                turns.append(Message("assistant", "", (call,)))
    return turns
