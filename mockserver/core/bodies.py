"""The one request-body boundary for both APIs and the control plane: bounded reading, strict JSON.

* **Size**: :func:`read_body` stops at ``max_bytes`` while the body streams (chunked bodies too), so an
  oversized body is refused after reading at most ``max_bytes`` plus one chunk, never all of it.
* **Strict JSON** (:func:`parse_json`): orjson parses -- it refuses ``NaN``, ``Infinity``, numbers that
  overflow a double (``1e400``), lone surrogates (escaped ``"\\ud800"`` or raw bytes) and a UTF-8 BOM,
  and stops at 1024 levels without recursing in Python. Then an iterative walk refuses anything nested
  deeper than ``max_depth``. A refusal is a :class:`BodyError` (400) whose ``param`` is the JSON path of
  the offending value (``input.guidance``, ``messages[0].content``) when it can be found.

orjson is used (not ``json`` plus hooks) because it is strict by construction -- ``json.loads`` accepts
NaN, ``1e400`` (as inf) and lone surrogates, and recurses in C until ``RecursionError`` -- and measured
1.0 ms against 1.4 ms (json with a ``parse_constant`` hook) on a 650 kB chat body.
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson
from starlette.requests import ClientDisconnect
from starlette.types import Message, Receive

from mockserver.core.errors import ApiError

#: Default nesting limit: the deepest document in the docs and fixtures (the model catalog) is 11 levels.
DEFAULT_MAX_DEPTH = 64


#: Where the boundary middleware puts the request's limits in ``scope["state"]``.
DEPTH_STATE = "max_json_depth"
BYTES_STATE = "max_body_bytes"
#: Body limit when no middleware set one (an app used without the boundary).
DEFAULT_MAX_BYTES = 10 * 1024 * 1024


def body_limit(scope: Any) -> int:
    """The body size limit for this request (API or control plane), as the boundary middleware set it."""
    return int(scope.get("state", {}).get(BYTES_STATE) or DEFAULT_MAX_BYTES)


def depth_limit(scope: Any) -> int:
    """The JSON depth limit for this request (the server's setting, else :data:`DEFAULT_MAX_DEPTH`)."""
    return int(scope.get("state", {}).get(DEPTH_STATE) or DEFAULT_MAX_DEPTH)


class BodyError(ApiError):
    """A request body the boundary refuses (400 bad JSON, 413 too large)."""


def too_large(max_bytes: int) -> BodyError:
    """413, with ``Connection: close``: the rest of the body is never read, so the connection cannot be reused."""
    return BodyError(413, "PAYLOAD_TOO_LARGE", f"Request body exceeds {max_bytes} bytes",
                     headers={"Connection": "close"})


def declared_length_of(raw: bytes | None) -> int | None:
    """The length a raw ``Content-Length`` value declares, if it is a number of ASCII digits (None: the header is
    absent or not a number)."""
    if raw is None:
        return None
    declared = raw.strip()
    return int(declared) if declared.isdigit() else None


async def read_body(receive: Receive, max_bytes: int) -> bytes:
    """The whole body from the ASGI ``receive`` channel; :func:`too_large` as soon as it passes ``max_bytes``.

    Read straight from the channel (Starlette's ``Request.stream()`` is an async generator, which the event loop
    registers in a weak set and the collector tracks: a fifth of this function's cost on a small body); a client
    that disconnects first is Starlette's ``ClientDisconnect``, as from ``Request.stream()``.
    """
    message = await receive()
    if message["type"] == "http.request" and not message.get("more_body", False):
        body = message.get("body", b"")  # one message: the whole body (nearly every request)
    else:
        body = await _read_chunks(receive, message, max_bytes)
    if len(body) > max_bytes:
        raise too_large(max_bytes)
    return body


async def _read_chunks(receive: Receive, message: Message, max_bytes: int) -> bytes:
    """The body sent in several messages, from the first (``message``) on; refused once past ``max_bytes``."""
    body = bytearray()
    while True:
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        if message["type"] == "http.request":
            body.extend(message.get("body", b""))
            if len(body) > max_bytes:
                raise too_large(max_bytes)
            if not message.get("more_body", False):
                return bytes(body)
        message = await receive()


# -- strict JSON ---------------------------------------------------------------------------------


def parse_json(raw: bytes, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """``raw`` as strict JSON, at most ``max_depth`` levels deep; :class:`BodyError` (400) otherwise."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _refusal(raw, str(exc)) from None
    if raw.count(b"[") + raw.count(b"{") <= max_depth:  # each container opens with one (strings may hold more)
        return value
    too_deep = path_deeper_than(value, max_depth)
    if too_deep is not None:
        raise BodyError(400, "INVALID_INPUT", f"JSON nests deeper than {max_depth} levels at {too_deep}",
                        param=too_deep)
    return value


def path_deeper_than(value: Any, max_depth: int) -> str | None:
    """The JSON path of the first container nested deeper than ``max_depth`` (iteratively), else None.

    A body within the limit (nearly every one) is walked once without paths; only one beyond it is walked again to
    name where (a path per value cost ~5 µs on a three-field body).
    """
    if not _nests_deeper_than(value, max_depth):
        return None
    stack: list[tuple[Any, int, tuple[str | int, ...]]] = [(value, 1, ())]
    while stack:
        item, depth, path = stack.pop()
        if isinstance(item, dict | list):
            if depth > max_depth:
                return json_path(path)
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            stack.extend((child, depth + 1, (*path, key)) for key, child in pairs)
    return None


def _nests_deeper_than(value: Any, max_depth: int) -> bool:
    """Whether a container in ``value`` sits deeper than ``max_depth`` (containers only are stacked)."""
    if not isinstance(value, dict | list):
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > max_depth:
            return True
        for child in item.values() if isinstance(item, dict) else item:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return False


def json_path(parts: tuple[str | int, ...]) -> str:
    """``("messages", 0, "content")`` -> ``messages[0].content``; the root is ``$``."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "$"


def _refusal(raw: bytes, reason: str) -> BodyError:
    """The 400 for a body orjson refused, naming the offending value's path when there is one."""
    if reason.startswith("depth limit exceeded"):
        path = path_beyond_depth(raw, DEFAULT_MAX_DEPTH)
        where = f" at {path}" if path else ""
        return BodyError(400, "INVALID_INPUT", f"JSON nests too deeply (more than 1024 levels){where}", param=path)
    path, what = _find_non_strict(raw)
    if path is not None:
        return BodyError(400, "INVALID_INPUT", f"{path}: {what} is not allowed in JSON", param=path)
    return BodyError(400, "INVALID_INPUT", f"Request body is not valid JSON: {reason}")


def _string_end(text: str, start: int) -> int:
    """The index just past the JSON string that opens at ``text[start]`` (a quote)."""
    end = start + 1
    while end < len(text) and text[end] != '"':
        end += 2 if text[end] == "\\" else 1
    return end + 1


def path_beyond_depth(raw: bytes, max_depth: int) -> str | None:
    """The path of the first container deeper than ``max_depth``, found by scanning the text (no parse, no
    recursion), for documents too deep to parse at all. None if the text never nests that deep."""
    text = raw.decode("utf-8", "replace")
    path: list[str | int] = []
    open_kinds: list[str] = []
    key: str | int = 0
    expect_key = False
    i = 0
    while i < len(text):
        char = text[i]
        if char == '"':
            end = _string_end(text, i)
            if expect_key:
                key, expect_key = _key_text(text[i:end]), False
            i = end
            continue
        if char in "{[":
            if open_kinds:
                path.append(key)
            if len(open_kinds) + 1 > max_depth:
                return json_path(tuple(path))
            open_kinds.append(char)
            key, expect_key = 0, char == "{"
        elif char in "}]" and open_kinds:
            open_kinds.pop()
            key = path.pop() if path else 0
        elif char == "," and open_kinds:
            if open_kinds[-1] == "[":
                key = key + 1 if isinstance(key, int) else 0
            else:
                expect_key = True
        i += 1
    return None


def _key_text(quoted: str) -> str:
    try:
        return str(json.loads(quoted))
    except ValueError:
        return quoted.strip('"')


class _Constant(str):
    """A ``NaN`` / ``Infinity`` literal the lenient parser met (to be located)."""


def _find_non_strict(raw: bytes) -> tuple[str | None, str]:
    """Where a document that only lenient JSON accepts breaks the rules: (path, what) or (None, "")."""
    try:
        value = json.loads(raw, parse_constant=_Constant)
    except (ValueError, RecursionError):
        return None, ""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, _Constant):
            return json_path(path), f"the non-finite number {item}"
        if isinstance(item, float) and not math.isfinite(item):
            return json_path(path), "a number too large for a double"
        if isinstance(item, str) and _has_lone_surrogate(item):
            return json_path(path), "a lone surrogate (\\ud800-\\udfff)"
        if isinstance(item, dict):
            for key, child in reversed(item.items()):
                if _has_lone_surrogate(key):
                    return json_path((*path, key.encode("utf-8", "replace").decode())), "a lone surrogate in a key"
                stack.append((child, (*path, key)))
        elif isinstance(item, list):
            stack.extend((child, (*path, index)) for index, child in reversed(list(enumerate(item))))
    return None, ""


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
