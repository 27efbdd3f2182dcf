"""Faults: things that go wrong on the wire, as a registry of classes (WireMock-style extensions).

Each fault type is one :class:`Fault` subclass registered with :data:`FAULTS`: it names its ``type`` and the
``fields`` it takes, parses itself from a rule's JSON (:meth:`Fault.parse`, raising :class:`RuleError`), shows
itself as JSON (:meth:`Fault.as_json`), applies itself to one request on the ASGI ``send``/``receive``
(:meth:`Fault.apply`) and says what the journal records when it left a response unfinished
(:meth:`Fault.journal_error`). Adding a fault type is one class decorated with ``@FAULTS.register``.

The built-in types:

* ``latency``: real time (``asyncio.sleep``) before the normal answer -- it simulates a slow network, not
  slow work, so it does not move the virtual clock;
* ``error`` / ``rate_limit``: the API's own error body (429 with ``Retry-After`` and ``retry-after-ms``),
  without calling the app;
* ``reset``: a TCP RST before any byte of response; ``empty``: the connection closes (FIN) without a response;
* ``sse_cut``: the app answers; after ``after_events`` server-sent events (blocks ended by a blank line) the
  connection closes mid-body, so the client sees an incomplete chunked response. A response that is not
  ``text/event-stream`` is left alone (the rule still counts as fired).

Dropping needs the connection's transport (:mod:`mockserver.core.wire`); without it (an in-process ASGI
client) the fault raises :class:`~mockserver.core.wire.ConnectionDropped` instead.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar, TypeVar

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.core import wire
from mockserver.core.asgi import ErrorRenderer, error_response
from mockserver.core.errors import ApiError, http_error_id
from mockserver.core.rules.fields import RuleError, integer, number, text
from mockserver.spec.sse import Parser

# -- the extension point -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FaultCall:
    """One request a fault applies to: the app that would answer it, the ASGI triple, and who scripted it."""

    app: ASGIApp
    scope: Scope
    receive: Receive
    send: Send
    rule_ids: Sequence[str]
    render: ErrorRenderer

    async def answer(self, error: ApiError) -> None:
        """Answer with ``error`` in the API's own error format, without calling the app."""
        await error_response(error, Request(self.scope, self.receive), self.render)(self.scope, self.receive,
                                                                                     self.send)

    def scripted_by(self) -> str:
        """``mock rule r1, r2`` (or ``a mock rule``), for messages."""
        return f"mock rule {', '.join(self.rule_ids)}" if self.rule_ids else "a mock rule"


@dataclass(frozen=True)
class Fault:
    """One fault type: subclass it (a frozen dataclass whose fields are the JSON fields) and register it."""

    type: ClassVar[str]
    fields: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def parse(cls, spec: Mapping[str, Any]) -> Fault:
        """The fault from its JSON (``type`` and only this type's ``fields``, already checked)."""
        return cls()

    def as_json(self) -> dict[str, Any]:
        """``{"type", <fields that are set>}``."""
        out = {"type": self.type, **{name: getattr(self, name) for name in self.fields}}
        return {k: v for k, v in out.items() if v is not None}

    async def apply(self, call: FaultCall) -> None:
        """Answer the request with this fault applied (default: the normal answer)."""
        await call.app(call.scope, call.receive, call.send)

    def journal_error(self, *, started: bool, events: int | None) -> str | None:
        """What the journal records for a response this fault left unfinished (None: the generic text)."""
        return None


F = TypeVar("F", bound=type[Fault])


class FaultRegistry:
    """The fault types rules can name, in registration order."""

    def __init__(self) -> None:
        self._types: dict[str, type[Fault]] = {}

    def register(self, cls: F) -> F:
        """Add a fault type (usable as a class decorator); a type name is registered once."""
        if cls.type in self._types:
            raise ValueError(f"fault type {cls.type!r} is already registered")
        self._types[cls.type] = cls
        return cls

    def unregister(self, name: str) -> None:
        self._types.pop(name, None)

    def names(self) -> tuple[str, ...]:
        return tuple(self._types)

    def parse(self, spec: Any) -> Fault:
        """A fault from a rule's ``fault`` (an object with a ``type``, or the type name alone)."""
        if isinstance(spec, str):
            spec = {"type": spec}
        if not isinstance(spec, Mapping):
            raise RuleError("fault must be an object with a type")
        cls = self._types.get(spec.get("type")) if isinstance(spec.get("type"), str) else None
        if cls is None:
            raise RuleError(f"fault.type must be one of {', '.join(self._types)}")
        unknown = set(spec) - {"type", *cls.fields}
        if unknown:
            takes = ", ".join(cls.fields) or "no other fields"
            raise RuleError(f"unknown field(s) for fault type {cls.type}: {', '.join(sorted(unknown))} "
                            f"(it takes {takes})")
        return cls.parse(spec)


#: The one registry of fault types.
FAULTS = FaultRegistry()


# -- the built-in faults -------------------------------------------------------------------------------


@FAULTS.register
@dataclass(frozen=True)
class Latency(Fault):
    """Real (not virtual) time before the normal answer: a slow network."""

    type: ClassVar[str] = "latency"
    fields: ClassVar[tuple[str, ...]] = ("latency_ms",)
    latency_ms: float = 0.0

    @classmethod
    def parse(cls, spec: Mapping[str, Any]) -> Fault:
        return cls(latency_ms=number(spec, "latency_ms", 0.0, 0.0, 600_000.0))

    async def apply(self, call: FaultCall) -> None:
        await asyncio.sleep(self.latency_ms / 1000)
        await call.app(call.scope, call.receive, call.send)


@FAULTS.register
@dataclass(frozen=True)
class ErrorStatus(Fault):
    """An error status in the API's own error format (``error_id`` defaults from the status)."""

    type: ClassVar[str] = "error"
    fields: ClassVar[tuple[str, ...]] = ("status", "error_id", "message")
    status: int = 500
    error_id: str | None = None
    message: str | None = None

    @classmethod
    def parse(cls, spec: Mapping[str, Any]) -> Fault:
        message = text(spec, "message")
        status = spec.get("status", 500)
        if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
            raise RuleError("fault.status must be an HTTP error status (400-599)")
        return cls(status=status, error_id=text(spec, "error_id"), message=message)

    def error(self, scripted_by: str) -> ApiError:
        try:
            phrase = HTTPStatus(self.status).phrase
        except ValueError:
            phrase = "Error"
        message = self.message or f"{phrase} (HTTP {self.status} scripted by {scripted_by})"
        return ApiError(self.status, self.error_id or http_error_id(self.status), message)

    async def apply(self, call: FaultCall) -> None:
        await call.answer(self.error(call.scripted_by()))


@FAULTS.register
@dataclass(frozen=True)
class RateLimit(Fault):
    """A 429 with ``Retry-After`` (whole seconds) and ``retry-after-ms``."""

    type: ClassVar[str] = "rate_limit"
    fields: ClassVar[tuple[str, ...]] = ("retry_after", "message")
    retry_after: float = 1.0
    message: str | None = None

    @classmethod
    def parse(cls, spec: Mapping[str, Any]) -> Fault:
        message = text(spec, "message")
        return cls(retry_after=number(spec, "retry_after", 1.0, 0.0, 86_400.0), message=message)

    def error(self, scripted_by: str) -> ApiError:
        seconds = math.ceil(self.retry_after)
        return ApiError(
            429, "RATE_LIMIT_EXCEEDED",
            self.message or f"Rate limit exceeded (scripted by {scripted_by}). Retry in {seconds} s.",
            code="rate_limit_exceeded",
            headers={"Retry-After": str(seconds), "retry-after-ms": str(round(self.retry_after * 1000))},
            details={"retry_after": seconds},
        )

    async def apply(self, call: FaultCall) -> None:
        await call.answer(self.error(call.scripted_by()))


@FAULTS.register
@dataclass(frozen=True)
class Reset(Fault):
    """A TCP RST before any byte of response."""

    type: ClassVar[str] = "reset"

    async def apply(self, call: FaultCall) -> None:
        await drop(call.scope, call.receive, wire.reset, self.type)

    def journal_error(self, *, started: bool, events: int | None) -> str | None:
        return None if started else "connection reset (scripted reset fault)"


@FAULTS.register
@dataclass(frozen=True)
class EmptyReply(Fault):
    """The connection closes (FIN) without a response, after the request body is read."""

    type: ClassVar[str] = "empty"

    async def apply(self, call: FaultCall) -> None:
        await finish_reading(call.receive)
        await drop(call.scope, call.receive, wire.close, self.type)

    def journal_error(self, *, started: bool, events: int | None) -> str | None:
        return None if started else "connection closed with an empty reply (scripted empty fault)"


@FAULTS.register
@dataclass(frozen=True)
class SseCut(Fault):
    """The app answers; the connection drops after ``after_events`` server-sent events."""

    type: ClassVar[str] = "sse_cut"
    fields: ClassVar[tuple[str, ...]] = ("after_events",)
    after_events: int = 0

    @classmethod
    def parse(cls, spec: Mapping[str, Any]) -> Fault:
        return cls(after_events=integer(spec, "after_events", 0, 0, "fault.after_events must be an integer >= 0"))

    async def apply(self, call: FaultCall) -> None:
        await cut_stream(call.app, call.scope, call.receive, call.send, self.after_events)

    def journal_error(self, *, started: bool, events: int | None) -> str | None:
        return f"stream cut after {events} event(s) (scripted sse_cut fault)" if started else None


# -- dropping and cutting connections ------------------------------------------------------------------


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
    wire.before_drop(scope)
    how(transport)
    await wire.until_disconnected(receive)


class SseEvents:
    """Counts the server-sent events of a byte stream (the shared :class:`mockserver.spec.sse.Parser`).

    Comment blocks (``: ping`` keep-alives) are not events, so ``sse_cut`` counts what a client reads.
    """

    def __init__(self) -> None:
        self.count = 0
        self._parser = Parser()

    def feed(self, chunk: bytes, stop_at: int) -> int | None:
        """Consume ``chunk``; the offset just past the end of event number ``stop_at``, if it ends here."""
        for event in self._parser.feed(chunk):
            self.count += 1
            if self.count == stop_at:
                return event.end
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


class _Cutter:
    """The ``send`` of a stream that is cut after ``after_events`` events."""

    def __init__(self, scope: Scope, send: Send, after_events: int) -> None:
        self.scope = scope
        self.transport = wire.transport_of(scope)
        self.send_on = send
        self.after_events = after_events
        self.events = SseEvents()
        self.streaming = False
        self.cut = False

    async def cut_now(self) -> None:
        self.cut = True
        if self.transport is not None:
            wire.before_drop(self.scope)
            wire.close(self.transport)
        raise wire.ConnectionDropped(
            f"scripted sse_cut fault: the stream was cut after {self.events.count} event(s)")

    async def send(self, message: Message) -> None:
        if self.cut:
            raise wire.ConnectionDropped("scripted sse_cut fault: the stream was already cut")
        if message["type"] == "http.response.start":
            self.streaming = _is_event_stream(message)
            await self.send_on(message)
            if self.streaming and self.after_events == 0:
                await self.cut_now()
            return
        if not self.streaming or message["type"] != "http.response.body":
            await self.send_on(message)
            return
        body = message.get("body", b"")
        end = self.events.feed(body, self.after_events)
        if end is None:
            await self.send_on(message)
            return
        await self.send_on({"type": "http.response.body", "body": body[:end], "more_body": True})
        await self.cut_now()


async def cut_stream(app: ASGIApp, scope: Scope, receive: Receive, send: Send, after_events: int) -> None:
    """Serve normally, but drop the connection after ``after_events`` SSE events.

    The events before the cut reach the client intact; then the connection closes mid-body, so the client
    sees an incomplete chunked response. Responses that are not ``text/event-stream`` are left alone. The
    app learns of the cut from ``send`` raising :class:`wire.ConnectionDropped`.
    """
    cutter = _Cutter(scope, send, after_events)
    try:
        await app(scope, receive, cutter.send)
    except BaseException as exc:
        if not (cutter.cut and cutter.transport is not None and _only_drops(exc)):
            raise
        await wire.until_disconnected(receive)
