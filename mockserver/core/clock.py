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
from dataclasses import dataclass
from typing import Literal

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


class Clock:
    """A virtual clock in epoch seconds (float, UTC)."""

    def __init__(
        self,
        mode: TimeMode = "realtime",
        speed: float = 1.0,
        start: float | None = None,
        wall: Callable[[], float] = time.monotonic,
        autojump: float | None = None,
    ) -> None:
        if mode not in TIME_MODES:
            raise ValueError(f"unknown time mode {mode!r}; expected one of {TIME_MODES}")
        if speed <= 0:
            raise ValueError("speed must be positive")
        _check_autojump(autojump)
        self._autojump = autojump
        self._wall = wall
        self._lock = threading.Lock()
        self._mode: TimeMode = mode
        self._speed = float(speed)
        self._anchor_virtual = time.time() if start is None else float(start)
        self._anchor_wall = wall()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._draining = False  # the server is shutting down: clients stop waiting (see drain())

    # -- reading ---------------------------------------------------------------------------

    def now(self) -> float:
        """Current virtual time in epoch seconds."""
        with self._lock:
            return self._now_locked()

    def _now_locked(self) -> float:
        if self._mode == "manual":
            return self._anchor_virtual
        return min(self._anchor_virtual + (self._wall() - self._anchor_wall) * self._speed, MAX_EPOCH)

    @property
    def mode(self) -> TimeMode:
        return self._mode

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def autojump(self) -> float | None:
        """Real seconds a waiting client waits before manual time jumps to its moment; None: never."""
        return self._autojump

    @property
    def collapses_durations(self) -> bool:
        """True in ``instant`` mode: jobs created now finish at once."""
        return self._mode == "instant"

    def state(self) -> ClockState:
        with self._lock:
            return ClockState(now=self._now_locked(), mode=self._mode, speed=self._speed, autojump=self._autojump)

    # -- steering --------------------------------------------------------------------------

    def advance(self, seconds: float) -> float:
        """Move virtual time forward (any mode); returns the new time."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._rebase(self._now_locked() + seconds)
            now = self._anchor_virtual
        self._wake()
        return now

    def set(self, when: float) -> float:
        """Jump to an absolute virtual time, which may not be in the past."""
        with self._lock:
            current = self._now_locked()
            if when < current:
                raise ValueError("the clock only moves forward")
            self._rebase(when)
        self._wake()
        return when

    def reset(self, start: float | None = None, mode: TimeMode | None = None, speed: float | None = None,
              autojump: float | Unset | None = UNSET) -> None:
        """Start over at ``start`` (default: the wall clock's now) -- the one way time goes back.

        Only a full state reset may do this: every stored schedule is gone with it.
        """
        if not isinstance(autojump, Unset):
            _check_autojump(autojump)
        with self._lock:
            if not isinstance(autojump, Unset):
                self._autojump = autojump
            self._anchor_virtual = time.time() if start is None else float(start)
            self._anchor_wall = self._wall()
            if mode is not None:
                self._mode = mode
            if speed is not None:
                self._speed = float(speed)
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
        with self._lock:
            self._rebase(self._now_locked())
            if mode is not None:
                self._mode = mode
            if speed is not None:
                self._speed = float(speed)
            if not isinstance(autojump, Unset):
                self._autojump = autojump
            state = ClockState(now=self._anchor_virtual, mode=self._mode, speed=self._speed, autojump=self._autojump)
        self._wake()
        return state

    def _rebase(self, virtual: float) -> None:
        self._anchor_virtual = virtual
        self._anchor_wall = self._wall()

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
        with self._lock:
            remaining = when - self._now_locked()
            if remaining <= 0:
                return 0.0
            if self._mode == "manual":
                return None
            return remaining / self._speed

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
            jump = self._autojump if client and wait is None else None
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
        with self._lock:
            if self._mode != "manual" or self._anchor_virtual >= when:
                return
            self._rebase(when)
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
