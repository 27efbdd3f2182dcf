"""Server-sent events: parse a ``text/event-stream`` body and check it against a media type's ``x-sse``.

``x-sse`` (on a ``text/event-stream`` media type of the contracts) has:

* ``events``: event name -> JSON schema of its ``data`` (``message`` = frames without ``event:``);
* ``terminator``: a literal ``data`` payload that ends the stream (``[DONE]``);
* ``event_matches_type``: the event name equals the data's ``type``;
* ``final_events``: the event names a complete stream may end with.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

FIELDS = ("event", "data", "id", "retry")


@dataclass
class Event:
    name: str = "message"
    data: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.data)


def parse(text: str) -> tuple[list[Event], list[str]]:
    """The events of a stream (per the HTML SSE rules) and any framing problems."""
    problems: list[str] = []
    events: list[Event] = []
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    unterminated = bool(lines) and lines[-1] != ""
    if unterminated:
        problems.append("the stream does not end with a line break")
    current: Event | None = None
    for line in lines[:-1] if not unterminated else lines:
        if line == "":
            if current is not None and current.data:
                events.append(current)
            elif current is not None:
                problems.append(f"event {current.name!r} has no data line")
            current = None
            continue
        if line.startswith(":"):
            continue  # a comment (keep-alive pings)
        name, colon, value = line.partition(":")
        if not colon:
            problems.append(f"line without a field name and ':': {line[:80]!r}")
            continue
        value = value[1:] if value.startswith(" ") else value
        if name not in FIELDS:
            problems.append(f"unknown SSE field {name!r}")
            continue
        current = current or Event()
        if name == "event":
            current.name = value
        elif name == "data":
            current.data.append(value)
    if current is not None:
        problems.append(f"the last event ({current.name!r}) is not terminated by a blank line")
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
