"""The one source of "now" for the whole server.

Three modes:

* ``realtime`` -- virtual time runs at ``speed`` x wall-clock time;
* ``manual``   -- virtual time stands still until :meth:`Clock.advance` or :meth:`Clock.set`;
* ``instant``  -- time runs like ``realtime``, and jobs scheduled while in this mode collapse
  their durations to zero (see :attr:`Clock.collapses_durations`), so every job is finished
  the moment it is created.

Everything that waits on time (``await: true``, SSE streams, webhook retries) waits through
:meth:`Clock.sleep_until`, which wakes up when the clock is advanced from any thread.

*Autojump* (manual mode only, off unless set; named after trio's ``MockClock.autojump_threshold``): when a
client's request has waited ``autojump`` real seconds on the clock and nothing moved it, virtual time jumps
to the moment that request waits for. An ``await: true`` create or a paced stream then answers at once
instead of after ``await_timeout``, while time still moves only when a test moves it or a client waits.
Background timers (webhook retries) never jump the clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal, Protocol

TimeMode = Literal["realtime", "manual", "instant"]
TIME_MODES: tuple[TimeMode, ...] = ("realtime", "manual", "instant")


#: The clock's range: 1970-01-01 .. 9999-12-31T23:59:59Z (every moment in it has an ISO 8601 form).
MIN_EPOCH = 0.0
MAX_EPOCH = 253402300799.0
#: The fastest realtime speed (a million virtual seconds per real second).
MAX_SPEED = 1e6
#: The longest autojump wait, in real seconds.
MAX_AUTOJUMP = 86_400.0


def in_range(when: float) -> bool:
    """True if ``when`` is a finite epoch the clock can show (:data:`MIN_EPOCH` .. :data:`MAX_EPOCH`)."""
    return math.isfinite(when) and MIN_EPOCH <= when <= MAX_EPOCH


class Unset:
    """The type of :data:`UNSET`: "leave this setting as it is" where None is a value."""


UNSET = Unset()


def _check_autojump(autojump: float | None) -> None:
    if autojump is not None and (isinstance(autojump, bool) or not isinstance(autojump, int | float)
                                 or not 0 <= autojump <= MAX_AUTOJUMP):
        raise ValueError(f"autojump must be a number of real seconds from 0 to {MAX_AUTOJUMP:g}, or null (off)")


@dataclass(frozen=True)
class ClockState:
    """A snapshot of the clock, as the control plane reports it."""

    now: float
    mode: TimeMode
    speed: float
    autojump: float | None = None


@dataclass(frozen=True)
class Anchor:
    """The clock's whole state: virtual time ``virtual`` at wall time ``wall``, running at ``speed`` (``mode``)."""

    virtual: float
    wall: float
    mode: TimeMode
    speed: float
    autojump: float | None = None
    #: How many times the clock was restarted (:meth:`Clock.reset`, a full state reset): a process sharing the
    #: clock that sees it change knows another process reset the shared state.
    generation: int = 0

    def now(self, wall_now: float) -> float:
        """Virtual time at wall time ``wall_now``."""
        if self.mode == "manual":
            return self.virtual
        return min(self.virtual + (wall_now - self.wall) * self.speed, MAX_EPOCH)

    def rebased(self, virtual: float, wall_now: float, **changes: object) -> Anchor:
        """The same clock re-anchored at ``virtual`` now (with ``changes`` to mode, speed, autojump)."""
        return replace(self, virtual=virtual, wall=wall_now, **changes)  # type: ignore[arg-type]


class AnchorCell(Protocol):
    """Where the clock's :class:`Anchor` lives: this process (:class:`LocalAnchor`) or a shared store,
    so that every server process reads the same time. ``change`` is atomic."""

    def load(self) -> Anchor: ...

    def change(self, update: Callable[[Anchor], Anchor | None]) -> Anchor: ...


class LocalAnchor:
    """The anchor in this process's memory."""

    def __init__(self, anchor: Anchor) -> None:
        self._anchor = anchor
        self._lock = threading.Lock()

    def load(self) -> Anchor:
        return self._anchor

    def change(self, update: Callable[[Anchor], Anchor | None]) -> Anchor:
        """Replace the anchor with ``update(anchor)`` (None: keep it); returns the anchor now in force."""
        with self._lock:
            new = update(self._anchor)
            if new is not None:
                self._anchor = new
            return self._anchor


class Clock:
    """A virtual clock in epoch seconds (float, UTC).

    ``cell`` holds its state; by default this process's memory. A shared cell (several processes on one store)
    must be paired with a ``wall`` every process agrees on (``time.time``), and calls :meth:`notify` when
    another process changed the clock so waiters here look again.
    """

    def __init__(
        self,
        mode: TimeMode = "realtime",
        speed: float = 1.0,
        start: float | None = None,
        wall: Callable[[], float] = time.monotonic,
        autojump: float | None = None,
        cell: Callable[[Anchor], AnchorCell] = LocalAnchor,
    ) -> None:
        if mode not in TIME_MODES:
            raise ValueError(f"unknown time mode {mode!r}; expected one of {TIME_MODES}")
        if speed <= 0:
            raise ValueError("speed must be positive")
        _check_autojump(autojump)
        self._wall = wall
        initial = Anchor(time.time() if start is None else float(start), wall(), mode, float(speed), autojump)
        self._cell = cell(initial)  # a shared cell keeps the state other processes already set
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._draining = False  # the server is shutting down: clients stop waiting (see drain())
        self._generation = self._cell.load().generation
        self._restart_callbacks: list[Callable[[], None]] = []

    def on_restart(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` when this process finds the shared clock restarted by another process (its full
        reset), before answering the read that found it: the process then forgets its own local state too."""
        self._restart_callbacks.append(callback)

    def _load(self) -> Anchor:
        anchor = self._cell.load()
        if anchor.generation != self._generation:
            self._restarted(anchor)
        return anchor

    def _restarted(self, anchor: Anchor) -> None:
        self._generation = anchor.generation
        for callback in self._restart_callbacks:
            callback()

    # -- reading ---------------------------------------------------------------------------

    def now(self) -> float:
        """Current virtual time in epoch seconds (:meth:`Anchor.now` of :meth:`_load`, written out: every request
        reads the clock, most twice)."""
        anchor = self._cell.load()
        if anchor.generation != self._generation:
            self._restarted(anchor)
        if anchor.mode == "manual":
            return anchor.virtual
        return min(anchor.virtual + (self._wall() - anchor.wall) * anchor.speed, MAX_EPOCH)

    @property
    def mode(self) -> TimeMode:
        return self._load().mode

    @property
    def speed(self) -> float:
        return self._load().speed

    @property
    def autojump(self) -> float | None:
        """Real seconds a waiting client waits before manual time jumps to its moment; None: never."""
        return self._load().autojump

    @property
    def collapses_durations(self) -> bool:
        """True in ``instant`` mode: jobs created now finish at once."""
        return self.mode == "instant"

    def state(self) -> ClockState:
        anchor = self._load()
        return ClockState(now=anchor.now(self._wall()), mode=anchor.mode, speed=anchor.speed,
                          autojump=anchor.autojump)

    # -- steering --------------------------------------------------------------------------

    def advance(self, seconds: float) -> float:
        """Move virtual time forward (any mode); returns the new time."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")

        def forward(anchor: Anchor) -> Anchor:
            wall_now = self._wall()
            return anchor.rebased(anchor.now(wall_now) + seconds, wall_now)

        now = self._cell.change(forward).virtual
        self._wake()
        return now

    def set(self, when: float) -> float:
        """Jump to an absolute virtual time, which may not be in the past."""

        def jump(anchor: Anchor) -> Anchor:
            wall_now = self._wall()
            if when < anchor.now(wall_now):
                raise ValueError("the clock only moves forward")
            return anchor.rebased(when, wall_now)

        self._cell.change(jump)
        self._wake()
        return when

    def reset(self, start: float | None = None, mode: TimeMode | None = None, speed: float | None = None,
              autojump: float | Unset | None = UNSET) -> None:
        """Start over at ``start`` (default: the wall clock's now) -- the one way time goes back.

        Only a full state reset may do this: every stored schedule is gone with it.
        """
        if not isinstance(autojump, Unset):
            _check_autojump(autojump)

        def restart(anchor: Anchor) -> Anchor:
            changes: dict[str, object] = {}
            if not isinstance(autojump, Unset):
                changes["autojump"] = autojump
            if mode is not None:
                changes["mode"] = mode
            if speed is not None:
                changes["speed"] = float(speed)
            changes["generation"] = anchor.generation + 1
            return anchor.rebased(time.time() if start is None else float(start), self._wall(), **changes)

        self._generation = self._cell.change(restart).generation  # this process's own reset: no callbacks
        self._wake()

    def configure(self, mode: TimeMode | None = None, speed: float | None = None,
                  autojump: float | Unset | None = UNSET) -> ClockState:
        """Switch mode, speed and/or autojump (None turns it off) without a jump in virtual time."""
        if mode is not None and mode not in TIME_MODES:
            raise ValueError(f"unknown time mode {mode!r}; expected one of {TIME_MODES}")
        if speed is not None and speed <= 0:
            raise ValueError("speed must be positive")
        if not isinstance(autojump, Unset):
            _check_autojump(autojump)

        def switch(anchor: Anchor) -> Anchor:
            changes: dict[str, object] = {}
            if mode is not None:
                changes["mode"] = mode
            if speed is not None:
                changes["speed"] = float(speed)
            if not isinstance(autojump, Unset):
                changes["autojump"] = autojump
            wall_now = self._wall()
            return anchor.rebased(anchor.now(wall_now), wall_now, **changes)

        anchor = self._cell.change(switch)
        self._wake()
        return ClockState(now=anchor.virtual, mode=anchor.mode, speed=anchor.speed, autojump=anchor.autojump)

    # -- waiting ---------------------------------------------------------------------------

    def notify(self) -> None:
        """Wake every waiter to re-check its condition (state changed, not the time)."""
        self._wake()

    def drain(self) -> None:
        """The server is shutting down: every client wait ends now and new ones end at once.

        ``sleep_until(..., client=True)`` then returns False (not reached), so an ``await: true`` create
        answers with the prediction as it is and a status stream sends its final event, instead of both
        being cut when the server stops.
        """
        self._draining = True
        self._wake()

    @property
    def draining(self) -> bool:
        return self._draining

    def _wake(self) -> None:
        """Wake every waiter, at most :data:`WAKE_BATCH` per turn of its event loop.

        One clock jump can wake hundreds of waiters (status streams, ``await: true`` creates). Woken all at
        once, their work runs in a single loop iteration with no socket polled in between: 200 finishing
        streams held both ports for ~110 ms. In batches, other requests are served between them.
        """
        by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Event]] = {}
        for loop, event in list(self._waiters):
            by_loop.setdefault(loop, []).append(event)
        for loop, events in by_loop.items():
            try:
                loop.call_soon_threadsafe(_set_in_batches, loop, events)
            except RuntimeError:  # loop closed
                for event in events:
                    self._waiters.discard((loop, event))

    def real_seconds_until(self, when: float) -> float | None:
        """Wall-clock seconds until virtual ``when``; None if only a clock change gets there."""
        anchor = self._load()
        remaining = when - anchor.now(self._wall())
        if remaining <= 0:
            return 0.0
        if anchor.mode == "manual":
            return None
        return remaining / anchor.speed

    async def sleep_until(self, when: float, max_real: float | None = None, *, client: bool = False) -> bool:
        """Wait until virtual time reaches ``when``.

        Returns True when reached, False when ``max_real`` wall seconds ran out first. ``client``: a client's
        request is waiting, so autojump applies (see the module docstring).
        """
        loop = asyncio.get_running_loop()
        deadline = None if max_real is None else loop.time() + max_real
        while True:
            wait = self.real_seconds_until(when)
            if wait == 0.0:
                return True
            if client and self._draining:
                return False
            jump = self.autojump if client and wait is None else None
            if jump is not None:
                wait = jump
            if deadline is not None:
                left = deadline - loop.time()
                if left <= 0:
                    return False
                wait = left if wait is None else min(wait, left)
                if jump is not None and wait < jump:
                    jump = None  # max_real runs out first
            event = asyncio.Event()
            entry = (loop, event)
            self._waiters.add(entry)
            try:
                # re-check after registering, so a concurrent advance is never missed
                if self.real_seconds_until(when) == 0.0:
                    return True
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), timeout=wait)
                    jump = None  # something moved the clock or changed state: look again before jumping
            finally:
                self._waiters.discard(entry)
            if jump is not None:
                self._jump_to(when)

    def _jump_to(self, when: float) -> None:
        """Autojump: manual time moves to ``when`` unless it is already there (or mode changed meanwhile)."""
        moved: list[bool] = []

        def jump(anchor: Anchor) -> Anchor | None:
            moved.clear()  # a shared cell may run this more than once
            if anchor.mode != "manual" or anchor.virtual >= when:
                return None
            moved.append(True)
            return anchor.rebased(when, self._wall())

        self._cell.change(jump)
        if moved:
            self._wake()


def isoformat(ts: float) -> str:
    """Epoch seconds as the APIs print them: ``2026-03-06T20:15:23.293497Z``.

    The same text as ``datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")``, microseconds
    rounded half to even as ``datetime`` rounds them, with the part up to the second cached per second.
    """
    if not MIN_EPOCH <= ts <= MAX_EPOCH:  # NaN included: never a crash while answering
        ts = min(max(ts, MIN_EPOCH), MAX_EPOCH) if math.isfinite(ts) else MIN_EPOCH
    fraction, whole = math.modf(ts)
    micros = round(fraction * 1e6)
    if micros >= 1_000_000:
        whole, micros = whole + 1, micros - 1_000_000
    second = int(whole)
    prefix = _SECOND_PREFIXES.get(second)
    if prefix is None:
        prefix = _second_prefix(second)
    return f"{prefix}{micros:06d}Z"


#: ``2026-03-06T20:15:23.`` per epoch second, as printed lately (bounded: cleared when full).
_SECOND_PREFIXES: dict[int, str] = {}


def _second_prefix(second: int) -> str:
    """``2026-03-06T20:15:23.`` for an epoch second (what every timestamp of that second starts with)."""
    from datetime import UTC, datetime

    if len(_SECOND_PREFIXES) >= 4096:
        _SECOND_PREFIXES.clear()
    prefix = _SECOND_PREFIXES[second] = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
    return prefix


#: How many clock waiters one turn of an event loop wakes (see :meth:`Clock._wake`).
WAKE_BATCH = 8


def _set_in_batches(loop: asyncio.AbstractEventLoop, events: list[asyncio.Event]) -> None:
    """Set the first :data:`WAKE_BATCH` events now and the rest on later turns of ``loop``."""
    for event in events[:WAKE_BATCH]:
        event.set()
    if len(events) > WAKE_BATCH:
        loop.call_soon(_set_in_batches, loop, events[WAKE_BATCH:])
