"""ASGI plumbing both APIs share: errors rendered in the API's own format, request ids and paths read from a request."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import Scope

from mockserver.core.errors import ApiError, http_error_id
from mockserver.core.http import JSONResponse
from mockserver.core.request_facts import header_index, path_below_mount
from mockserver.core.store import StoreUnavailable

log = logging.getLogger("mockserver")

#: ``render(error, path, request_id) -> body``
ErrorRenderer = Callable[[ApiError, str, str], dict[str, Any]]


#: ``api_error(exc) -> ApiError | None``: an API's answer to a domain error (None: not one it answers).
DomainErrorMap = Callable[[Exception], ApiError | None]
Handler = Callable[[Request], Awaitable[Response]]


def answering(api_error: DomainErrorMap) -> Callable[[Handler], Handler]:
    """A decorator: the handler's domain errors raised as the :class:`ApiError` ``api_error`` gives (rendered by the
    app); any other exception passes through unchanged."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def mapped(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                error = api_error(exc)
                if error is None:
                    raise
            # raised outside the except block: the frame no longer holds the domain error, whose traceback holds
            # the frame (a cycle per answered error, freed only by the collector); the ApiError has no context
            raise error

        mapped.domain_errors = api_error  # type: ignore[attr-defined]  # what lean_endpoint applies itself
        return mapped

    return wrap


#: Paths below this prefix belong to the mock itself (health, control plane): never journaled or faulted.
MOCK_PREFIX = "/_mock"


def route_path(request: Request | Scope) -> str:
    """The request path below any mount prefix (``/skytells/v1/models`` -> ``/v1/models``)."""
    return path_below_mount(request.scope if isinstance(request, Request) else request)


def public_base(request: Request) -> str:
    """``scheme://host[:port][/mount]`` as the client reached this app (mount prefix included).

    It depends only on the scheme, the ``Host`` header, the server address and the mount, so it is worked out
    once per combination (:func:`public_base_at`) rather than by parsing the request's URL each time.
    """
    return public_base_of(request.scope)


def public_base_of(scope: Scope) -> str:
    """:func:`public_base` of a request's scope."""
    host = header_index(scope).get(b"host")
    server = scope.get("server")
    return public_base_at(scope.get("scheme", "http"), host, tuple(server) if server is not None else None,
                          scope.get("root_path", ""))


@functools.lru_cache(maxsize=256)
def public_base_at(scheme: str, host: bytes | None, server: tuple[str, int] | None, root_path: str) -> str:
    """:func:`public_base` of a request with this scheme, ``Host`` header (None: none), server address and mount."""
    scope = {"type": "http", "scheme": scheme, "server": server, "path": "/", "root_path": root_path,
             "query_string": b"", "headers": [(b"host", host)] if host is not None else []}
    return str(Request(scope).url.replace(path=root_path, query="", fragment="")).rstrip("/")


def request_id(request: Request) -> str:
    return request.scope.get("state", {}).get("request_id", "req_unknown")


def error_response(error: ApiError, request: Request, render: ErrorRenderer) -> Response:
    rid = request_id(request)
    body = render(error, route_path(request), rid)
    # Set here too: a crash's 500 is sent past the layer that adds the id (core.front.Gateway), and must still carry
    # the id its body reports.
    return JSONResponse(body, status_code=error.status, headers={**(error.headers or {}), "x-request-id": rid})


def allowed_methods(app: Starlette, scope: Scope) -> list[str]:
    """Every method some route serves on this path (Starlette's own ``Allow`` names only the first route's)."""
    methods: set[str] = set()
    for route in app.router.routes:
        route_methods = getattr(route, "methods", None)
        if route_methods and route.matches(scope)[0] != Match.NONE:
            methods |= set(route_methods)
    return sorted(methods)


def store_unavailable() -> ApiError:
    """The shared store (``--store redis://``) did not answer: a 503 the client may retry (never a 500, never a
    hang: the store's client gives up after a bounded timeout and reconnects on a later request)."""
    return ApiError(503, "SERVICE_UNAVAILABLE", "The service is temporarily unavailable; retry shortly",
                    headers={"Retry-After": "1"})


def install_error_handlers(app: Starlette, render: ErrorRenderer) -> None:
    """Every error -- ours, the router's 404/405, the shared store gone (503), an unexpected crash -- in the API's
    format."""

    async def on_api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return error_response(exc, request, render)

    async def on_http_exception(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        message = f"No route {request.method} {route_path(request)}; see the README's endpoint table"
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            allowed = allowed_methods(app, request.scope)
            headers["Allow"] = ", ".join(allowed)
            message = f"Method {request.method} is not allowed on {route_path(request)}; allowed: {headers['Allow']}"
        elif exc.status_code != 404:
            message = str(exc.detail)
        error = ApiError(exc.status_code, http_error_id(exc.status_code), message, headers=headers)
        return error_response(error, request, render)

    async def on_too_deep(request: Request, exc: Exception) -> Response:
        error = ApiError(400, "INVALID_INPUT", "The request nests too deeply to be processed")
        return error_response(error, request, render)

    async def on_store_gone(request: Request, exc: Exception) -> Response:
        log.warning("%s %s: %s", request.method, route_path(request), exc)
        return error_response(store_unavailable(), request, render)

    async def on_crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, route_path(request))
        # Starlette re-raises after this response and uvicorn then closes the connection: say so, so a
        # keep-alive client opens a new one instead of meeting a reset on its next request.
        error = ApiError(500, "INTERNAL_ERROR", "The mock server hit an unexpected error; see its log",
                         headers={"Connection": "close"})
        return error_response(error, request, render)

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(HTTPException, on_http_exception)
    app.add_exception_handler(RecursionError, on_too_deep)
    app.add_exception_handler(StoreUnavailable, on_store_gone)
    app.add_exception_handler(Exception, on_crash)
