"""Per-key request rate limit for every authenticated Skytells API route.

Off unless ``Settings.rate_limit_per_minute`` is set (an account's ``limits`` may override it
with its own ``rate_limit_per_minute``). A sliding 60-second window on the mock clock; a refused
request is a 429 RATE_LIMIT_EXCEEDED with ``Retry-After`` (whole seconds) and ``retry-after-ms``
(exact; the OpenAI SDKs prefer it), so a client that waits as told succeeds on its retry.
"""

from __future__ import annotations

import math
from typing import Any

from mockserver.core.accounts import Account
from mockserver.core.errors import ApiError
from mockserver.core.limits import SlidingWindow
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


def enforce(runtime: Runtime, account: Account) -> None:
    limit = account.limits.get("rate_limit_per_minute", runtime.settings.rate_limit_per_minute)
    if not limit:
        return
    decision = _window(runtime, int(limit)).hit(account.key)
    if decision.allowed:
        return
    retry_ms = max(1, math.ceil(decision.retry_after * 1000))
    raise ApiError(
        429, "RATE_LIMIT_EXCEEDED",
        f"Rate limit reached: {decision.limit} requests per minute for this API key. "
        f"Retry in {decision.retry_after_header} s.",
        code="rate_limit_exceeded",
        headers={
            "Retry-After": decision.retry_after_header,
            "retry-after-ms": str(retry_ms),
            "x-ratelimit-limit-requests": str(decision.limit),
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": f"{retry_ms / 1000:g}s",
        },
        details={"limit": decision.limit, "window_seconds": WINDOW_SECONDS, "retry_after": decision.retry_after},
    )
