"""Server-sent events: the one writer and the one incremental parser of ``text/event-stream`` bodies, and the
check of a stream against a media type's ``x-sse``.

The server writes its streams with :func:`encode` / :func:`json_event` (and :data:`DONE`); the journal counts
events and the harness and the validators read streams with :class:`Parser` (bytes fed chunk by chunk, events
out as each ends, per the HTML rules: lines end with CRLF, LF or CR; ``:`` starts a comment; several ``data``
lines join with LF; a blank line ends an event).

``x-sse`` (on a ``text/event-stream`` media type of the contracts) has:

* ``events``: event name -> JSON schema of its ``data`` (``message`` = frames without ``event:``);
* ``terminator``: a literal ``data`` payload that ends the stream (``[DONE]``);
* ``event_matches_type``: the event name equals the data's ``type``;
* ``final_events``: the event names a complete stream may end with.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

#: The terminator of an OpenAI-style stream (Chat Completions).
DONE = b"data: [DONE]\n\n"

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LINE_END = re.compile(rb"\r\n|\r|\n")


@dataclass
class Event:
    """One event: its ``event`` field (None: absent), its ``data`` lines, ``id``, ``retry``, and the lines of
    its block that were not SSE fields."""

    event: str | None = None
    data: list[str] = field(default_factory=list)
    id: str | None = None
    retry: str | None = None
    unknown: list[str] = field(default_factory=list)
    #: Offset just past the blank line that ended the event, in the chunk that ended it (where to cut a stream).
    end: int = 0

    @property
    def name(self) -> str:
        """The event type a browser dispatches: ``message`` when the stream names none."""
        return self.event or "message"

    @property
    def text(self) -> str:
        return "\n".join(self.data)

    @property
    def has_field(self) -> bool:
        """The block had an SSE field (not only comments and unknown lines)."""
        return bool(self.data) or self.event is not None or self.id is not None or self.retry is not None


# -- the writer --------------------------------------------------------------------------------------------------


def encode(data: str, event: str | None = None, id: str | None = None, retry: int | None = None,
           newline: str = "\n") -> bytes:
    """One event as bytes: ``id``, ``event``, one ``data:`` line per line of ``data``, ``retry``, a blank line.

    Line breaks inside ``data`` become separate ``data:`` lines (a reader joins them with LF), so any text is
    sent safely; ``newline`` is the line end written (``\\r\\n`` for the ``sse-starlette`` style).
    """
    lines = [] if id is None else [f"id: {_one_line(id)}"]
    if event is not None:
        lines.append(f"event: {_one_line(event)}")
    lines.extend(f"data: {line}" for line in _LINE_BREAK.split(data))
    if retry is not None:
        lines.append(f"retry: {int(retry)}")
    lines.append("")
    lines.append("")
    return newline.join(lines).encode()


def json_event(payload: Any, event: str | None = None) -> bytes:
    """An event whose data is compact JSON (UTF-8 kept as is), as the OpenAI SDKs read them.

    orjson writes what ``json.dumps(payload, ensure_ascii=False, separators=(",", ":"))`` writes, several times
    faster (a float may take another form of the same value: ``1e-05`` is ``0.00001``), and escapes every line
    break, so the data is one line.
    """
    data = orjson.dumps(payload)
    if event:
        return b"event: " + _one_line(event).encode() + b"\ndata: " + data + b"\n\n"
    return b"data: " + data + b"\n\n"


def _one_line(text: str) -> str:
    return _LINE_BREAK.sub("", text)


# -- the parser --------------------------------------------------------------------------------------------------


class Parser:
    """An incremental ``text/event-stream`` reader: :meth:`feed` bytes as they arrive, get the events they end.

    A line split across chunks (even a CRLF split between its CR and LF, or a UTF-8 character split in two) is
    joined first. ``problems`` collects the lines that are not SSE fields. Only the current line and event are
    kept, never the stream.
    """

    def __init__(self) -> None:
        self.problems: list[str] = []
        self._partial = bytearray()
        self._after_cr = False
        self._event: Event | None = None

    def feed(self, chunk: bytes) -> list[Event]:
        """The events that ``chunk`` completes (in order)."""
        if not chunk:
            return []
        start = 1 if self._after_cr and chunk[:1] == b"\n" else 0  # the LF of a CRLF whose CR ended the last chunk
        self._after_cr = chunk[-1:] == b"\r"
        events: list[Event] = []
        for match in _LINE_END.finditer(chunk, start):
            line = chunk[start:match.start()]
            if self._partial:
                line = bytes(self._partial) + line
                self._partial.clear()
            self._line(line.decode("utf-8", "replace"), events, match.end())
            start = match.end()
        self._partial += chunk[start:]
        return events

    def close(self) -> Event | None:
        """End of stream: the last event if it was not ended by a blank line (a reader drops it), else None."""
        if self._partial:
            line = bytes(self._partial).decode("utf-8", "replace")
            self._partial.clear()
            self._line(line, [], 0)
        event, self._event = self._event, None
        return event

    @property
    def pending(self) -> bool:
        """Bytes of an unfinished line are waiting for its end."""
        return bool(self._partial)

    def _line(self, line: str, events: list[Event], end: int) -> None:
        if not line:
            if self._event is not None:
                self._event.end = end
                events.append(self._event)
                self._event = None
            return
        if line.startswith(":"):
            return  # a comment (keep-alive pings)
        event = self._event = self._event or Event()
        name, colon, value = line.partition(":")
        if not colon:
            self.problems.append(f"line without a field name and ':': {line[:80]!r}")
            event.unknown.append(line)
            return
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            event.data.append(value)
        elif name == "event":
            event.event = value
        elif name == "id":
            event.id = value
        elif name == "retry":
            event.retry = value
        else:
            self.problems.append(f"unknown SSE field {name!r}")
            event.unknown.append(line)


class EventCounter:
    """Counts the events of a stream as it passes (``feed`` chunks, read ``events``); keeps no event.

    It counts what :class:`Parser` would dispatch -- blocks ended by a blank line that hold a line other than a
    ``:`` comment -- without decoding or splitting fields: the journal runs it over every streamed byte.
    """

    def __init__(self) -> None:
        self.events = 0
        self._partial = b""
        self._after_cr = False
        self._open = False  # the current block has a line that is not a comment

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        if self._after_cr and chunk[:1] == b"\n":  # the LF of a CRLF whose CR ended the last chunk
            chunk = chunk[1:]
        self._after_cr = chunk[-1:] == b"\r"
        lines = _LINE_END.split(chunk) if b"\r" in chunk else chunk.split(b"\n")
        if self._partial:
            lines[0] = self._partial + lines[0]
        self._partial = lines.pop()
        for line in lines:
            if not line:
                if self._open:
                    self.events += 1
                    self._open = False
            elif line[:1] != b":":
                self._open = True


def parse(text: str) -> tuple[list[Event], list[str]]:
    """The events of a whole stream that carry data, and any framing problems."""
    parser = Parser()
    ended = parser.feed(text.encode())
    problems = ["the stream does not end with a line break"] if parser.pending else []
    last = parser.close()
    problems.extend(parser.problems)
    events: list[Event] = []
    for event in ended:
        if event.data:
            events.append(event)
        elif event.has_field:
            problems.append(f"event {event.name!r} has no data line")
    if last is not None and last.has_field:
        problems.append(f"the last event ({last.name!r}) is not terminated by a blank line")
    return events, problems


#: ``check(event_name, data) -> problems``
SchemaCheck = Callable[[str, Any], list[str]]


def check(text: str, spec: dict[str, Any], validate: SchemaCheck, complete: bool = True) -> list[str]:
    """Problems of ``text`` against ``spec`` (``x-sse``); ``validate(name, data)`` checks one event's data.

    ``complete`` is False for a stream the client stopped reading: what arrived is checked, not its end.
    """
    events, problems = parse(text)
    if not complete:
        problems = [p for p in problems if "terminated" not in p and "line break" not in p]
    schemas: dict[str, Any] = spec.get("events", {})
    terminator = spec.get("terminator")
    for index, event in enumerate(events):
        where = f"event #{index} ({event.name})"
        if terminator is not None and event.text == terminator:
            if index != len(events) - 1:
                problems.append(f"{where}: {terminator!r} is followed by more events")
            continue
        if event.name not in schemas:
            problems.append(f"{where}: undocumented event name (documented: {', '.join(schemas)})")
            continue
        try:
            data = json.loads(event.text)
        except ValueError:
            problems.append(f"{where}: data is not JSON: {event.text[:80]!r}")
            continue
        if spec.get("event_matches_type") and isinstance(data, dict) and data.get("type") != event.name:
            problems.append(f"{where}: data.type is {data.get('type')!r}, not the event name")
        problems.extend(f"{where}: {problem}" for problem in validate(event.name, data))
    if complete:
        if not events:
            problems.append("the stream has no events")
        elif terminator is not None and events[-1].text != terminator:
            problems.append(f"the stream does not end with data: {terminator}")
        elif spec.get("final_events") and events[-1].name not in spec["final_events"]:
            problems.append(f"the stream ends with {events[-1].name!r}, not one of {spec['final_events']}")
    return problems
