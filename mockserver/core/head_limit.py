"""Request heads under uvicorn's httptools protocol: bounded, and refused in the API's error format.

httptools (llhttp) sets no limit on header bytes, and uvicorn answers a request it cannot parse with a
plain-text 400. :func:`head_limited` subclasses that protocol so that

* a head still incomplete after ``limit`` bytes is refused at once with a 431 (the exact limit is the
  boundary middleware's, which answers 431 for a complete head past ``max_header_bytes``; this one only
  bounds what the server buffers), and
* a malformed request gets a 400,

both written by ``parser_error`` (:func:`mockserver.core.boundary.protocol_error_response`), with
``Connection: close``. The h11 protocol gets the same through :func:`mockserver.core.wire.transport_exposing`.
"""

from __future__ import annotations

import asyncio

from mockserver.core.wire import ParserErrorWriter, is_httptools

__all__ = ["head_limited", "is_httptools", "request_line"]


def request_line(url: bytes) -> bytes:
    """A request line naming ``url``: all ``parser_error`` reads is the path (which API's error format)."""
    return b"GET " + (url or b"/") + b" HTTP/1.1"


def head_limited(base: type[asyncio.Protocol], parser_error: ParserErrorWriter, limit: int) -> type[asyncio.Protocol]:
    """A subclass of uvicorn's ``HttpToolsProtocol`` ``base`` that bounds request heads to about ``limit`` bytes.

    Bytes are counted per chunk read while a head is incomplete, from the chunk after the one the request
    began in: what the server holds stays below ``limit`` plus two reads, and pipelined bodies before a
    head are never counted against it. A head is incomplete while the protocol's current scope (made when a
    request begins) has no request cycle yet (made when its headers are complete): one check after each read,
    where hooks on the parser's callbacks cost three more Python calls per request.
    """

    class HeadLimitedProtocol(base):  # type: ignore[valid-type,misc]
        scope: dict | None = None  # uvicorn's: the current request's, from its first byte
        _head_bytes = 0  # bytes of the current head read after the chunk it began in
        _refused = False

        def data_received(self, data: bytes) -> None:
            if self._refused:
                return
            before = self.scope
            super().data_received(data)
            scope, cycle = self.scope, self.cycle
            if (scope is None or (cycle is not None and cycle.scope is scope) or self._body_held()
                    or self.transport.is_closing()):
                return  # no head begun, or its headers are complete
            if scope is not before:  # the head began in this chunk
                self._head_bytes = 0
                return
            self._head_bytes += len(data)
            if self._head_bytes > limit:
                self._refuse(431)

        def send_400_response(self, msg: str) -> None:
            self._refuse(400)

        def _body_held(self) -> bool:
            """Whether a subclass holds the current request's body, its head complete with no request cycle made."""
            return False

        def _refuse(self, status: int) -> None:
            self._refused = True
            self.transport.write(parser_error(request_line(getattr(self, "url", b"")[:8192]), status))
            self.transport.close()

    HeadLimitedProtocol.__name__ = HeadLimitedProtocol.__qualname__ = f"HeadLimited{base.__name__}"
    return HeadLimitedProtocol
