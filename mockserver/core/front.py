"""A vendor app's request path in one ASGI layer around the router, and the lean endpoint its routes use.

:class:`Gateway` runs, in one pass and with one ``send`` wrapper (:class:`mockserver.core.exchange.Exchange`), what
six middleware layers did (Starlette's error middleware, CORS, request ids, the journal, the boundary, Starlette's
exception middleware), in their order and with their answers:

* a crash's 500 (the app's handler for ``Exception``, sent when nothing was sent yet, then the exception re-raised
  for the server to log);
* CORS (:mod:`mockserver.core.conventions`: requests with ``Origin`` go through Starlette's CORS middleware, the
  rest get ``Vary: Origin``) and the request id (``req_…``, seeded, echoed as ``x-request-id``);
* the request journal (:mod:`mockserver.core.journal`: an entry per API request, recorded by the exchange; none
  with ``journal_size`` 0);
* the request boundary (:mod:`mockserver.core.boundary`: header, body and depth limits) and the app's exception
  handlers (as Starlette's ``ExceptionMiddleware``);
* then the router.

Three nested layers cost a coroutine frame, a ``send`` wrapper (two calls per response) and two reads of the path
more per request.

:func:`lean_endpoint` is Starlette's ``request_response`` without its second ``send`` wrapper: a handler's
exception is answered by the app's handlers right there; one raised while a response is being sent goes on to
the gateway.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.core.asgi import MOCK_PREFIX, ErrorRenderer, error_response
from mockserver.core.bodies import BYTES_STATE, DEPTH_STATE, BodyError, declared_length_of, too_large
from mockserver.core.boundary import headers_too_large, limited_receive, too_deep
from mockserver.core.conventions import cors_middleware
from mockserver.core.exchange import Exchange
from mockserver.core.heap import PACER
from mockserver.core.http import encoded_json_start, send_encoded_json
from mockserver.core.journal import NO_BODY, BodyCapture, Entry
from mockserver.core.journal_commit import COMMIT_STATE
from mockserver.core.request_facts import (
    QueryKeyRule,
    facts_of,
    head_size,
    header_index,
    no_query_key,
    path_below_mount,
)
from mockserver.core.wire import ConnectionDropped

if TYPE_CHECKING:  # the runtime module imports the journal, which this one imports
    from mockserver.core.runtime import Runtime

Handlers = dict[Any, Callable[[Request, Exception], Awaitable[Response]]]
#: ``express(scope, path) -> body``: a vendor's answer to its hottest request without the router, the rule pipeline
#: and Starlette's request and response objects (``path``: below the mount): the JSON body of a 200 answer. It
#: answers only when nothing else could answer the request differently -- no rule could apply, the caller may make
#: it, it succeeds -- and declines (None) otherwise: the request then takes the router's way. It changes nothing
#: it reads (the gateway may ask it before it draws the request id). The gateway's own work -- request id, journal,
#: CORS, limits, crash answers -- is the same either way.
Express = Callable[[Scope, str], "bytes | None"]
#: What :meth:`Gateway.answer_at_once` gives a server that writes the answer itself: the status, the response start's
#: headers and the body.
AtOnce = tuple[int, list[tuple[bytes, bytes]], bytes]
#: The largest request body a server holds to offer it whole to an :class:`ExpressWrite` (a create's is ~100 bytes).
AT_ONCE_BODY_BYTES = 16 * 1024


@dataclass(frozen=True)
class ExpressWrite:
    """A vendor's answer to its hottest write -- ``POST`` to ``path`` (below the mount) -- from the body a server
    read whole (at most :data:`AT_ONCE_BODY_BYTES`), without the router, the rule pipeline or a request cycle.

    ``answer(scope, body)`` answers (status, JSON body) only when the router's way would answer the same and succeed,
    and then does what that way does (e.g. creates and charges the prediction); otherwise it declines (None) having
    changed nothing -- no id drawn, nothing stored or charged -- and the request takes the router's way.
    """

    path: str
    answer: Callable[[Scope, bytes], tuple[int, bytes] | None]


Crash = Callable[[Request, Exception], Awaitable[Response]]
#: Where the gateway keeps a request's :class:`~mockserver.core.exchange.Exchange` while Starlette's CORS
#: middleware runs (its ``send`` wrapper comes between the two).
EXCHANGE = "mockserver.exchange"


class Gateway:
    """Crash answers, CORS, request ids, the journal, the boundary and the exception handlers of one vendor app
    (see the module), around ``app`` (the router)."""

    def __init__(self, app: ASGIApp, runtime: Runtime, api: str, handlers: Handlers, crash: Crash,
                 render: ErrorRenderer, control_render: ErrorRenderer,
                 takes_query_key: QueryKeyRule = no_query_key, express: Express | None = None,
                 express_write: ExpressWrite | None = None) -> None:
        self.app = app
        self.express = express
        self.express_write = express_write
        self.runtime = runtime
        self.api = api
        self.takes_query_key = takes_query_key
        self.crash = crash
        self.render = render
        self.control_render = control_render
        self.settings = settings = runtime.settings
        self.journaled = settings.journal_size > 0  # 0: no journal (load tests), nothing recorded
        self.cors = cors_middleware(self._behind_cors, settings)
        self.cors_control = bool(settings.cors_control_plane)
        self.handlers: Handlers = {}
        self.status_handlers: dict[int, Any] = {}
        for key, handler in handlers.items():
            if isinstance(key, int):
                self.status_handlers[key] = handler
            else:
                self.handlers[key] = handler
        self.pair = (self.handlers, self.status_handlers)  # where Starlette's request_response looks them up

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        PACER.tick()
        path = path_below_mount(scope)
        control = path.startswith(MOCK_PREFIX)
        cors = self.cors is not None and (self.cors_control or not control)
        rid = "req_" + self.runtime.rng.token("request-id", 24, shared=False)  # never waits on a shared store
        scope.setdefault("state", {})["request_id"] = rid
        via_cors = cors and b"origin" in header_index(scope)  # Starlette's CORS middleware answers those
        exchange = Exchange(send, rid.encode(), vary=cors and not via_cors)
        try:
            if via_cors:
                scope[EXCHANGE] = exchange
                await self.cors(scope, receive, send)  # type: ignore[misc]
            else:
                await self._serve(scope, receive, exchange, control, path)
        except ConnectionDropped:
            raise  # a scripted drop the server carries out (closing the connection): no crash answer, no log
        except Exception as exc:
            response = await self.crash(Request(scope), exc)
            if not exchange.started:
                await response(scope, receive, send)
            raise exc

    async def _behind_cors(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The rest of a request with ``Origin``, below Starlette's CORS middleware (whose ``send`` it gets)."""
        exchange: Exchange = scope.pop(EXCHANGE)
        exchange.out = send
        path = path_below_mount(scope)
        await self._serve(scope, receive, exchange, path.startswith(MOCK_PREFIX), path)

    async def _serve(self, scope: Scope, receive: Receive, exchange: Exchange, control: bool, path: str) -> None:
        """The request recorded (an API request), bounded, answered (by the vendor's express answer, else the
        router), and its exceptions answered by the handlers (``path``: below the mount)."""
        state = scope["state"]
        recorded = not control and self.journaled
        if recorded:
            self._record(scope, receive, exchange, path)
            receive = exchange.receive
            state[COMMIT_STATE] = exchange.commit
        settings = self.settings
        limit = settings.max_control_body_bytes if control else settings.max_body_bytes
        state[BYTES_STATE], state[DEPTH_STATE] = limit, settings.max_json_depth
        failure: BaseException | None = None
        try:
            index = header_index(scope)
            refusal = self._refusal(scope, index, limit)
            if refusal is not None:
                await error_response(refusal, Request(scope), self._render(control))(scope, receive, exchange.send)
                return
            scope["starlette.exception_handlers"] = self.pair
            app = self.app
            if isinstance(app, Router):  # what Router.__call__ does, one call less
                app = app.middleware_stack
            length = index.get(b"content-length")
            if b"transfer-encoding" in index or (length is not None and not length.strip().isdigit()):
                # a chunked body is counted as it arrives; a declared length was checked (_refusal) and the server
                # holds the body to it; HTTP/1.1 has no body without either
                receive = limited_receive(receive, limit)
            try:
                express = self.express
                body = None if express is None or control else express(scope, path)
                if body is None:
                    await app(scope, receive, exchange.send)
                else:
                    await send_encoded_json(exchange.send, body)
            except Exception as exc:
                if not await self._answered(exc, scope, receive, exchange, control):
                    raise  # from this frame: re-raised from the helper's, the exception would hold it, a cycle
        except BaseException as exc:
            failure = exc
            raise
        finally:
            if recorded:
                if not exchange.committed:
                    exchange.commit(failure)
                state.pop(COMMIT_STATE, None)  # the hook refers to the exchange: no cycle outlives the request
            failure = None  # this frame, kept by the exception's traceback, must not keep the exception: a cycle

    def _record(self, scope: Scope, receive: Receive, exchange: Exchange, path: str) -> None:
        """Give ``exchange`` the request's journal entry: references to its raw parts, rendered when read."""
        journal = self.runtime.journal
        facts = facts_of(scope, self.api, self.takes_query_key, path)
        # positional (a third cheaper than keywords, and no default made only to be replaced): epoch, api, method,
        # path, query, owner, request id, request headers (by reference: the server's list, never changed), request
        # body (made when one arrives), its type, status, error, latency, response headers (set at the start), body
        entry = Entry(self.runtime.clock.now(), self.api, facts.method, facts.path, scope.get("query_string", b""),
                      facts.key, scope["state"]["request_id"], scope.get("headers", ()), NO_BODY, None, None, None, 0.0,
                      (), BodyCapture(journal.body_cap))
        exchange.record(entry, journal, facts, receive)

    def answer_at_once(self, scope: Scope, body: bytes | None = None) -> AtOnce | None:
        """The express answer to a request whose head the server has parsed -- with ``body``, a ``POST`` whose body it
        held (:meth:`holds_body`) -- for the server to write itself: no coroutine, no ``send``; what :meth:`__call__`
        would do for it -- pacer, request id, ``Vary``, journal entry -- done here. None (nothing done) for any request
        :meth:`__call__` must see: no express answer, the mock's own paths, ``Origin`` (CORS), a body where none is
        expected, a head past the limits, a shared journal (written by a coroutine)."""
        if body is not None:
            return self._write_at_once(scope, body)
        express = self.express
        if express is None:
            return None
        path = path_below_mount(scope)
        index = header_index(scope)
        if (path.startswith(MOCK_PREFIX) or b"content-length" in index or b"transfer-encoding" in index
                or not self._offerable(scope, index)):
            return None
        answer = express(scope, path)
        return None if answer is None else self._answered_at_once(scope, path, 200, answer, b"")

    def holds_body(self, scope: Scope) -> bool:
        """Whether a server should hold the body of this ``POST`` (its head parsed) and offer it whole to
        :meth:`answer_at_once`: the vendor's :class:`ExpressWrite` path, a declared length of at most
        :data:`AT_ONCE_BODY_BYTES` within the limits, no ``Origin`` (CORS), a journal of this process."""
        write = self.express_write
        if write is None or path_below_mount(scope) != write.path:
            return False
        index = header_index(scope)
        length = declared_length_of(index.get(b"content-length"))
        return (length is not None and length <= AT_ONCE_BODY_BYTES and b"transfer-encoding" not in index
                and self._offerable(scope, index))

    def _offerable(self, scope: Scope, index: dict[bytes, bytes]) -> bool:
        """What any answer at once needs (``index``: the request's :func:`header_index`): a journal of this process
        (a shared one is written by a coroutine), no ``Origin`` (Starlette's CORS middleware answers those), a head
        within the limits."""
        return (not (self.journaled and self.runtime.journal.batched)
                and not (self.cors is not None and b"origin" in index)
                and self._refusal(scope, index, self.settings.max_body_bytes) is None)

    def _write_at_once(self, scope: Scope, body: bytes) -> AtOnce | None:
        write = self.express_write
        if write is None or not self.holds_body(scope):
            return None
        answered = write.answer(scope, body)
        if answered is None:
            return None
        status, answer = answered
        return self._answered_at_once(scope, write.path, status, answer, body)

    def _answered_at_once(self, scope: Scope, path: str, status: int, answer: bytes, body: bytes) -> AtOnce:
        """The gateway's part of an answer at once (``body``: the request's): pacer, request id, journal entry."""
        PACER.tick()
        rid = "req_" + self.runtime.rng.token("request-id", 24, shared=False)
        scope.setdefault("state", {})["request_id"] = rid
        exchange = Exchange(_never_sent, rid.encode(), vary=self.cors is not None)
        if self.journaled:
            self._record(scope, _never_received, exchange, path)
            exchange.received(body)
        start = encoded_json_start(answer, status)
        exchange.sent_at_once(start, answer)
        return status, start["headers"], answer

    def _refusal(self, scope: Scope, index: dict[bytes, bytes], limit: int) -> Exception | None:
        """The boundary's refusal of the request's head (``index``: its :func:`header_index`): headers too large,
        or a declared body beyond ``limit``."""
        if head_size(scope) > self.settings.max_header_bytes:
            return headers_too_large(self.settings.max_header_bytes)
        if (declared_length_of(index.get(b"content-length")) or 0) > limit:
            return too_large(limit)
        return None

    def _render(self, control: bool) -> ErrorRenderer:
        return self.control_render if control else self.render

    def handler_for(self, exc: Exception) -> Callable[[Request, Exception], Awaitable[Response]] | None:
        """The app's handler for ``exc`` (by status for an ``HTTPException``, else by class), as Starlette's."""
        handler = self.status_handlers.get(exc.status_code) if isinstance(exc, HTTPException) else None
        if handler is None:
            for cls in type(exc).__mro__:
                handler = self.handlers.get(cls)
                if handler is not None:
                    break
        return handler

    async def _answered(self, exc: Exception, scope: Scope, receive: Receive, exchange: Exchange,
                        control: bool) -> bool:
        """Whether an exception from the router was answered, as Starlette's exception middleware would answer it
        (False: it goes on to the crash handler)."""
        started = exchange.started
        handler = self.handler_for(exc)
        if handler is None:
            if started or not isinstance(exc, BodyError | RecursionError):
                return False
            error = exc if isinstance(exc, BodyError) else too_deep()
            await error_response(error, Request(scope), self._render(control))(scope, receive, exchange.send)
            return True
        if started:
            raise RuntimeError("Caught handled exception, but response already started.") from exc
        response = await handler(Request(scope, receive, exchange.send), exc)
        await response(scope, receive, exchange.send)
        exc.__traceback__ = None  # a reused exception would pile up tracebacks
        return True


async def _never_sent(message: Message) -> None:
    raise RuntimeError("an answer made at once is written by the server")


async def _never_received() -> Message:
    raise RuntimeError("an answer made at once reads no body")


def answer_at_once_of(app: object) -> Gateway | None:
    """The :class:`Gateway` of a vendor app served on a port of its own, for its :meth:`~Gateway.answer_at_once`
    (Starlette builds the gateway on the first request; this builds it now); None for any other app or one with no
    express answer."""
    if not isinstance(app, ApiApp):
        return None
    if app.middleware_stack is None:
        app.middleware_stack = app.build_middleware_stack()
    gateway = app.middleware_stack
    if isinstance(gateway, Gateway) and (gateway.express is not None or gateway.express_write is not None):
        return gateway
    return None


def lean_endpoint(func: Callable[[Request], Awaitable[Response]]) -> ASGIApp:
    """``func`` as an ASGI app: a request, its response sent; a handler's exception answered by the app's handlers
    (Starlette's ``request_response`` without its per-request ``send`` wrapper)."""

    domain_errors = getattr(func, "domain_errors", None)  # a handler wrapped by asgi.answering: its mapping,
    if domain_errors is not None:  # applied here on the handler itself (the wrapper's frame saved)
        func = func.__wrapped__  # type: ignore[attr-defined]

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        try:
            response = await func(request)
        except Exception as exc:
            error = domain_errors(exc) if domain_errors is not None else None
            answered = exc if error is None else error  # the ApiError the wrapper would have raised instead
            handlers, status_handlers = scope.get("starlette.exception_handlers", ({}, {}))
            handler = status_handlers.get(answered.status_code) if isinstance(answered, HTTPException) else None
            if handler is None:
                handler = next((handlers[cls] for cls in type(answered).__mro__ if cls in handlers), None)
            if handler is None:
                if error is None:
                    raise
                raise error from None
            response = await handler(request, answered)
            exc.__traceback__ = None
        await response(scope, receive, send)

    return app


class ApiApp(Starlette):
    """A vendor's Starlette app whose one layer around the router is a :class:`Gateway` (see the module)."""

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
