"""A vendor app's layers as two ASGI layers around the request journal, instead of six.

Outermost first, what every request meets (the order and the answers are those of the former middleware chain:
Starlette's error middleware, CORS, request ids, the journal, the boundary, Starlette's exception middleware):

* :class:`Front` -- a crash's 500 (the app's handler for ``Exception``, sent when nothing was sent yet, then the
  exception re-raised for the server to log), CORS (:mod:`mockserver.core.conventions`: requests with ``Origin``
  go through Starlette's CORS middleware, the rest get ``Vary: Origin``), and the request id (``req_…``, seeded,
  echoed as ``x-request-id``), with one ``send`` wrapper for all three;
* the journal (:class:`mockserver.core.journal.JournalMiddleware`, unchanged);
* :class:`Inner` -- the request boundary (:mod:`mockserver.core.boundary`: header, body and depth limits) and the
  app's exception handlers (as Starlette's ``ExceptionMiddleware``), knowing whether a response started from
  :class:`Front`'s ``send`` (:class:`Progress`), so with no ``send`` wrapper of its own;
* the router.

:func:`lean_endpoint` is Starlette's ``request_response`` without its second ``send`` wrapper: a handler's
exception is answered by the app's handlers right there; one raised while a response is being sent goes on to
:class:`Inner`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.core.asgi import MOCK_PREFIX, ErrorRenderer, error_response
from mockserver.core.bodies import BYTES_STATE, DEPTH_STATE, BodyError, declared_length, too_large
from mockserver.core.boundary import head_size_and_length, headers_too_large, limited_receive, too_deep
from mockserver.core.conventions import cors_middleware, vary_origin
from mockserver.core.heap import PACER
from mockserver.core.randomness import Randomness
from mockserver.core.request_facts import header_index, path_below_mount

Handlers = dict[Any, Callable[[Request, Exception], Awaitable[Response]]]
_ID_HEADER = b"x-request-id"
#: Where :class:`Front` keeps the request's :class:`Progress` in the scope, for :class:`Inner`.
PROGRESS = "mockserver.progress"


class Progress:
    """Whether a response start went out: set by :class:`Front`'s ``send``, read by :class:`Inner` (whose own
    ``send`` it is passed through), so the two layers need one ``send`` wrapper between them."""

    __slots__ = ("started",)

    def __init__(self) -> None:
        self.started = False


def has_origin(scope: Scope) -> bool:
    return b"origin" in header_index(scope)


def _with_request_id(message: Message, rid: bytes) -> None:
    headers = message.get("headers") or ()
    for name, _ in headers:
        if name.lower() == _ID_HEADER:
            return
    message["headers"] = [*headers, (_ID_HEADER, rid)]


def _stamped(message: Message, rid: bytes, vary: bool) -> None:
    """The request id (unless the app set one) and, with ``vary``, ``Vary: Origin`` added to a response start, in one
    pass over its headers: what :func:`_with_request_id` and then :func:`~mockserver.core.conventions.vary_origin`
    do."""
    headers = message.get("headers") or ()
    has_id = has_vary = False
    for name, _ in headers:
        lowered = name.lower()
        if lowered == _ID_HEADER:
            has_id = True
        elif lowered == b"vary":
            has_vary = True
    if vary and has_vary:  # merged into the app's Vary, as Starlette's CORS does
        _with_request_id(message, rid)
        vary_origin(message)
    elif vary:
        message["headers"] = [*headers, (b"vary", b"Origin")] if has_id else \
            [*headers, (_ID_HEADER, rid), (b"vary", b"Origin")]
    elif not has_id:
        message["headers"] = [*headers, (_ID_HEADER, rid)]


class Front:
    """Crash answers, CORS and request ids for one vendor app (see the module)."""

    def __init__(self, app: ASGIApp, rng: Randomness, crash: Callable[[Request, Exception], Awaitable[Response]],
                 settings: Any) -> None:
        self.app = app
        self.rng = rng
        self.crash = crash
        self.cors: CORSMiddleware | None = cors_middleware(self._identified, settings)
        self.cors_control = bool(settings.cors_control_plane)

    def _request_id(self, scope: Scope) -> str:
        rid = "req_" + self.rng.token("request-id", 24, shared=False)  # never waits on a shared store
        scope.setdefault("state", {})["request_id"] = rid
        return rid

    async def _identified(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The request id alone (below Starlette's CORS middleware, for requests with ``Origin``)."""
        rid = self._request_id(scope).encode()

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                _with_request_id(message, rid)
            await send(message)

        await self.app(scope, receive, sending)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        PACER.tick()
        cors = self.cors is not None and (self.cors_control or not path_below_mount(scope).startswith(MOCK_PREFIX))
        progress = scope[PROGRESS] = Progress()
        try:
            if cors and has_origin(scope):
                async def tracking(message: Message) -> None:
                    if message["type"] == "http.response.start":
                        progress.started = True
                    await send(message)

                assert self.cors is not None
                await self.cors(scope, receive, tracking)
                return
            rid = self._request_id(scope).encode()

            async def sending(message: Message) -> None:
                if message["type"] == "http.response.start":
                    _stamped(message, rid, cors)
                    progress.started = True
                await send(message)

            await self.app(scope, receive, sending)
        except Exception as exc:
            response = await self.crash(Request(scope), exc)
            if not progress.started:
                await response(scope, receive, send)
            raise exc


class Inner:
    """The request boundary and the app's exception handlers, around the router (see the module)."""

    def __init__(self, app: ASGIApp, handlers: Handlers, settings: Any, render: ErrorRenderer,
                 control_render: ErrorRenderer) -> None:
        self.app = app
        self.settings = settings
        self.render = render
        self.control_render = control_render
        self.handlers: Handlers = {}
        self.status_handlers: dict[int, Any] = {}
        for key, handler in handlers.items():
            if isinstance(key, int):
                self.status_handlers[key] = handler
            else:
                self.handlers[key] = handler
        self.pair = (self.handlers, self.status_handlers)  # where Starlette's request_response looks them up

    def handler_for(self, exc: Exception) -> Callable[[Request, Exception], Awaitable[Response]] | None:
        """The app's handler for ``exc`` (by status for an ``HTTPException``, else by class), as Starlette's."""
        handler = self.status_handlers.get(exc.status_code) if isinstance(exc, HTTPException) else None
        if handler is None:
            for cls in type(exc).__mro__:
                handler = self.handlers.get(cls)
                if handler is not None:
                    break
        return handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = self.settings
        control = path_below_mount(scope).startswith(MOCK_PREFIX)
        render = self.control_render if control else self.render
        limit = settings.max_control_body_bytes if control else settings.max_body_bytes
        state = scope.setdefault("state", {})
        state[BYTES_STATE], state[DEPTH_STATE] = limit, settings.max_json_depth
        head, length = head_size_and_length(scope)
        refusal = None
        if head > settings.max_header_bytes:
            refusal = headers_too_large(settings.max_header_bytes)
        elif length is not None and (declared_length({"content-length": length}) or 0) > limit:
            refusal = too_large(limit)
        if refusal is not None:
            await error_response(refusal, Request(scope), render)(scope, receive, send)
            return
        scope["starlette.exception_handlers"] = self.pair
        receive = limited_receive(receive, limit)
        progress: Progress | None = scope.get(PROGRESS)
        if progress is None:  # not below a Front: track the response here
            progress, send = _tracked(send)
        app = self.app
        if isinstance(app, Router):  # what Router.__call__ does, one call less
            app = app.middleware_stack
        try:
            await app(scope, receive, send)
        except Exception as exc:
            started = progress.started
            handler = self.handler_for(exc)
            if handler is None:
                if started or not isinstance(exc, BodyError | RecursionError):
                    raise
                error = exc if isinstance(exc, BodyError) else too_deep()
                await error_response(error, Request(scope), render)(scope, receive, send)
                return
            if started:
                raise RuntimeError("Caught handled exception, but response already started.") from exc
            response = await handler(Request(scope, receive, send), exc)
            await response(scope, receive, send)
            exc.__traceback__ = None  # a reused exception would pile up tracebacks


def _tracked(send: Send) -> tuple[Progress, Send]:
    """A :class:`Progress` and the ``send`` that records a response start in it."""
    progress = Progress()

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            progress.started = True
        await send(message)

    return progress, sending


def lean_endpoint(func: Callable[[Request], Awaitable[Response]]) -> ASGIApp:
    """``func`` as an ASGI app: a request, its response sent; a handler's exception answered by the app's handlers
    (Starlette's ``request_response`` without its per-request ``send`` wrapper)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        try:
            response = await func(request)
        except Exception as exc:
            handlers, status_handlers = scope.get("starlette.exception_handlers", ({}, {}))
            handler = status_handlers.get(exc.status_code) if isinstance(exc, HTTPException) else None
            if handler is None:
                handler = next((handlers[cls] for cls in type(exc).__mro__ if cls in handlers), None)
            if handler is None:
                raise
            response = await handler(request, exc)
            exc.__traceback__ = None
        await response(scope, receive, send)

    return app


class ApiApp(Starlette):
    """A vendor's Starlette app whose layers are :class:`Front`, the journal and :class:`Inner` (see the module)."""

    def __init__(self, routes: list[Any], layers: Callable[[ASGIApp, Handlers, Any], ASGIApp]) -> None:
        super().__init__(routes=routes)
        self._layers = layers

    def build_middleware_stack(self) -> ASGIApp:
        crash = None
        handlers: Handlers = {}
        for key, value in self.exception_handlers.items():
            if key in (500, Exception):
                crash = value
            else:
                handlers[key] = value
        return self._layers(self.router, handlers, crash)
