"""Live progress inside each phase: cases, failures, requests and elapsed time while the phase runs.

On a terminal a `rich <https://rich.readthedocs.io>`_ live line (redrawn 4 times a second, on stderr, gone
when the phase ends and its summary line is printed); elsewhere (CI logs, pipes) a plain heartbeat line every
:data:`HEARTBEAT_SECONDS`, so a long phase never looks frozen. ``--quiet``: nothing.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Counter = Callable[[], int]
#: Seconds between two heartbeat lines off a terminal.
HEARTBEAT_SECONDS = 10.0


def _zero() -> int:
    return 0


@dataclass
class Meter:
    """What one phase has done so far, read through counters that the phase's code updates."""

    label: str
    cases: Counter = _zero
    failed: Counter = _zero
    requests: Counter = _zero
    unit: str = "cases"
    started: float = field(default_factory=time.monotonic)

    def line(self) -> str:
        return (f"{self.label}: {self.cases()} {self.unit}, {self.failed()} failed, {self.requests()} requests, "
                f"{time.monotonic() - self.started:.0f} s")


class Display:
    """Shows nothing (``--quiet``, library use); the base of the live displays."""

    def start(self, meter: Meter) -> None:
        """A phase begins (one at a time)."""

    def stop(self) -> None:
        """The phase that began last has ended."""


class _Line:
    def __init__(self, meter: Meter) -> None:
        self.meter = meter

    def __rich__(self) -> Any:
        from rich.text import Text

        return Text("… " + self.meter.line(), style="cyan")


class LiveDisplay(Display):
    """A rich live line on stderr while a phase runs."""

    def __init__(self) -> None:
        self._live: Any = None

    def start(self, meter: Meter) -> None:
        from rich.console import Console
        from rich.live import Live

        self.stop()
        self._live = Live(_Line(meter), console=Console(stderr=True), refresh_per_second=4, transient=True)
        self._live.start()

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None


class HeartbeatDisplay(Display):
    """A plain line through ``printer`` every ``every`` seconds while a phase runs."""

    def __init__(self, printer: Callable[[str], None], every: float = HEARTBEAT_SECONDS) -> None:
        self.printer, self.every = printer, every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, meter: Meter) -> None:
        self.stop()
        self._stop = threading.Event()

        def beat(stop: threading.Event = self._stop) -> None:
            while not stop.wait(self.every):
                self.printer("  … " + meter.line())

        self._thread = threading.Thread(target=beat, name="harness-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None


def choose(printer: Callable[[str], None], quiet: bool) -> Display:
    """The display for a CLI run: none when quiet, rich on a terminal, heartbeat lines otherwise."""
    if quiet:
        return Display()
    if sys.stderr.isatty():
        return LiveDisplay()
    return HeartbeatDisplay(printer)
