"""The prompt text of a request body, for ``prompt`` matchers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def prompt_text(body: Any) -> str | None:
    """The prompt of a request body, whatever its shape.

    ``input.prompt`` / ``params.prompt`` / ``prompt``; chat: the message contents (text parts included),
    newest last; responses: ``input`` (a string or items) and ``instructions``.
    """
    if not isinstance(body, Mapping):
        return None
    parts: list[str] = []
    for holder in ("input", "params"):
        inner = body.get(holder)
        if isinstance(inner, Mapping) and isinstance(inner.get("prompt"), str):
            parts.append(inner["prompt"])
    if isinstance(body.get("prompt"), str):
        parts.append(body["prompt"])
    if isinstance(body.get("instructions"), str):
        parts.append(body["instructions"])
    if isinstance(body.get("input"), str):
        parts.append(body["input"])
    for listing in (body.get("messages"), body.get("input")):
        if isinstance(listing, list):
            parts.extend(_message_texts(listing))
    return "\n".join(parts) if parts else None


def _message_texts(messages: list[Any]) -> list[str]:
    texts: list[str] = []
    for message in messages:
        if not isinstance(message, Mapping):
            continue
        content = message.get("content")
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                    texts.append(part["text"])
    return texts
