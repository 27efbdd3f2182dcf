"""Request plumbing every API shares: reading JSON bodies, API keys, JSON responses."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import SplitResult, urlsplit

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Send

from mockserver.core.bodies import declared_length_of, depth_limit, parse_json, read_body, too_large
from mockserver.core.errors import ApiError
from mockserver.core.request_facts import api_key_in, header_index, known_facts


def json_bytes(content: Any) -> bytes:
    """``content`` as compact UTF-8 JSON (no spaces, non-ASCII as is), as every API response is written.

    orjson writes it (about 10x faster than :mod:`json`, same bytes for the strings, integers, nesting and
    separators the APIs answer; floats in their shortest form, exponents as ``1e-7`` where :mod:`json` writes
    ``1e-07``). What orjson refuses -- integers beyond 64 bits, non-string keys, nesting beyond 254 -- falls back
    to :mod:`json` with the same layout.
    """
    try:
        return orjson.dumps(content)
    except orjson.JSONEncodeError:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def json_object_bytes(members: dict[str, bytes]) -> bytes:
    """A JSON object spliced from members already encoded (:func:`json_bytes`): the bytes :func:`json_bytes` writes
    for the object of their decoded values (keys must need no escaping)."""
    return b"{" + b",".join(b'"' + key.encode() + b'":' + value for key, value in members.items()) + b"}"


def json_array_bytes(items: Iterable[bytes]) -> bytes:
    """A JSON array spliced from items already encoded (:func:`json_bytes`), as :func:`json_bytes` writes it."""
    return b"[" + b",".join(items) + b"]"


class JSONResponse(Response):
    """A compact JSON response (UTF-8, no spaces): :func:`json_bytes`."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json_bytes(content)


def encoded_json_headers(body: bytes) -> list[tuple[bytes, bytes]]:
    """The headers :class:`JSONResponse` would send with ``body``: its length and ``application/json``."""
    return [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]


class EncodedJSON(Response):
    """A JSON body already encoded (:func:`json_bytes`): the headers :class:`JSONResponse` would send
    (``content-length``, ``content-type: application/json``), without encoding again."""

    media_type = "application/json"

    def __init__(self, body: bytes, status_code: int = 200) -> None:
        self.status_code = status_code
        self.background = None
        self.body = body
        self.raw_headers = encoded_json_headers(body)


def encoded_json_start(body: bytes, status: int = 200) -> Message:
    """The response start an :class:`EncodedJSON` response of ``body`` sends (same headers)."""
    return {"type": "http.response.start", "status": status, "headers": encoded_json_headers(body)}


async def send_encoded_json(send: Send, body: bytes, status: int = 200) -> None:
    """What an :class:`EncodedJSON` response sends, without making one: the start (same headers) and the body."""
    await send(encoded_json_start(body, status))
    await send({"type": "http.response.body", "body": body})


async def read_json_object(request: Request, max_bytes: int, max_depth: int | None = None) -> dict[str, Any]:
    """The request body as a strict JSON object (see :mod:`mockserver.core.bodies`), or a clear 4xx:
    :func:`read_json_body` then :func:`json_object_of`.

    ``max_depth`` defaults to the server's setting, which the boundary middleware puts in the scope. A body the
    rule pipeline already read ahead and parsed (:mod:`mockserver.core.request_facts`) is not read or parsed again.
    """
    return json_object_of(request, await read_json_body(request, max_bytes), max_depth)


async def read_bounded_body(request: Request, max_bytes: int) -> bytes:
    """The request body, refused with a 413 (:func:`~mockserver.core.bodies.too_large`) when the ``Content-Length``
    it declares, or the bytes that arrive, pass ``max_bytes``. Headers come from the request's header index (no
    Starlette ``Headers`` made)."""
    declared = declared_length_of(header_index(request.scope).get(b"content-length"))
    if declared is not None and declared > max_bytes:
        raise too_large(max_bytes)
    return await read_body(request.receive, max_bytes)


async def read_json_body(request: Request, max_bytes: int) -> bytes:
    """The request body's bytes, refused as :func:`read_json_object` refuses it before parsing: too large (413),
    empty (400) or not sent as JSON (415). A body the rule pipeline read ahead is not read again."""
    facts = known_facts(request.scope)
    ahead = facts.body if facts is not None else None  # read ahead only when declared within the limit
    body = await read_bounded_body(request, max_bytes) if ahead is None else ahead
    refusal = json_body_refusal(header_index(request.scope).get(b"content-type"), body, max_bytes)
    if refusal is not None:
        raise refusal
    return body


def json_body_refusal(raw_type: bytes | None, body: bytes, max_bytes: int) -> ApiError | None:
    """Why a read body is refused before parsing (``raw_type``: its ``Content-Type``): too large (413), empty (400)
    or not sent as JSON (415); None when it may be parsed."""
    if len(body) > max_bytes:
        return too_large(max_bytes)
    if not body.strip():
        return ApiError(400, "INVALID_INPUT", "Request body is empty; a JSON object is required")
    content_type = "" if raw_type is None else raw_type.decode("latin-1")
    media = content_type.split(";")[0].strip().lower()
    if media and media != "application/json" and not media.endswith("+json"):
        return ApiError(415, "UNSUPPORTED_MEDIA_TYPE", f"Content-Type must be application/json, got {content_type!r}")
    return None


def json_object_of(request: Request, body: bytes, max_depth: int | None = None) -> dict[str, Any]:
    """``body`` (from :func:`read_json_body`) as a strict JSON object, or a 400; ``max_depth`` as in
    :func:`read_json_object`. The rule pipeline's parse of a body it read ahead is reused."""
    depth = max_depth or depth_limit(request.scope)
    facts = known_facts(request.scope)
    data = facts.json(depth) if facts is not None and facts.body is not None else None
    if not isinstance(data, dict):
        data = parse_json(body, depth)  # not read ahead, or not an object: parse (and refuse) it here
    if not isinstance(data, dict):
        raise ApiError(400, "INVALID_INPUT", "Request body must be a JSON object")
    return data


def api_key_from(request: Request) -> str | None:
    """The API key of a request: the one its facts name (:func:`~mockserver.core.request_facts.request_key`),
    else from its headers."""
    facts = known_facts(request.scope)
    return facts.key if facts is not None else api_key_in(request.headers)


def accepts_event_stream(request: Request) -> bool:
    return "text/event-stream" in request.headers.get("accept", "").lower()


def split_url(value: str) -> SplitResult | None:
    """``urlsplit`` that answers None for text it cannot split (``https://[``) instead of raising."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- a bad port only raises when read
    except ValueError:
        return None
    return parts
