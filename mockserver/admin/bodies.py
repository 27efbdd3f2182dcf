"""Reading control-plane request bodies: JSON, with a 400 that says what is wrong."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from mockserver.admin.errors import bad_request


async def json_body(request: Request) -> Any:
    """The request body as JSON (any value); 400 when missing or malformed."""
    raw = await request.body()
    if not raw.strip():
        raise bad_request("a JSON body is required")
    return _parse(raw)


async def optional_json(request: Request) -> dict[str, Any]:
    """A JSON object body, or ``{}`` when there is no body at all."""
    raw = await request.body()
    if not raw.strip():
        return {}
    data = _parse(raw)
    if not isinstance(data, dict):
        raise bad_request("body must be a JSON object")
    return data


def _parse(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"body is not valid JSON: {exc}") from None
