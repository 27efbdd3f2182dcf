"""The scenario middleware: selects the rules for each API request and applies the chosen fault.

For every API request (not ``/_mock…``) it reads the facts rules match on (api, method, path,
route template, key, model, prompt) -- buffering a JSON body up to ``max_body_bytes`` and replaying
it to the app unchanged -- asks :meth:`Rules.select` with the ``X-Mock-Scenario`` header, keeps the
:class:`~mockserver.core.scenarios.Selection` in ``scope["state"][SCOPE_KEY]`` for domain code, and
applies the fault, if any:

* ``latency``: real time (``asyncio.sleep``) before the normal answer -- it simulates a slow
  network, not slow work, so it does not move the virtual clock;
* ``error`` / ``rate_limit``: the API's own error body (429 with ``Retry-After`` and
  ``retry-after-ms``), without calling the app;
* ``reset`` / ``empty`` / ``sse_cut``: the connection is dropped (see :mod:`mockserver.core.wire`).

A bad ``X-Mock-Scenario`` header is a 400 ``INVALID_SCENARIO`` in the API's error format.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.core.asgi import ErrorRenderer, error_response, route_path
from mockserver.core.errors import ApiError
from mockserver.core.runtime import Runtime
from mockserver.core.scenarios import SCENARIO_HEADER, SCOPE_KEY, RequestFacts, RuleError, Selection, prompt_text

#: Paths below this prefix belong to the mock itself: never faulted.
MOCK_PREFIX = "/_mock"


# -- the request's facts ---------------------------------------------------------------------


def header(scope: Scope, name: str) -> str | None:
    """One request header (``name`` in lower case), decoded as latin-1."""
    wanted = name.encode()
    for key, value in scope.get("headers", []):
        if key.lower() == wanted:
            return value.decode("latin-1")
    return None


def route_template(scope: Scope, routes: Sequence[BaseRoute]) -> str | None:
    """The template of the route that serves this request (``/v1/predictions/{id}``), if any.

    A route that matches the path but not the method still names the template (the app answers
    405 there).
    """
    partial: str | None = None
    for route in routes:
        if not isinstance(route, Route):
            continue
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route.path
        if match is Match.PARTIAL and partial is None:
            partial = route.path
    return partial


def api_key(scope: Scope, api: str, path: str) -> str | None:
    """``x-api-key``, else ``Authorization: Bearer``; GateAI's ``/api/me`` takes ``?key=``."""
    key = header(scope, "x-api-key")
    if key and key.strip():
        return key.strip()
    scheme, _, token = (header(scope, "authorization") or "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    if api == "gateai" and path == "/api/me":
        values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("key")
        if values and values[0].strip():
            return values[0].strip()
    return None


def json_body(raw: bytes | None) -> Any:
    """The parsed JSON body, or None when there is none or it is not JSON."""
    if not raw or not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None


def request_facts(scope: Scope, api: str, routes: Sequence[BaseRoute], body: bytes | None) -> RequestFacts:
    path = route_path(scope)
    data = json_body(body)
    model = data.get("model") if isinstance(data, dict) else None
    return RequestFacts(
        api=api,
        method=scope.get("method", "GET").upper(),
        path=path,
        route=route_template(scope, routes),
        key=api_key(scope, api, path),
        model=model if isinstance(model, str) else None,
        prompt=prompt_text(data),
    )


# -- buffering the body ----------------------------------------------------------------------


def _wants_buffering(scope: Scope, limit: int) -> bool:
    """Only bodies that may be JSON and that fit the limit are read ahead (uploads stream through)."""
    declared = header(scope, "content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        return False
    media = (header(scope, "content-type") or "").split(";")[0].strip().lower()
    return not media or media == "application/json" or media.endswith("+json") or media == "text/plain"


async def buffer_body(receive: Receive, limit: int) -> tuple[bytes | None, Receive]:
    """Read the request body (up to ``limit`` bytes) and a ``receive`` that replays it unchanged.

    The body is returned only when complete and within the limit; otherwise None, and the replay
    hands the app what was read and then the rest of the stream.
    """
    messages: list[Message] = []
    size = 0
    complete = False
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            complete = True
            break
        if size > limit:
            break

    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
    if complete and size <= limit:
        messages = [{"type": "http.request", "body": body, "more_body": False}]
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return (body if complete and size <= limit else None), replay


# -- the middleware --------------------------------------------------------------------------


def invalid_scenario(message: str) -> ApiError:
    return ApiError(400, "INVALID_SCENARIO", message, param="X-Mock-Scenario")


class ScenarioMiddleware:
    """Selects scripted outcomes and faults for each API request and applies the faults.

    ``routes`` are the app's routes, used to name the route template a request matched.
    """

    def __init__(self, app: ASGIApp, runtime: Runtime, api: str, render: ErrorRenderer,
                 routes: Sequence[BaseRoute] = ()) -> None:
        self.app = app
        self.runtime = runtime
        self.api = api
        self.render = render
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or route_path(scope).startswith(MOCK_PREFIX):
            await self.app(scope, receive, send)
            return
        limit = self.runtime.settings.max_body_bytes
        body: bytes | None = None
        if _wants_buffering(scope, limit):
            body, receive = await buffer_body(receive, limit)
        facts = request_facts(scope, self.api, self.routes, body)
        try:
            selection = self.runtime.rules.select(facts, header(scope, SCENARIO_HEADER))
        except RuleError as exc:
            response = error_response(invalid_scenario(str(exc)), Request(scope, receive), self.render)
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})[SCOPE_KEY] = selection
        await self.serve(selection, scope, receive, send)

    async def serve(self, selection: Selection, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the request, with the selected fault applied."""
        await self.app(scope, receive, send)
