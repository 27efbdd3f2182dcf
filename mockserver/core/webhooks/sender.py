"""One signed HTTP attempt at delivering an event, and what it came to (never raises)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import httpx

from mockserver.core.webhooks.hosts import blocked_reason
from mockserver.core.webhooks.records import Delivery, Outcome
from mockserver.core.webhooks.signing import signed_headers

#: (outcome, response code, error text, real latency in ms)
AttemptResult = tuple[Outcome, int | None, str | None, float]


async def post(client: httpx.AsyncClient, delivery: Delivery, secret: str, timeout: float,
               allowed_hosts: Sequence[str]) -> AttemptResult:
    """Send one signed attempt of ``delivery`` within ``timeout`` real seconds (the answer's body is not read)."""
    reason = blocked_reason(delivery.url, allowed_hosts)
    if reason is not None:
        return "blocked", None, reason, 0.0
    headers = signed_headers(secret, delivery.id, delivery.body, datetime.now(UTC))
    started = time.perf_counter()
    outcome: Outcome
    code: int | None = None
    error: str | None = None
    try:
        async with asyncio.timeout(timeout):
            request = client.build_request("POST", delivery.url, content=delivery.body.encode(), headers=headers)
            response = await client.send(request, stream=True)
            await response.aclose()
        code = response.status_code
        outcome = "delivered" if 200 <= code < 300 else "http_error"
        if outcome == "http_error":
            error = f"HTTP {code} {response.reason_phrase}".strip()
    except (TimeoutError, httpx.TimeoutException):
        outcome, error = "timeout", f"no answer within {timeout:g} s"
    except httpx.TransportError as exc:
        outcome, error = "connection_error", f"{type(exc).__name__}: {exc}".rstrip(": ")
    except Exception as exc:  # e.g. a URL httpx cannot send to: recorded, never fatal
        outcome, error = "error", f"{type(exc).__name__}: {exc}".rstrip(": ")
    return outcome, code, error, (time.perf_counter() - started) * 1000.0
