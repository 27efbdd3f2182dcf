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
    head are never counted against it.
    """

    class HeadLimitedProtocol(base):  # type: ignore[valid-type,misc]
        _head_bytes: int | None = None  # bytes of the current head so far; None outside a head
        _refused = False

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._head_bytes = 0

        def on_headers_complete(self) -> None:
            self._head_bytes = None
            super().on_headers_complete()

        def data_received(self, data: bytes) -> None:
            if self._refused:
                return
            counting = self._head_bytes is not None
            super().data_received(data)
            if not counting or self._head_bytes is None or self.transport.is_closing():
                return
            self._head_bytes += len(data)
            if self._head_bytes > limit:
                self._refuse(431)

        def send_400_response(self, msg: str) -> None:
            self._refuse(400)

        def _refuse(self, status: int) -> None:
            self._refused = True
            self.transport.write(parser_error(request_line(getattr(self, "url", b"")[:8192]), status))
            self.transport.close()

    HeadLimitedProtocol.__name__ = HeadLimitedProtocol.__qualname__ = f"HeadLimited{base.__name__}"
    return HeadLimitedProtocol

