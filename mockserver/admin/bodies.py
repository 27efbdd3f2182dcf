"""Reading control-plane request bodies through the shared boundary (:mod:`mockserver.core.bodies`).

The same size limit while streaming (the control plane's own, ``max_control_body_bytes``), depth limit
and strict JSON as the APIs; a refusal is a 400 (413 when too large) in the control plane's format
naming the offending field.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from mockserver.admin.errors import bad_request
from mockserver.core.bodies import BodyError, body_limit, depth_limit, parse_json
from mockserver.core.http import read_bounded_body


async def _raw(request: Request) -> bytes:
    return await read_bounded_body(request, body_limit(request.scope))


async def json_body(request: Request) -> Any:
    """The request body as JSON (any value); 400 when missing or malformed."""
    raw = await _raw(request)
    if not raw.strip():
        raise bad_request("a JSON body is required")
    return _parse(raw, request)


async def optional_json(request: Request) -> dict[str, Any]:
    """A JSON object body, or ``{}`` when there is no body at all."""
    raw = await _raw(request)
    if not raw.strip():
        return {}
    data = _parse(raw, request)
    if not isinstance(data, dict):
        raise bad_request("body must be a JSON object")
    return data


def _parse(raw: bytes, request: Request) -> Any:
    try:
        return parse_json(raw, depth_limit(request.scope))
    except BodyError as exc:
        raise bad_request(exc.message, param=exc.param) from None
