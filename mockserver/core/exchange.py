"""One request's way out: its response start stamped, its progress tracked, and -- for an API request -- recorded.

:class:`Exchange` is the one ``send`` wrapper a request meets between the app and the server
(:class:`mockserver.core.front.Gateway` makes one per request). On the response start it adds the request id
(``x-request-id``, unless the app set one) and, where CORS applies to a request without ``Origin``,
``Vary: Origin`` (merged as Starlette's CORS middleware merges it), in one pass over the headers; it notes that a
response started (the crash and exception handlers must not answer twice). With a journal
:class:`~mockserver.core.journal.Entry` it also records the exchange as it passes: status, response headers (by
reference, as the client got them, id included), the body's first bytes, server-sent events counted, the request
body's first bytes as the app reads it -- and adds the entry to the journal before the response's last chunk
goes out (or before a fault drops the connection: :func:`~mockserver.core.journal_commit.commit_journal`), so a
client that has its whole answer finds the request in the journal.
"""

from __future__ import annotations

import time

from starlette.types import Message, Receive, Send

from mockserver.core.conventions import vary_origin
from mockserver.core.journal import NO_BODY, BodyCapture, Entry, Journal
from mockserver.core.request_facts import RequestFacts
from mockserver.core.rules.select import NOTHING
from mockserver.spec.sse import EventCounter

_ID_HEADER = b"x-request-id"


def with_request_id(message: Message, rid: bytes) -> None:
    """``x-request-id: rid`` added to a response start, unless the app set one."""
    headers = message.get("headers") or ()
    for name, _ in headers:
        if name.lower() == _ID_HEADER:
            return
    message["headers"] = [*headers, (_ID_HEADER, rid)]


def stamp(message: Message, rid: bytes, vary: bool) -> bool:
    """The request id (unless the app set one) and, with ``vary``, ``Vary: Origin`` added to a response start, in one
    pass over its headers: what :func:`with_request_id` and then :func:`~mockserver.core.conventions.vary_origin`
    do. Whether the response is a stream of server-sent events (its first ``Content-Type``), seen on the way."""
    headers = message.get("headers") or ()
    has_id = has_vary = False
    events: bool | None = None
    for name, value in headers:
        lowered = name.lower()
        if lowered == _ID_HEADER:
            has_id = True
        elif lowered == b"vary":
            has_vary = True
        elif events is None and lowered == b"content-type":
            events = value.lower().startswith(b"text/event-stream")
    if vary and has_vary:  # merged into the app's Vary, as Starlette's CORS does
        with_request_id(message, rid)
        vary_origin(message)
    elif vary:
        message["headers"] = [*headers, (b"vary", b"Origin")] if has_id else \
            [*headers, (_ID_HEADER, rid), (b"vary", b"Origin")]
    elif not has_id:
        message["headers"] = [*headers, (_ID_HEADER, rid)]
    return bool(events)


class Exchange:
    """One request's ``send`` (and, when recorded, ``receive``) wrapper: see the module.

    Without :meth:`record` nothing is recorded (the mock's own ``/_mock`` paths). ``out`` may be replaced after the
    exchange is made (below Starlette's CORS middleware, whose ``send`` wrapper comes later).
    """

    __slots__ = ("committed", "disconnected", "entry", "facts", "finished", "inbound", "journal", "out", "rid",
                 "sse", "started", "t0", "vary")

    def __init__(self, send: Send, rid: bytes, vary: bool) -> None:
        self.out = send  # where the response goes: the server's send (or Starlette's CORS middleware's)
        self.inbound: Receive | None = None
        self.rid = rid
        self.vary = vary
        self.entry: Entry | None = None
        self.journal: Journal | None = None
        self.facts: RequestFacts | None = None
        self.started = self.finished = self.disconnected = self.committed = False
        self.sse: EventCounter | None = None
        self.t0 = time.perf_counter()

    def record(self, entry: Entry, journal: Journal, facts: RequestFacts, receive: Receive) -> None:
        """Record the exchange in ``entry``, added to ``journal`` when it ends; :meth:`receive` reads ``receive``."""
        self.entry, self.journal, self.facts, self.inbound = entry, journal, facts, receive

    async def receive(self) -> Message:
        assert self.inbound is not None
        message = await self.inbound()
        if message["type"] == "http.request":
            self.received(message.get("body", b""))
        elif message["type"] == "http.disconnect":
            self.disconnected = True
        return message

    def received(self, chunk: bytes) -> None:
        """A chunk of the request body, as the app reads it (or the whole body a server read itself): recorded."""
        if chunk and self.entry is not None:
            body = self.entry.request_body
            if body is NO_BODY:
                assert self.journal is not None
                body = self.entry.request_body = BodyCapture(self.journal.body_cap)
            body.feed(chunk)

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self._start(message)
        elif kind == "http.response.body" and self.entry is not None and self._fed(message):
            journal = self.journal
            if journal is not None and journal.batched:
                await self.commit_soon()
            elif journal is not None and not self.committed:  # commit(None), written out
                self.committed = True
                journal.add(self.close(None))
        await self.out(message)

    def sent_at_once(self, start: Message, body: bytes) -> None:
        """What :meth:`send` does for ``start`` and one last chunk ``body``, for a server that writes them itself
        (a journal of this process: a shared one's batch is awaited)."""
        self._start(start)
        if self.entry is not None:
            self._fed({"type": "http.response.body", "body": body})
            self.commit(None)

    def _start(self, message: Message) -> None:
        """A response start: stamped; status and headers recorded."""
        self.started = True
        events = stamp(message, self.rid, self.vary)
        entry = self.entry
        if entry is not None:
            entry.status = message["status"]
            entry.response_headers = message.get("headers", ())  # by reference: rendered when read
            if events:
                self.sse = EventCounter()

    def _fed(self, message: Message) -> bool:
        """A body chunk recorded in the entry; whether it was the last."""
        assert self.entry is not None
        chunk = message.get("body", b"")
        self.entry.response_body.feed(chunk)
        if self.sse is not None and chunk:
            self.sse.feed(chunk)
        if message.get("more_body", False):
            return False
        self.finished = True
        return True

    async def commit_soon(self) -> None:
        """:meth:`commit` of a finished response through the journal's batch (before its last chunk goes)."""
        if not self.committed and self.entry is not None and self.journal is not None:
            self.committed = True
            await self.journal.add_soon(self.close(None))

    def commit(self, exc: BaseException | None) -> None:
        """Close the entry and add it to the journal (once; nothing without an entry)."""
        if not self.committed and self.entry is not None and self.journal is not None:
            self.committed = True
            self.journal.add(self.close(exc))

    def close(self, exc: BaseException | None) -> Entry:
        """The entry with what the response left: latency, rules, events, and why it ended early if it did."""
        entry = self.entry
        assert entry is not None and self.facts is not None
        entry.latency_ms = (time.perf_counter() - self.t0) * 1000
        selection = self.facts.selection or NOTHING
        entry.rule_ids, entry.scenario = selection.rule_ids, selection.scenario
        if self.sse is not None:
            entry.events = self.sse.events
        if self.finished:
            return entry
        fault = selection.fault
        scripted = fault.journal_error(started=self.started, events=entry.events) if fault is not None else None
        if scripted is not None:
            entry.error = scripted
        elif not self.started:
            if exc is not None:  # an unexpected exception: the crash handler answers 500
                entry.status = 500
                entry.error = f"unhandled {type(exc).__name__}: {exc}"[:500]
            else:
                entry.error = "connection closed without a response"
        elif self.disconnected:
            entry.error = "client disconnected before the response ended"
        else:
            entry.error = "response cut off (connection dropped mid-body)"
        return entry
