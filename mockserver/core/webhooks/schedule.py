"""The retry schedule of webhook deliveries: exponential backoff with seeded jitter, in virtual seconds."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, in virtual seconds.

    After the ``n``-th failed attempt the next one waits ``min(cap, base * factor**(n-1))`` reduced by
    a seeded random fraction of at most ``jitter``, so delays never exceed the cap and never fall
    below ``(1 - jitter)`` of the nominal delay. The defaults (5 s, x2, cap 1 h, 12 attempts) span
    about two hours: a receiver that is down for 30 minutes still gets every event.
    """

    max_attempts: int = 12
    base: float = 5.0
    factor: float = 2.0
    cap: float = 3600.0
    jitter: float = 0.2

    def nominal(self, failures: int) -> float:
        """The delay after ``failures`` failed attempts, before jitter."""
        return min(self.cap, self.base * self.factor ** (failures - 1))

    def delay(self, failures: int, rng: random.Random) -> float:
        """The jittered delay after ``failures`` (>= 1) failed attempts."""
        return self.nominal(failures) * (1.0 - self.jitter * rng.random())
