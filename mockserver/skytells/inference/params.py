"""Validation of Inference request bodies: every bad value is a 400 that names its ``param``."""

from __future__ import annotations

import math
from typing import Any

from mockserver.core.errors import ApiError
from mockserver.skytells.catalog import PREDICTIONS_ENDPOINT, Catalog, Model
from mockserver.skytells.inference.text import ROLES, Message

CHAT = "/v1/chat/completions"
RESPONSES = "/v1/responses"
EMBEDDINGS = "/v1/embeddings"
DEFAULT_MAX_TOKENS = 8192
MAX_STOP_SEQUENCES = 4


def invalid(param: str, message: str, error_id: str = "INVALID_PARAMETER") -> ApiError:
    return ApiError(400, error_id, message, param=param)


def model_for(body: dict[str, Any], catalog: Catalog, endpoint: str) -> Model:
    """The catalog model named by ``body["model"]`` if it is served on ``endpoint``.

    Unknown names are 404 MODEL_NOT_FOUND; a known model served elsewhere is a 400 that names
    the endpoint(s) it is served on.
    """
    name = body.get("model")
    if name is None:
        raise invalid("model", "Missing required parameter: 'model'", "INVALID_INPUT")
    if not isinstance(name, str) or not name:
        raise invalid("model", "'model' must be a non-empty string")
    model = catalog.get(name)
    if endpoint in model.endpoints:
        return model
    served = [e for e in model.endpoints if e != PREDICTIONS_ENDPOINT] or model.endpoints
    where = " or ".join(f"POST {e}" for e in served)
    kind = "a text" if model.is_text else f"an {model.type}" if model.type[:1] in "aeiou" else f"a {model.type}"
    raise ApiError(400, "INVALID_PARAMETER",
                   f"Model '{model.namespace}' is {kind} model that is not served on POST {endpoint}; use {where}",
                   param="model", code="unsupported_endpoint", details={"endpoints": model.endpoints})


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


def boolean(body: dict[str, Any], name: str, default: bool) -> bool:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise invalid(name, f"'{name}' must be a boolean, got {value!r}")
    return value


def optional_string(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise invalid(name, f"'{name}' must be a string, got {type(value).__name__}")
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


def content_text(content: Any, param: str, part_types: tuple[str, ...]) -> str:
    """A message's content as text: a string, or an array of text parts (``{type, text}``)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for index, part in enumerate(content):
            if (not isinstance(part, dict) or part.get("type") not in part_types
                    or not isinstance(part.get("text"), str)):
                raise invalid(f"{param}[{index}]", f"Only text content parts ({', '.join(part_types)}) are supported")
            texts.append(part["text"])
        return "".join(texts)
    raise invalid(param, "Message content must be a string or an array of text parts")


def messages(value: Any, param: str, part_types: tuple[str, ...] = ("text",)) -> list[Message]:
    """Chat-style messages: roles system/user/assistant (``developer`` is taken as ``system``)."""
    if not isinstance(value, list) or not value:
        raise invalid(param, f"'{param}' must be a non-empty array of messages")
    found: list[Message] = []
    for index, item in enumerate(value):
        where = f"{param}[{index}]"
        if not isinstance(item, dict):
            raise invalid(where, "Each message must be an object with 'role' and 'content'")
        role = item.get("role")
        # The catalog documents system/user/assistant; the OpenAI SDKs also send ``developer``
        # (the newer name for system instructions), so it is accepted as a system message.
        role = "system" if role == "developer" else role
        if role not in ROLES:
            raise invalid(f"{where}.role", f"Invalid role {item.get('role')!r}; expected one of {', '.join(ROLES)}")
        content = item.get("content")
        if content is None and role == "assistant":
            content = ""
        found.append(Message(role, content_text(content, f"{where}.content", part_types)))
    return found
