"""The scenario middleware: selects the rules for each API request and applies the chosen fault.

For every API request (not ``/_mock…``) it reads the facts rules match on (api, method, path,
route template, key, model, prompt) -- buffering a JSON body up to ``max_body_bytes`` and replaying
it to the app unchanged; the body (model, prompt) is parsed only for a caller whose API key the mock
knows, so an unauthenticated caller never causes a ``prompt`` regex search -- asks
:meth:`Rules.select` with the ``X-Mock-Scenario`` header, keeps the
:class:`~mockserver.core.scenarios.Selection` in ``scope["state"][SCOPE_KEY]`` for domain code, and
applies the fault, if any:

* ``latency``: real time (``asyncio.sleep``) before the normal answer -- it simulates a slow
  network, not slow work, so it does not move the virtual clock;
* ``error`` / ``rate_limit``: the API's own error body (429 with ``Retry-After`` and
  ``retry-after-ms``), without calling the app;
* ``reset``: a TCP RST before any byte of response; ``empty``: the connection closes (FIN) without a
  response;
* ``sse_cut``: the app answers; after ``after_events`` server-sent events (blocks ended by a blank
  line) the connection closes mid-body, so the client sees an incomplete chunked response. A
  response that is not ``text/event-stream`` is left alone (the rule still counts as fired).

Dropping needs the connection's transport (:mod:`mockserver.core.wire`); without it (an in-process
ASGI client) the middleware raises :class:`~mockserver.core.wire.ConnectionDropped` instead.

A bad ``X-Mock-Scenario`` header is a 400 ``INVALID_SCENARIO`` in the API's error format.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Sequence
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.core import wire
from mockserver.core.asgi import MOCK_PREFIX, ErrorRenderer, error_response, route_path
from mockserver.core.bodies import DEFAULT_MAX_DEPTH, BodyError, depth_limit, parse_json
from mockserver.core.errors import ApiError, http_error_id
from mockserver.core.http import api_key_in
from mockserver.core.runtime import Runtime
from mockserver.core.scenarios import (
    SCENARIO_HEADER,
    SCOPE_KEY,
    Fault,
    RequestFacts,
    RuleError,
    Selection,
    prompt_text,
)
from mockserver.core.vendor import REGISTRY

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
    """``x-api-key``, else ``Authorization: Bearer``; a vendor's ``query_key_paths`` also take ``?key=``."""
    query_key = None
    vendor = REGISTRY.get(api)
    if vendor is not None and vendor.takes_query_key(path):
        query_key = (parse_qs(scope.get("query_string", b"").decode("latin-1")).get("key") or [None])[0]
    return api_key_in(Headers(scope=scope), query_key)


def json_body(raw: bytes | None, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """The body parsed as strict JSON (the app refuses anything else), or None when there is none or it is not."""
    if not raw or not raw.strip():
        return None
    try:
        return parse_json(raw, max_depth)
    except BodyError:
        return None


def request_facts(scope: Scope, api: str, routes: Sequence[BaseRoute], body: bytes | None,
                  known_key: Callable[[str], bool] = lambda key: True) -> RequestFacts:
    """What rules match on. The body is read only for a caller whose key ``known_key`` accepts, so a caller
    with no key or an invalid one never costs a parse or a ``prompt`` regex search."""
    path = route_path(scope)
    key = api_key(scope, api, path)
    data = json_body(body, depth_limit(scope)) if key is not None and known_key(key) else None
    model = data.get("model") if isinstance(data, dict) else None
    return RequestFacts(
        api=api,
        method=scope.get("method", "GET").upper(),
        path=path,
        route=route_template(scope, routes),
        key=key,
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
        scenario = header(scope, SCENARIO_HEADER)
        if scenario is None and not self.runtime.rules.has_global_rules:
            await self.app(scope, receive, send)  # nothing could match: no body buffering, no matching
            return
        limit = self.runtime.settings.max_body_bytes
        body: bytes | None = None
        key = api_key(scope, self.api, route_path(scope))
        if key is not None and self.runtime.accounts.recognizes(key) and _wants_buffering(scope, limit):
            body, receive = await buffer_body(receive, limit)
        facts = request_facts(scope, self.api, self.routes, body, self.runtime.accounts.recognizes)
        try:
            selection = self.runtime.rules.select(facts, scenario)
        except RuleError as exc:
            response = error_response(invalid_scenario(str(exc)), Request(scope, receive), self.render)
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})[SCOPE_KEY] = selection
        await self.serve(selection, scope, receive, send)

    async def serve(self, selection: Selection, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the request, with the selected fault applied."""
        fault = selection.fault
        if fault is None:
            await self.app(scope, receive, send)
        elif fault.type == "latency":
            await asyncio.sleep(fault.latency_ms / 1000)
            await self.app(scope, receive, send)
        elif fault.type in ("error", "rate_limit"):
            error = fault_error(fault, selection.rule_ids)
            await error_response(error, Request(scope, receive), self.render)(scope, receive, send)
        elif fault.type == "reset":
            await drop(scope, receive, wire.reset, "reset")
        elif fault.type == "empty":
            await finish_reading(receive)
            await drop(scope, receive, wire.close, "empty")
        else:
            await cut_stream(self.app, scope, receive, send, fault.after_events)


# -- the faults ------------------------------------------------------------------------------


def fault_error(fault: Fault, rule_ids: Sequence[str]) -> ApiError:
    """The error a scripted ``error`` or ``rate_limit`` fault answers with."""
    by = f"mock rule {', '.join(rule_ids)}" if rule_ids else "a mock rule"
    if fault.type == "rate_limit":
        seconds = math.ceil(fault.retry_after)
        return ApiError(
            429, "RATE_LIMIT_EXCEEDED",
            fault.message or f"Rate limit exceeded (scripted by {by}). Retry in {seconds} s.",
            code="rate_limit_exceeded",
            headers={"Retry-After": str(seconds), "retry-after-ms": str(round(fault.retry_after * 1000))},
            details={"retry_after": seconds},
        )
    try:
        phrase = HTTPStatus(fault.status).phrase
    except ValueError:
        phrase = "Error"
    message = fault.message or f"{phrase} (HTTP {fault.status} scripted by {by})"
    return ApiError(fault.status, fault.error_id or http_error_id(fault.status), message)


async def finish_reading(receive: Receive) -> None:
    """Read the rest of the request body, so closing the socket sends a FIN rather than an RST."""
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


async def drop(scope: Scope, receive: Receive, how: Callable[[asyncio.Transport], None], kind: str) -> None:
    """Drop the connection without a byte of response (``how``: :func:`wire.reset` or :func:`wire.close`)."""
    transport = wire.transport_of(scope)
    if transport is None:
        raise wire.ConnectionDropped(f"scripted {kind} fault: the connection is dropped without a response")
    how(transport)
    await wire.until_disconnected(receive)


class SseEvents:
    """Counts server-sent events in a byte stream: an event is a block of lines ended by a blank line.

    Lines end with CRLF, LF or CR (as the SSE spec allows); comment blocks (``: ping``) count too.
    """

    def __init__(self) -> None:
        self.count = 0
        self._line_start = True  # the last byte ended a line
        self._after_cr = False  # the last byte was CR (a following LF belongs to it)
        self._content = False  # the current block has a non-blank line

    def feed(self, chunk: bytes, stop_at: int) -> int | None:
        """Consume ``chunk``; the offset just past the end of event number ``stop_at``, if it ends here."""
        for index, byte in enumerate(chunk):
            if byte == 0x0A and self._after_cr:  # the LF of a CRLF: the CR already ended the line
                self._after_cr = False
                continue
            self._after_cr = byte == 0x0D
            if byte not in (0x0A, 0x0D):
                self._line_start = False
                self._content = True
                continue
            if self._line_start and self._content:
                self.count += 1
                self._content = False
                if self.count == stop_at:
                    end = index + 1
                    return end + 1 if chunk[index:end + 1] == b"\r\n" else end
            self._line_start = True
        return None


def _is_event_stream(message: Message) -> bool:
    for name, value in message.get("headers", []):
        if name.lower() == b"content-type":
            return value.split(b";")[0].strip().lower() == b"text/event-stream"
    return False


def _only_drops(exc: BaseException) -> bool:
    if isinstance(exc, wire.ConnectionDropped):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return all(_only_drops(inner) for inner in exc.exceptions)
    return False


async def cut_stream(app: ASGIApp, scope: Scope, receive: Receive, send: Send, after_events: int) -> None:
    """Serve normally, but drop the connection after ``after_events`` SSE events.

    The events before the cut reach the client intact; then the connection closes mid-body, so the
    client sees an incomplete chunked response. Responses that are not ``text/event-stream`` are
    left alone. The app learns of the cut from ``send`` raising :class:`wire.ConnectionDropped`.
    """
    transport = wire.transport_of(scope)
    events = SseEvents()
    streaming = False
    cut = False

    async def cut_now() -> None:
        nonlocal cut
        cut = True
        if transport is not None:
            wire.close(transport)
        raise wire.ConnectionDropped(f"scripted sse_cut fault: the stream was cut after {events.count} event(s)")

    async def cutting_send(message: Message) -> None:
        nonlocal streaming
        if cut:
            raise wire.ConnectionDropped("scripted sse_cut fault: the stream was already cut")
        if message["type"] == "http.response.start":
            streaming = _is_event_stream(message)
            await send(message)
            if streaming and after_events == 0:
                await cut_now()
            return
        if not streaming or message["type"] != "http.response.body":
            await send(message)
            return
        body = message.get("body", b"")
        end = events.feed(body, after_events)
        if end is None:
            await send(message)
            return
        await send({"type": "http.response.body", "body": body[:end], "more_body": True})
        await cut_now()

    try:
        await app(scope, receive, cutting_send)
    except BaseException as exc:
        if not (cut and transport is not None and _only_drops(exc)):
            raise
        await wire.until_disconnected(receive)
