"""A subject followed for one URL: its timeline source, payload renderer, cursor and queue of deliveries.

* ``timeline()`` -- the subject's whole timeline as ``[(event, at), ...]`` in time order, reached
  and still scheduled, or ``None`` once the subject is gone. Entries already reached never change;
  a timeline may only be cut short and given a new final entry (a cancellation), and its last entry
  ends it;
* ``render(event, at)`` -- the JSON payload for one transition, as of virtual time ``at``.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mockserver.core.webhooks.records import Delivery

TimelineSource = Callable[[], Sequence[tuple[str, float]] | None]
Renderer = Callable[[str, float], dict[str, Any]]
#: What names a subject for rebuilding it in another process: its kind and a JSON context (e.g. the links it prints).
Source = tuple[str, Any]
#: ``rebuild(subject, context)``: the subject's timeline and renderer, or None once it is gone.
Rebuild = Callable[[str, Any], tuple[TimelineSource, Renderer] | None]


@dataclass(eq=False)
class Subscription:
    """A subject followed for one URL and a set of events."""

    subject: str
    owner: str
    url: str
    events: frozenset[str]
    timeline: TimelineSource
    render: Renderer
    source: Source | None = None  # how another process rebuilds it (see Webhooks.register_source)
    cursor: int = 0  # timeline entries already seen (enqueued or skipped)
    next_at: float | None = None  # the next scheduled transition
    ended: bool = False  # the whole timeline has been seen, or the subject is gone
    queue: deque[Delivery] = field(default_factory=deque)
    kick: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    @property
    def head(self) -> Delivery | None:
        return self.queue[0] if self.queue else None

    def advance(self, clock: Callable[[], float], enqueue: Callable[[str, float, float], None]) -> bool:
        """Read the timeline up to ``clock()`` and ``enqueue(event, at, now)`` each subscribed entry reached since
        the last read, in order; True if any was. Then moves the cursor, and notes the next scheduled transition
        and whether the timeline has ended (an ``enqueue`` that raises leaves the cursor where it was).
        """
        line = self.timeline()
        now = clock()
        if line is None:
            self.ended, self.next_at = True, None
            return False
        reached = 0
        while reached < len(line) and line[reached][1] <= now:
            reached += 1
        added = False
        for event, at in line[self.cursor:reached]:
            if event in self.events:
                enqueue(event, at, now)
                added = True
        self.cursor = max(self.cursor, reached)
        self.next_at = line[reached][1] if reached < len(line) else None
        self.ended = reached >= len(line)
        return added
