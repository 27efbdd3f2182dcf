"""Request plumbing shared by both APIs: reading JSON bodies, API keys, JSON responses."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import SplitResult, urlsplit

from starlette.requests import Request
from starlette.responses import Response

from mockserver.core.bodies import declared_length, depth_limit, parse_json, read_body, too_large
from mockserver.core.errors import ApiError


class JSONResponse(Response):
    """A compact JSON response (UTF-8, no spaces)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


async def read_json_object(request: Request, max_bytes: int, max_depth: int | None = None) -> dict[str, Any]:
    """The request body as a strict JSON object (see :mod:`mockserver.core.bodies`), or a clear 4xx.

    ``max_depth`` defaults to the server's setting, which the boundary middleware puts in the scope.
    """
    declared = declared_length(request.headers)
    if declared is not None and declared > max_bytes:
        raise too_large(max_bytes)
    content_type = request.headers.get("content-type", "")
    body = await read_body(request.stream(), max_bytes)
    if not body.strip():
        raise ApiError(400, "INVALID_INPUT", "Request body is empty; a JSON object is required")
    media = content_type.split(";")[0].strip().lower()
    if media and media != "application/json" and not media.endswith("+json"):
        raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE",
                       f"Content-Type must be application/json, got {content_type!r}")
    data = parse_json(body, max_depth or depth_limit(request.scope))
    if not isinstance(data, dict):
        raise ApiError(400, "INVALID_INPUT", "Request body must be a JSON object")
    return data


def api_key_in(headers: Mapping[str, str], query_key: str | None = None) -> str | None:
    """The API key a request presents: ``x-api-key``, else ``Authorization: Bearer``, else ``query_key``.

    ``headers`` is looked up by lower-case name (Starlette's ``Headers`` or a lower-cased dict).
    """
    key = (headers.get("x-api-key") or "").strip()
    if key:
        return key
    scheme, _, token = (headers.get("authorization") or "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return query_key.strip() if query_key and query_key.strip() else None


def api_key_from(request: Request) -> str | None:
    """The API key of a request, from its headers."""
    return api_key_in(request.headers)


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
