"""Validation of Inference request bodies: every bad value is an :class:`InvalidInput` that names its field."""

from __future__ import annotations

import functools
import math
import re
from typing import Any

from mockserver.core.errors import ELSEWHERE, INVALID, MISSING, UNKNOWN, UNSUPPORTED, InvalidInput
from mockserver.skytells.catalog import PREDICTIONS_ENDPOINT, Catalog, Model
from mockserver.skytells.inference.text import ROLES, Message, ToolCall
from mockserver.spec.requests import property_problem
from mockserver.spec.validation import contract

CHAT = "/v1/chat/completions"
RESPONSES = "/v1/responses"
EMBEDDINGS = "/v1/embeddings"
DEFAULT_MAX_TOKENS = 8192
MAX_STOP_SEQUENCES = 4


def invalid(field: str, message: str, reason: str = INVALID) -> InvalidInput:
    """The error for a bad value at ``field`` (a path in the request body)."""
    return InvalidInput(field, message, reason)


def missing(field: str) -> InvalidInput:
    """The error for an absent required ``field``."""
    return InvalidInput(field, f"Missing required parameter: '{field}'", MISSING)


def model_for(body: dict[str, Any], catalog: Catalog, endpoint: str) -> Model:
    """The catalog model named by ``body["model"]`` if it is served on ``endpoint``.

    Unknown names are :class:`~mockserver.core.errors.NotFound` (from the catalog); a known model served
    elsewhere is an :class:`InvalidInput` (reason ``ELSEWHERE``) that names the endpoint(s) it is served on.
    """
    name = body.get("model")
    if name is None:
        raise missing("model")
    if not isinstance(name, str) or not name:
        raise invalid("model", "'model' must be a non-empty string")
    model = catalog.get(name)
    if endpoint in model.endpoints:
        return model
    served = [e for e in model.endpoints if e != PREDICTIONS_ENDPOINT] or model.endpoints
    where = " or ".join(f"POST {e}" for e in served)
    kind = "a text" if model.is_text else f"an {model.type}" if model.type[:1] in "aeiou" else f"a {model.type}"
    raise InvalidInput("model", f"Model '{model.namespace}' is {kind} model that is not served on POST {endpoint}; "
                                f"use {where}", ELSEWHERE, details={"endpoints": model.endpoints})


def number(body: dict[str, Any], name: str, low: float, high: float, default: float) -> float:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise invalid(name, f"'{name}' must be a number between {low:g} and {high:g}, got {value!r}")
    if not low <= value <= high:
        raise invalid(name, f"'{name}' must be between {low:g} and {high:g}, got {value!r}")
    return float(value)


def integer(body: dict[str, Any], name: str, minimum: int, default: int | None,
            maximum: int | None = None) -> int | None:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(name, f"'{name}' must be an integer, got {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"at least {minimum}" if maximum is None else f"between {minimum} and {maximum}"
        raise invalid(name, f"'{name}' must be {bound}, got {value}")
    return value


def boolean(body: dict[str, Any], name: str, default: bool, within: str = "") -> bool:
    """``body[name]`` as a boolean; ``within`` is the path of ``body`` in the request, for the error's param."""
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise invalid(f"{within}{name}", f"'{name}' must be a boolean, got {value!r}")
    return value


def optional_string(body: dict[str, Any], name: str, within: str = "") -> str | None:
    """``body[name]`` as a string or None; ``within`` as in :func:`boolean`."""
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise invalid(f"{within}{name}", f"'{name}' must be a string, got {type(value).__name__}")
    return value


def stop_sequences(body: dict[str, Any]) -> tuple[str, ...]:
    """``stop``: a string or up to four strings."""
    value = body.get("stop")
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise invalid("stop", "'stop' must be a string or an array of strings")
    if len(value) > MAX_STOP_SEQUENCES:
        raise invalid("stop", f"'stop' takes at most {MAX_STOP_SEQUENCES} sequences, got {len(value)}")
    if any(item == "" for item in value):
        raise invalid("stop", "stop sequences must not be empty")
    return tuple(value)


IMAGE_TOKENS = {"low": 85, "high": 765, "auto": 765}


@functools.cache
def image_url_pattern() -> re.Pattern[str]:
    """The contract's pattern of an image URL (one definition: ``ImageUrl`` in contracts/skytells.yaml)."""
    return re.compile(contract("skytells").at("/components/schemas/ImageUrl")["pattern"])


def image_tokens(url: Any, detail: Any, url_param: str, detail_param: str) -> int:
    """What an image part counts for: 85 tokens at ``detail: "low"``, 765 otherwise (never fetched)."""
    if not isinstance(url, str) or not image_url_pattern().fullmatch(url):  # fullmatch: no "$" before a newline
        raise invalid(url_param, "Image URLs must be http(s) URLs or data:image/...;base64 URLs")
    detail = "auto" if detail is None else detail
    if detail not in IMAGE_TOKENS:
        raise invalid(detail_param, "'detail' must be one of low, high, auto")
    return IMAGE_TOKENS[detail]


def _image_part(part: dict[str, Any], where: str) -> int:
    if part["type"] == "image_url":  # chat: {type, image_url: {url, detail}}
        holder = part.get("image_url")
        if isinstance(holder, str):
            holder = {"url": holder}
        if not isinstance(holder, dict):
            raise invalid(f"{where}.image_url", "'image_url' must be an object {url, detail}")
        return image_tokens(holder.get("url"), holder.get("detail"), f"{where}.image_url.url",
                            f"{where}.image_url.detail")
    if part.get("file_id") is not None and part.get("image_url") is None:  # Responses: {type, image_url|file_id}
        raise invalid(f"{where}.file_id", "Images by file_id are not supported; send image_url")
    return image_tokens(part.get("image_url"), part.get("detail"), f"{where}.image_url", f"{where}.detail")


def content_parts(content: Any, param: str, part_types: tuple[str, ...]) -> tuple[str, int]:
    """A message's content as (text, image tokens): a string, or an array of text and image parts."""
    if isinstance(content, str):
        return content, 0
    if not isinstance(content, list):
        raise invalid(param, "Message content must be a string or an array of content parts")
    texts: list[str] = []
    images = 0
    for index, part in enumerate(content):
        where = f"{param}[{index}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in IMAGE_PARTS and kind in part_types:
            images += _image_part(part, where)
        elif kind in part_types and isinstance(part.get("text" if kind != "refusal" else "refusal"), str):
            texts.append(part["text" if kind != "refusal" else "refusal"])
        else:
            raise invalid(where, f"Unsupported content part {kind!r}; supported: {', '.join(part_types)}")
    return "".join(texts), images


IMAGE_PARTS = ("image_url", "input_image")
CHAT_PARTS = ("text", "image_url", "refusal")


def _tool_calls(value: Any, where: str) -> tuple[ToolCall, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise invalid(where, "'tool_calls' must be an array")
    calls = []
    for index, call in enumerate(value):
        spot = f"{where}[{index}]"
        function = call.get("function") if isinstance(call, dict) else None
        if (not isinstance(function, dict) or not isinstance(call.get("id"), str)
                or not isinstance(function.get("name"), str) or not isinstance(function.get("arguments"), str)):
            raise invalid(spot, "A tool call is {id, type: 'function', function: {name, arguments}}")
        calls.append(ToolCall(call["id"], function["name"], function["arguments"]))
    return tuple(calls)


def message(item: Any, where: str, part_types: tuple[str, ...]) -> Message:
    """One chat-style message; roles system/developer/user/assistant/tool."""
    if not isinstance(item, dict):
        raise invalid(where, "Each message must be an object with 'role' and 'content'")
    # The catalog documents system/user/assistant; the OpenAI SDKs also send ``developer`` (the newer
    # name for system instructions, taken as system) and ``tool`` (a function's result).
    role = "system" if item.get("role") == "developer" else item.get("role")
    if role not in ROLES:
        raise invalid(f"{where}.role", f"Invalid role {item.get('role')!r}; expected one of "
                                       f"{', '.join((*ROLES, 'developer'))}")
    if "name" in item and not isinstance(item["name"], str):  # the participant's name (OpenAI's ``name``)
        raise invalid(f"{where}.name", "'name' must be a string")
    content = item.get("content")
    if content is None and role == "assistant":
        content = ""
    text, images = content_parts(content, f"{where}.content", part_types)
    call_id = item.get("tool_call_id")
    if role == "tool" and not isinstance(call_id, str):
        raise invalid(f"{where}.tool_call_id", "A tool message needs the 'tool_call_id' it answers")
    calls = _tool_calls(item.get("tool_calls"), f"{where}.tool_calls") if role == "assistant" else ()
    return Message(role, text, calls, call_id if role == "tool" else None, images)


def messages(value: Any, param: str, part_types: tuple[str, ...] = CHAT_PARTS) -> list[Message]:
    """Chat-style messages (see :func:`message`)."""
    if not isinstance(value, list) or not value:
        raise invalid(param, f"'{param}' must be a non-empty array of messages")
    return [message(item, f"{param}[{index}]", part_types) for index, item in enumerate(value)]


def accepted_types(body: dict[str, Any], names: frozenset[str], schema: str) -> None:
    """Invalid input for a parameter the mock accepts without effect (``seed``, ``user`` ...) whose value has the
    wrong type or range: it is checked against the contract's schema of that property, as OpenAI checks it."""
    for name in names & body.keys():
        if body[name] is None:
            continue
        problem = property_problem("skytells", schema, name, body[name])
        if problem is not None:
            raise invalid(problem.field, problem.message)


def known_only(body: dict[str, Any], known: frozenset[str], unsupported: dict[str, str]) -> None:
    """Invalid input for a parameter the endpoint does not know (named, as OpenAI names it) or does not support."""
    for name in body:
        if name in unsupported and body[name] is not None:
            raise InvalidInput(name, unsupported[name], UNSUPPORTED)
        if name not in known and name not in unsupported:
            raise InvalidInput(name, f"Unrecognized request argument supplied: {name}", UNKNOWN)
