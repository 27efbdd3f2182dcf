"""Waiting on jobs on the clock: block until one ends (``await``/long-poll), or follow its transitions
(a status stream). Both wake at the job's next phase, so they are right across clock jumps and cancels."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from mockserver.core.jobs.engine import JobEngine, Record, changed


async def wait_terminal(engine: JobEngine, record: Record, max_real: float) -> Record:
    """The job once it has ended (or been deleted: then marked ``deleted``), waiting at most ``max_real`` wall
    seconds; a server shutting down answers at once with the job as it stands."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max_real
    clock = engine.clock
    while True:
        current = engine.find(record["id"]) or changed(record, deleted=True)
        if current.get("deleted") or engine.state(current).terminal:
            return current
        now = clock.now()
        upcoming = [at for _, at in engine.timeline(current) if at > now]
        left = deadline - loop.time()
        if left <= 0 or clock.draining:
            return current
        await clock.sleep_until(upcoming[0] if upcoming else now, max_real=left, client=True)


@dataclass(frozen=True)
class Progress:
    """One step of a status stream."""

    record: Record  #: the job as last read
    reached: list[float] = field(default_factory=list)  #: when each newly reached transition happened
    final: str | None = None  #: the terminal status, once reached (the stream ends)
    interrupted: str | None = None  #: the server is shutting down: the status now (the stream ends)


async def progress(engine: JobEngine, record: Record, max_real: float = 30.0) -> AsyncIterator[Progress]:
    """Every transition of the job (even those a clock jump passed over) until it ends.

    The first step reports at least the job's first phase; ``max_real`` bounds each wall-clock wait, so a
    caller can interleave keep-alives.
    """
    clock = engine.clock
    emitted = 0
    current = record
    while True:
        line = engine.timeline(current)
        now = clock.now()
        reached = [(status, at) for status, at in line if at <= now] or line[:1]
        terminal = engine.state(current, now).terminal
        fresh = [at for _, at in reached[emitted:]]
        emitted = max(emitted, len(reached))
        if fresh or terminal:
            yield Progress(current, fresh, reached[-1][0] if terminal else None)
        if terminal:
            return
        upcoming = [at for _, at in line if at > now]
        await clock.sleep_until(upcoming[0], max_real=max_real, client=True)
        if clock.draining:
            yield Progress(current, interrupted=engine.state(current).status)
            return
        current = engine.find(record["id"]) or current
