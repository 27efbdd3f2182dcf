"""Job schedules: a job's whole future is fixed when it is created.

A schedule is a list of ``(status, at)`` phases in time order, the last one terminal. The
status at any moment is a pure function of (schedule, cancel time, now): no per-job timers,
correct after clock jumps, identical on every server process that shares the store. A stored job keeps its
schedule :func:`packed` (one flat tuple ``(status, at, status, at, ...)``: ~100 bytes instead of ~310 for a
list of pairs); every function here takes either form.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from itertools import chain
from typing import Any, NamedTuple

Phases = list[tuple[str, float]]
#: A schedule as stored: ``(status, at, status, at, ...)`` (a list of the same once read back from JSON).
Packed = tuple[str | float, ...]


class JobState(NamedTuple):
    """Where a job stands at one moment (a named tuple: made for every view and every read of a job's status)."""

    status: str
    entered_at: float
    terminal: bool


def packed(phases: Sequence[tuple[str, float]]) -> Packed:
    """``phases`` as stored in a job record: one flat tuple."""
    return tuple(chain.from_iterable(phases))


def pairs(phases: Sequence[Any]) -> Phases:
    """The ``(status, at)`` pairs of a schedule, packed (:func:`packed`) or not."""
    if phases and isinstance(phases[0], str):
        items = iter(phases)
        return list(zip(items, items, strict=False))  # (status, at) from consecutive items
    return [(status, at) for status, at in phases]


def timeline(phases: Sequence[Any], cancelled_at: float | None = None,
             cancelled_status: str = "cancelled") -> Phases:
    """The effective phases: the schedule (either form) cut at ``cancelled_at`` (if it came before the end)."""
    effective = pairs(phases)
    if cancelled_at is None or not effective or cancelled_at >= effective[-1][1]:
        return effective
    kept = [(status, at) for status, at in effective if at <= cancelled_at]
    kept.append((cancelled_status, cancelled_at))
    return kept


def state_at(phases: Sequence[Any], now: float, cancelled_at: float | None = None,
             cancelled_status: str = "cancelled") -> JobState:
    """The job's status at ``now`` (before the first phase: the first phase); ``phases`` in either form."""
    if cancelled_at is None and phases and isinstance(phases[0], str):  # packed, as stored: no pairs to build
        times = phases[1::2]
        index = max(bisect.bisect_right(times, now) - 1, 0)
        return JobState(status=phases[2 * index], entered_at=times[index], terminal=index == len(times) - 1)
    effective = timeline(phases, cancelled_at, cancelled_status)
    times = [at for _, at in effective]
    index = max(bisect.bisect_right(times, now) - 1, 0)
    status, entered = effective[index]
    return JobState(status=status, entered_at=entered, terminal=index == len(effective) - 1)


def entered(phases: Sequence[tuple[str, float]], status: str) -> float | None:
    """When the job entered ``status`` in this timeline, or None."""
    for name, at in phases:
        if name == status:
            return at
    return None


def build_phases(start: float, steps: Sequence[tuple[str, float]], collapse: bool = False) -> Phases:
    """Phases from a start time and ``(status, duration before the next step)`` pairs.

    The last step's duration is ignored (it is terminal). With ``collapse`` every phase starts
    at ``start`` -- the instant time mode.
    """
    phases: Phases = []
    at = start
    for status, duration in steps:
        phases.append((status, at))
        if not collapse:
            at += max(duration, 0.0)
    return phases
