"""Per-key request rate limit for every authenticated Skytells API route.

Off unless ``Settings.rate_limit_per_minute`` is set (an account's ``limits`` may override it
with its own ``rate_limit_per_minute``). A sliding 60-second window on the mock clock; a refused
request raises :class:`RateLimited`, which :func:`mockserver.skytells.errors.rate_limited` answers with a 429
RATE_LIMIT_EXCEEDED with ``Retry-After`` (whole seconds) and ``retry-after-ms`` (exact; the OpenAI SDKs prefer
it), so a client that waits as told succeeds on its retry.
"""

from __future__ import annotations

from mockserver.core.accounts import Account
from mockserver.core.errors import DomainError
from mockserver.core.limits import Decision, SlidingWindow
from mockserver.core.runtime import Runtime

WINDOW_SECONDS = 60.0
NAME = "skytells-requests"


class RateLimited(DomainError):
    """The key has used its requests of the window; ``decision`` says how many and when to retry."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(f"rate limit of {decision.limit} requests per {WINDOW_SECONDS:g} s reached")
        self.decision = decision


def enforce(runtime: Runtime, account: Account) -> None:
    """Count one request of ``account``; :class:`RateLimited` once its window is full."""
    limit = account.limits.get("rate_limit_per_minute", runtime.settings.rate_limit_per_minute)
    if not limit:
        return
    window = SlidingWindow(runtime.store, NAME, int(limit), WINDOW_SECONDS, runtime.clock.now)
    decision = window.hit(account.key)
    if not decision.allowed:
        raise RateLimited(decision)
