"""Per-key request rate limit for every authenticated Skytells API route.

Off unless ``Settings.rate_limit_per_minute`` is set (an account's ``limits`` may override it
with its own ``rate_limit_per_minute``). A sliding 60-second window on the mock clock; a refused
request raises :class:`RateLimited`, which :func:`mockserver.skytells.errors.rate_limited` answers with a 429
RATE_LIMIT_EXCEEDED with ``Retry-After`` (whole seconds) and ``retry-after-ms`` (exact; the OpenAI SDKs prefer
it), so a client that waits as told succeeds on its retry.
"""

from __future__ import annotations

from typing import Any

from mockserver.core.accounts import Account
from mockserver.core.errors import DomainError
from mockserver.core.limits import Decision, SlidingWindow
from mockserver.core.runtime import Runtime

WINDOW_SECONDS = 60.0
NAME = "skytells-requests"


def _window(runtime: Runtime, limit: int) -> SlidingWindow:
    return SlidingWindow(runtime.store, NAME, limit, WINDOW_SECONDS, runtime.clock.now)


def usage(runtime: Runtime, key: str) -> dict[str, Any]:
    """A key's window now, read only (the control plane's ``/_mock/usage``): ``{rate_limit_per_minute, used,
    window_seconds}`` (``used`` is None when the key has no limit)."""
    account = runtime.accounts.get(key)
    own = account.limits if account is not None else {}
    per_minute = own.get("rate_limit_per_minute", runtime.settings.rate_limit_per_minute)
    used = _window(runtime, int(per_minute)).used(key) if per_minute else None
    return {"rate_limit_per_minute": per_minute, "used": used, "window_seconds": WINDOW_SECONDS}


class RateLimited(DomainError):
    """The key has used its requests of the window; ``decision`` says how many and when to retry."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(f"rate limit of {decision.limit} requests per {WINDOW_SECONDS:g} s reached")
        self.decision = decision


def limit_of(runtime: Runtime, account: Account) -> int | None:
    """``account``'s requests per minute (its own limit, else the server's); None or 0: unlimited."""
    limit: int | None = account.limits.get("rate_limit_per_minute", runtime.settings.rate_limit_per_minute)
    return limit


def enforce(runtime: Runtime, account: Account) -> None:
    """Count one request of ``account``; :class:`RateLimited` once its window is full."""
    limit = limit_of(runtime, account)
    if not limit:
        return
    decision = _window(runtime, int(limit)).hit(account.key)
    if not decision.allowed:
        raise RateLimited(decision)
