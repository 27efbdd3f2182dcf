"""Express answers written by uvicorn's httptools protocol itself, without a request cycle.

Served, a request costs uvicorn's ASGI machinery -- a scope filled in, a ``RequestResponseCycle``, a task, two
``send`` messages and two writes -- about 28 µs of the ~40 µs of CPU a trivial ASGI app takes per request on one
core (``wrk -c50`` against the mock's server with its gateway replaced by two canned messages: 25,900 req/s,
36-44 µs; the same bytes written from the parser's callback: 79,600 req/s). :func:`answering_at_once` subclasses
the protocol so that a request whose head is complete is first offered to the vendor app's
:meth:`~mockserver.core.front.Gateway.answer_at_once`: when it answers, the status line, uvicorn's default headers
(``date``, ``server``), the answer's headers and its body go out in one write, as uvicorn's ``send`` would have
formatted them, and the connection goes on as after any response. The gateway does what it does for an ASGI
request (pacer, request id, journal, ``Vary``) and declines whatever it must see as one.

Only a plain keep-alive ``GET`` is offered, and only when nothing is outstanding on the connection (an earlier
response still being written, pipelined requests waiting, writes paused): the answer cannot overtake another.
``Expect``, an upgrade, a percent-encoded path and the ``X-Forwarded-*`` headers uvicorn's proxy layer reads go the
ASGI way, as does a request whose answer raised (the ASGI way then answers the crash).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from starlette.types import Scope

from mockserver.core.front import AtOnce
from mockserver.core.request_facts import header_index

#: ``answer(scope) -> (headers, body) | None``: :meth:`mockserver.core.front.Gateway.answer_at_once`.
AnswerAtOnce = Callable[[Scope], AtOnce | None]
_STATUS_200 = b"HTTP/1.1 200 OK\r\n"
_FORWARDED = (b"x-forwarded-for", b"x-forwarded-proto")


def response_bytes(default_headers: Sequence[tuple[bytes, bytes]], headers: Sequence[tuple[bytes, bytes]],
                   body: bytes) -> bytes:
    """A 200 response as uvicorn's ``send`` writes it (its default headers first), in one piece."""
    parts = [_STATUS_200]
    for name, value in (*default_headers, *headers):
        parts += (name, b": ", value, b"\r\n")
    parts += (b"\r\n", body)
    return b"".join(parts)


def answering_at_once(base: type[asyncio.Protocol], answer: AnswerAtOnce) -> type[asyncio.Protocol]:
    """A subclass of uvicorn's ``HttpToolsProtocol`` ``base`` that offers each plain ``GET`` to ``answer`` first
    (see the module)."""
    import httptools  # the base is httptools' protocol: installed

    class AnsweringAtOnceProtocol(base):  # type: ignore[valid-type,misc]
        _answered_at_once = False

        def on_headers_complete(self) -> None:
            self._unset_keepalive_if_required()  # an answer earlier in this read armed it
            self._answered_at_once = self._may_answer() and self._answer()
            if not self._answered_at_once:
                super().on_headers_complete()

        def on_message_complete(self) -> None:
            if not self._answered_at_once:
                super().on_message_complete()

        def _may_answer(self) -> bool:
            parser, cycle = self.parser, self.cycle
            return (parser.get_method() == b"GET" and parser.get_http_version() == "1.1"
                    and parser.should_keep_alive() and not parser.should_upgrade() and not self.expect_100_continue
                    and (cycle is None or cycle.response_complete) and not self.pipeline
                    and not self.flow.write_paused and self.limit_concurrency is None
                    and not self.transport.is_closing())

        def _answer(self) -> bool:
            scope: Any = self.scope
            parsed = httptools.parse_url(self.url)
            raw_path = parsed.path
            if b"%" in raw_path or not raw_path.isascii():
                return False
            scope["method"] = "GET"
            scope["path"] = self.root_path + raw_path.decode("ascii")
            scope["raw_path"] = self.root_path.encode("ascii") + raw_path
            scope["query_string"] = parsed.query or b""
            index = header_index(scope)
            if any(name in index for name in _FORWARDED):
                return False
            try:
                answered = answer(scope)
            except Exception:  # the ASGI way answers it, and the crash handler what it raises
                return False
            if answered is None:
                return False
            headers, body = answered
            self.transport.write(response_bytes(self.server_state.default_headers, headers, body))
            self.scope = None  # no head in progress (the head limit's check), no request cycle made for this one
            self.on_response_complete()
            return True

    AnsweringAtOnceProtocol.__name__ = AnsweringAtOnceProtocol.__qualname__ = f"AnsweringAtOnce{base.__name__}"
    return AnsweringAtOnceProtocol
