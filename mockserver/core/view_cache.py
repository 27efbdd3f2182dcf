"""Rendered views of job records, kept while they cannot change: the same record object, the clock in one window.

A job's view (a prediction, a GateAI task) is a function of its record, where the client reaches the API and
the moment -- and of the moment only through the job's phase (and, for some views, a few more instants such as a
refund). :func:`phase_window` gives the span of time around ``now`` in which the phase stays the same, so a
cached view is served without asking the job engine for the state: while the store holds the same record object
(it replaces a record on every change) and the clock is inside the window, the view is the one rendered before.
:class:`ViewCache` keeps the latest views (least recently used go first) as their JSON bytes.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import orjson

from mockserver.core.http import json_bytes

#: How many rendered views a cache keeps by default.
VIEW_CACHE_SIZE = 4096
#: ``(since, until)``: the view holds for ``since <= now < until``.
Window = tuple[float, float]


def phase_window(timeline: Sequence[tuple[str, float]], now: float) -> Window:
    """The span around ``now`` in which a job with this (effective) timeline stays in its current phase.

    The phase at ``now`` is the last one entered by then (before the first: the first), as
    :func:`mockserver.core.jobs.schedule.state_at` has it; the window ends where the next phase begins.
    """
    times = [at for _, at in timeline]
    index = max(bisect.bisect_right(times, now) - 1, 0)
    since = times[index] if index > 0 else -math.inf
    until = times[index + 1] if index + 1 < len(times) else math.inf
    return since, until


def split_window(window: Window, now: float, instants: Iterable[float | None]) -> Window:
    """``window`` narrowed so that none of ``instants`` (None: no instant) falls inside it, around ``now``."""
    since, until = window
    for at in instants:
        if at is None:
            continue
        if at <= now:
            since = max(since, at)
        else:
            until = min(until, at)
    return since, until


class CachedView:
    """One rendered view: the record it came from, its window and the view's JSON bytes.

    Only the bytes are kept (a view's dicts and lists would be ~6 more objects per job for the collector to walk,
    and memory beside the bytes); :attr:`view` decodes a fresh copy for the few readers that want a dict.
    """

    __slots__ = ("encoded", "record", "since", "until")

    def __init__(self, record: dict[str, Any], window: Window, view: dict[str, Any]) -> None:
        self.record = record
        self.since, self.until = window
        self.encoded = json_bytes(view)

    def holds(self, record: dict[str, Any], now: float) -> bool:
        return self.record is record and self.since <= now < self.until

    @property
    def view(self) -> dict[str, Any]:
        """The view as a dict: decoded from :meth:`json` (a copy of its own; the JSON types only)."""
        decoded: dict[str, Any] = orjson.loads(self.encoded)
        return decoded

    def json(self) -> bytes:
        """The view as compact JSON (:func:`~mockserver.core.http.json_bytes`)."""
        return self.encoded


class ViewCache:
    """The latest rendered views by key (e.g. ``(record id, base URL)``), each valid for its record and window."""

    def __init__(self, size: int = VIEW_CACHE_SIZE) -> None:
        self.size = size
        self._views: OrderedDict[Hashable, CachedView] = OrderedDict()
        self._lock = threading.Lock()

    def lookup(self, key: Hashable, record: dict[str, Any], now: float) -> CachedView | None:
        """The cached view for ``key`` if it holds for ``record`` at ``now``."""
        hit = self._views.get(key)  # a dict read needs no lock; moving the key may meet a concurrent eviction
        if hit is None or not hit.holds(record, now):
            return None
        try:  # noqa: SIM105 -- contextlib.suppress costs an object per hit
            self._views.move_to_end(key)
        except KeyError:
            pass
        return hit

    def keep(self, key: Hashable, record: dict[str, Any], window: Window, view: dict[str, Any],
             keep: bool = True) -> CachedView:
        """``view`` of ``record``, valid in ``window``, as the cached view for ``key`` (not kept if ``keep`` is
        False: a view that may change without its record changing)."""
        fresh = CachedView(record, window, view)
        if keep:
            with self._lock:
                self._views[key] = fresh
                self._views.move_to_end(key)
                while len(self._views) > self.size:
                    self._views.popitem(last=False)
        return fresh

    def __len__(self) -> int:
        return len(self._views)
