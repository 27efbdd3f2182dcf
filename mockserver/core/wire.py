"""The connection under a request: how the mock drops it on purpose (reset, empty reply, cut stream).

An ASGI app cannot reach its socket, so :func:`transport_exposing` subclasses uvicorn's HTTP
protocol to put each connection's asyncio transport into the request scope, as
``scope["extensions"]["mockserver.transport"]["transport"]`` (:func:`transport_of` reads it).
:mod:`mockserver.server` runs uvicorn with that protocol.

Without it (an in-process ASGI client, another server) a drop raises :class:`ConnectionDropped`
from the app instead, which such clients surface as an exception from the request.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

TRANSPORT_EXTENSION = "mockserver.transport"
#: How long to wait for the server to notice a connection we closed.
DISCONNECT_WAIT = 2.0


class ConnectionDropped(OSError):
    """The mock dropped the connection on purpose (a scripted ``reset``, ``empty`` or ``sse_cut``)."""


#: ``(head, status) -> response bytes``: what to answer a request the HTTP parser refused.
ParserErrorWriter = Callable[[bytes, int], bytes]


def is_httptools(protocol: type[asyncio.Protocol]) -> bool:
    """Whether ``protocol`` is (a subclass of) uvicorn's httptools protocol."""
    return any(klass.__name__ == "HttpToolsProtocol" for klass in protocol.__mro__)


def transport_exposing(base: type[asyncio.Protocol],
                       parser_error: ParserErrorWriter | None = None) -> type[asyncio.Protocol]:
    """A subclass of uvicorn's HTTP protocol ``base`` that puts its transport into every scope.

    Under httptools the extension goes into each request's scope as the protocol makes it (no layer around the
    app); under h11, whose scope is made elsewhere, a layer around the app adds it. With ``parser_error``, a
    request uvicorn's h11 parser refuses (a malformed request, or headers past ``h11_max_incomplete_event_size``:
    431) is answered with its bytes instead of uvicorn's plain text.
    """
    in_scope = is_httptools(base)

    class TransportExposingProtocol(base):  # type: ignore[valid-type,misc]
        _extension: dict[str, Any] | None = None  # {"transport": ...}: one per connection

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            if in_scope:
                return
            app: ASGIApp = self.app

            async def with_transport(scope: Scope, receive: Receive, send: Send) -> None:
                scope.setdefault("extensions", {})[TRANSPORT_EXTENSION] = {"transport": self.transport}
                await app(scope, receive, send)

            self.app = with_transport

        if in_scope:
            def on_message_begin(self) -> None:
                super().on_message_begin()
                extension = self._extension
                if extension is None or extension["transport"] is not self.transport:
                    extension = self._extension = {"transport": self.transport}
                self.scope["extensions"] = {TRANSPORT_EXTENSION: extension}

        def send_400_response(self, msg: str) -> None:
            conn = getattr(self, "conn", None)
            if parser_error is None or conn is None or not hasattr(conn, "trailing_data"):
                super().send_400_response(msg)
                return
            head = conn.trailing_data[0]
            status = 431 if len(head) > getattr(conn, "_max_incomplete_event_size", len(head)) else 400
            self.transport.write(parser_error(head[:8192], status))
            self.transport.close()

    TransportExposingProtocol.__name__ = TransportExposingProtocol.__qualname__ = f"TransportExposing{base.__name__}"
    return TransportExposingProtocol


def transport_of(scope: Scope) -> asyncio.Transport | None:
    """The connection's transport, when the server exposes it."""
    extension = (scope.get("extensions") or {}).get(TRANSPORT_EXTENSION) or {}
    transport = extension.get("transport")
    # uvloop's transports do not derive from asyncio.Transport: any object with abort() and close() will do
    return transport if hasattr(transport, "abort") and hasattr(transport, "close") else None


def reset(transport: asyncio.Transport) -> None:
    """Drop the connection with a TCP RST (``SO_LINGER`` 0, then abort): the client sees a reset."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):  # already gone: aborting is all that is left to do
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def close(transport: asyncio.Transport) -> None:
    """Close the connection after what was already written (FIN): the client sees it end early."""
    transport.close()


async def until_disconnected(receive: Receive) -> None:
    """Wait until the server reports the dropped connection, so it does not answer on its own."""

    async def drain() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    with contextlib.suppress(TimeoutError):  # the server never said; nothing more reaches the client anyway
        await asyncio.wait_for(drain(), DISCONNECT_WAIT)
