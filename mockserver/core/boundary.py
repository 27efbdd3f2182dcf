"""The request boundary: limits every request meets before any API or control-plane code sees it.

:class:`mockserver.core.front.Gateway` (after the journal, around the router) enforces, with the checks here, for
both APIs and the control plane alike:

* header bytes (``max_header_bytes``): 431 in the API's error format;
* body bytes -- ``max_body_bytes`` for the APIs, ``max_control_body_bytes`` for ``/_mock`` -- refused
  up front when ``Content-Length`` declares more, and while streaming otherwise (chunked bodies,
  multipart uploads): the ``receive`` the app gets raises a 413 the moment the limit is passed;
* JSON depth (``max_json_depth``) and strictness: the limits ride in ``scope["state"]`` for
  :func:`mockserver.core.http.read_json_object` and :mod:`mockserver.admin.bodies`;
* a ``RecursionError`` anywhere below is a 400, never a 500.

:func:`protocol_error_response` renders the errors uvicorn's HTTP parser raises before any app runs
(headers beyond the parser's limit) in the same formats; :mod:`mockserver.core.wire` sends it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from starlette.routing import Mount
from starlette.types import Message, Receive

from mockserver.core.asgi import MOCK_PREFIX, ErrorRenderer
from mockserver.core.bodies import too_large
from mockserver.core.errors import ApiError
from mockserver.core.http import JSONResponse

#: Where an app built by :func:`mockserver.assembly.build_api_app` keeps its error renderer.
RENDER_STATE = "render_error"


def too_deep() -> ApiError:
    return ApiError(400, "INVALID_INPUT", "The request nests too deeply to be processed")


def headers_too_large(limit: int) -> ApiError:
    return ApiError(431, "REQUEST_HEADERS_TOO_LARGE", f"Request headers exceed {limit} bytes",
                    headers={"Connection": "close"})


def limited_receive(receive: Receive, limit: int, refusal: Callable[[int], Exception] = too_large) -> Receive:
    """``receive`` that raises ``refusal(limit)`` (a 413) once more than ``limit`` body bytes have arrived, so a
    chunked body is refused without reading the rest."""
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise refusal(limit)
        return message

    return wrapped


# -- errors before any app runs ------------------------------------------------------------------


def renderer_for(app: Any, path: str, control_render: ErrorRenderer) -> tuple[ErrorRenderer, str]:
    """The error renderer (and the path below any mount) for a request to ``path`` on ``app``."""
    for route in getattr(app, "routes", None) or []:
        if isinstance(route, Mount) and route.path and (path == route.path or path.startswith(route.path + "/")):
            return renderer_for(route.app, path[len(route.path):] or "/", control_render)
    if path.startswith(MOCK_PREFIX):
        return control_render, path
    render = getattr(getattr(app, "state", None), RENDER_STATE, None)
    return (render or control_render), path


def protocol_error_response(app: Any, control_render: ErrorRenderer, head: bytes, status: int, max_header: int,
                            ) -> bytes:
    """A whole HTTP/1.1 response (``Connection: close``) for a request the HTTP parser refused."""
    parts = head.split(b"\r\n", 1)[0].split(b" ")
    path = parts[1].decode("latin-1").split("?")[0] if len(parts) > 1 else "/"
    error = headers_too_large(max_header) if status == 431 else \
        ApiError(400, "INVALID_INPUT", "Invalid HTTP request received")
    render, inner = renderer_for(app, path, control_render)
    request_id = "req_" + secrets.token_hex(12)
    body = JSONResponse(render(error, inner, request_id)).body
    head_lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", "content-type: application/json",
                  f"content-length: {len(body)}", "connection: close", f"x-request-id: {request_id}"]
    return ("\r\n".join(head_lines) + "\r\n\r\n").encode() + body


ProtocolErrorWriter = Callable[[bytes, int], bytes]
