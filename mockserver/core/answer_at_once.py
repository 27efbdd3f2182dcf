"""Express answers written by uvicorn's httptools protocol itself, without a request cycle.

Served, a request costs uvicorn's ASGI machinery -- a scope filled in, a ``RequestResponseCycle``, a task, two
``send`` messages and two writes -- about 28 µs of the ~40 µs of CPU a trivial ASGI app takes per request on one
core (``wrk -c50`` against the mock's server with its gateway replaced by two canned messages: 25,900 req/s,
36-44 µs; the same bytes written from the parser's callback: 79,600 req/s). :func:`answering_at_once` subclasses
the protocol so that a request whose head is complete is first offered to the vendor app's gateway
(:meth:`~mockserver.core.front.Gateway.answer_at_once`): when it answers, the status line, uvicorn's default
headers (``date``, ``server``), the answer's headers and its body go out in one write, as uvicorn's ``send`` would
have formatted them, and the connection goes on as after any response. The gateway does what it does for an ASGI
request (pacer, request id, journal, ``Vary``) and declines whatever it must see as one.

A plain keep-alive ``GET`` is offered when its head is complete. A ``POST`` the gateway wants whole
(:meth:`~mockserver.core.front.Gateway.holds_body`: its express write's path, a small declared length) is held --
its body collected, no request cycle made -- until its message is complete, then offered with the body; when the
gateway declines, the request takes the ASGI way then, as if it had just arrived whole. Only a request with nothing
outstanding on the connection is offered (an earlier response still being written, pipelined requests waiting,
writes paused): the answer cannot overtake another. ``Expect``, an upgrade, a percent-encoded path and the
``X-Forwarded-*`` headers uvicorn's proxy layer reads go the ASGI way, as does a request whose answer raised (the
ASGI way then answers the crash).
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from starlette.types import Scope

from mockserver.core.front import AtOnce
from mockserver.core.request_facts import header_index

_FORWARDED = (b"x-forwarded-for", b"x-forwarded-proto")


class AnswersAtOnce(Protocol):
    """What the protocol asks of a vendor app's gateway (:class:`mockserver.core.front.Gateway`)."""

    def holds_body(self, scope: Scope) -> bool: ...

    def answer_at_once(self, scope: Scope, body: bytes | None = None) -> AtOnce | None: ...


def response_bytes(status_line: bytes, default_headers: list[tuple[bytes, bytes]],
                   headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
    """A response as uvicorn's ``send`` writes it (its status line, its default headers first), in one piece."""
    parts = [status_line]
    for name, value in (*default_headers, *headers):
        parts += (name, b": ", value, b"\r\n")
    parts += (b"\r\n", body)
    return b"".join(parts)


def answering_at_once(base: type[asyncio.Protocol], answers: AnswersAtOnce) -> type[asyncio.Protocol]:
    """A subclass of uvicorn's ``HttpToolsProtocol`` ``base`` that offers each plain ``GET``, and each ``POST``
    ``answers`` holds the body of, to ``answers`` first (see the module)."""
    import httptools  # the base is httptools' protocol: installed (the h11 fallback never gets here)
    from uvicorn.protocols.http.httptools_impl import STATUS_LINE

    return type(f"AnsweringAtOnce{base.__name__}", (AnsweringAtOnce, base),
                {"_answers": answers, "_parse_url": staticmethod(httptools.parse_url), "_status_lines": STATUS_LINE})


class AnsweringAtOnce:
    """The methods :func:`answering_at_once` puts in front of uvicorn's httptools protocol (a mixin: its attributes
    are the protocol's)."""

    _answers: AnswersAtOnce
    _parse_url: Any
    _status_lines: dict[int, bytes]
    _answered_at_once = False
    _held: list[bytes] | None = None  # the body of a POST held for the gateway, as it arrives
    _closing = False  # the server shuts down while a body is held: the ASGI way answers it, then closes
    parser: Any
    scope: Any

    def on_headers_complete(self) -> None:
        self._unset_keepalive_if_required()  # type: ignore[attr-defined]  # an answer earlier in this read armed it
        self._answered_at_once = False
        if self._may_answer():
            method = self.parser.get_method()
            if method == b"GET":
                self._answered_at_once = self._prepared("GET") and self._answer(None)
            elif method == b"POST" and self._prepared("POST") and self._answers.holds_body(self.scope):
                self._held = []
                return
        if not self._answered_at_once:
            super().on_headers_complete()  # type: ignore[misc]

    def on_body(self, body: bytes) -> None:
        held = self._held
        if held is None:
            super().on_body(body)  # type: ignore[misc]
        else:
            held.append(body)

    def on_message_complete(self) -> None:
        held = self._held
        if held is not None:
            self._held = None
            body = b"".join(held)
            if self._closing or not self._answer(body):
                self._take_asgi_way(body)
        elif not self._answered_at_once:
            super().on_message_complete()  # type: ignore[misc]

    def shutdown(self) -> None:
        if self._held is None:
            super().shutdown()  # type: ignore[misc]
        else:  # a request is arriving: the ASGI way answers it, closing the connection after it
            self._closing = True

    def _body_held(self) -> bool:
        return self._held is not None

    def _take_asgi_way(self, body: bytes) -> None:
        """A held request the gateway declined, made an ASGI request cycle as if it had just arrived whole."""
        super().on_headers_complete()  # type: ignore[misc]
        if self._closing:
            self.cycle.keep_alive = False  # type: ignore[attr-defined]
        if body:
            super().on_body(body)  # type: ignore[misc]
        super().on_message_complete()  # type: ignore[misc]

    def _may_answer(self) -> bool:
        protocol: Any = self
        parser, cycle = protocol.parser, protocol.cycle
        return (parser.get_http_version() == "1.1" and parser.should_keep_alive() and not parser.should_upgrade()
                and not protocol.expect_100_continue and (cycle is None or cycle.response_complete)
                and not protocol.pipeline and not protocol.flow.write_paused and protocol.limit_concurrency is None
                and not protocol.transport.is_closing())

    def _prepared(self, method: str) -> bool:
        """The scope's method, path and query filled in as uvicorn fills them; False for a head the gateway must
        not be offered (a percent-encoded or non-ASCII path, ``X-Forwarded-*``)."""
        protocol: Any = self
        scope = self.scope
        parsed = self._parse_url(protocol.url)
        raw_path = parsed.path
        if b"%" in raw_path or not raw_path.isascii():
            return False
        scope["method"] = method
        scope["path"] = protocol.root_path + raw_path.decode("ascii")
        scope["raw_path"] = protocol.root_path.encode("ascii") + raw_path
        scope["query_string"] = parsed.query or b""
        index = header_index(scope)
        return not any(name in index for name in _FORWARDED)

    def _answer(self, body: bytes | None) -> bool:
        """Offer the request to the gateway; whether it answered (and its answer was written)."""
        protocol: Any = self
        try:
            answered = self._answers.answer_at_once(self.scope, body)
        except Exception:  # the ASGI way answers it, and the crash handler what it raises
            return False
        if answered is None:
            return False
        status, headers, answer = answered
        protocol.transport.write(response_bytes(self._status_lines[status], protocol.server_state.default_headers,
                                                headers, answer))
        self.scope = None  # no head in progress (the head limit's check), no request cycle made for this one
        protocol.on_response_complete()
        return True
