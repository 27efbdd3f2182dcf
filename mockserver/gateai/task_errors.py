"""GateAI's answers to the generation domain's errors (the only place they become HTTP statuses)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from mockserver.core.clock import isoformat
from mockserver.core.errors import ApiError
from mockserver.core.jobs import JobNotFound
from mockserver.gateai.budget import BudgetExceeded
from mockserver.gateai.errors import rate_limited
from mockserver.gateai.tasks import SLOT_AUTO_RELEASE, SlotsFull, WindowFull

Handler = Callable[[Request], Awaitable[Response]]
DOMAIN_ERRORS = (JobNotFound, WindowFull, SlotsFull, BudgetExceeded)


def budget_exceeded(error: BudgetExceeded) -> ApiError:
    """402 ``BUDGET_EXCEEDED`` with the budget's figures."""
    cost, status = error.cost, error.status
    return ApiError(
        402,
        "BUDGET_EXCEEDED",
        f"Daily budget exceeded: this generation costs ${cost:.4f} and ${status.remaining:.4f} of the "
        f"${status.daily_limit} daily budget remains; no lower resolution or shorter duration fits. "
        f"The budget resets at 00:00 UTC (03:00 Turkey time).",
        details={
            "cost": cost,
            "daily_limit": status.daily_limit,
            "used": status.used,
            "remaining": status.remaining,
            "resets_at": isoformat(status.resets_at),
        },
    )


def api_error(exc: Exception) -> ApiError | None:
    """The documented error for a domain error (None: not one of the domain's)."""
    if isinstance(exc, JobNotFound):
        return ApiError(404, "TASK_NOT_FOUND", f"Task {exc.job_id!r} not found", param="task_id")
    if isinstance(exc, WindowFull):
        limits = exc.limits
        return rate_limited(
            f"Rate limit: at most {limits.requests_per_window} generation requests per "
            f"{limits.window_seconds:g} s per key; retry in {exc.retry_after} s",
            exc.retry_after,
            {"limit": "requests_per_window", "max": limits.requests_per_window,
             "window_seconds": limits.window_seconds},
        )
    if isinstance(exc, SlotsFull):
        limits = exc.limits
        return rate_limited(
            f"Too many concurrent generations: {exc.used} of {limits.concurrency} slots in use; a slot frees "
            f"when a generation ends (or after {SLOT_AUTO_RELEASE / 60:g} minutes)",
            exc.retry_after,
            {"limit": "concurrency", "max": limits.concurrency, "used": exc.used},
        )
    if isinstance(exc, BudgetExceeded):
        return budget_exceeded(exc)
    return None


def answers_domain_errors(handler: Handler) -> Handler:
    """``handler`` with the domain's errors raised as their :class:`ApiError` (rendered by the app)."""

    @functools.wraps(handler)
    async def mapped(request: Request) -> Response:
        try:
            return await handler(request)
        except DOMAIN_ERRORS as exc:
            error = api_error(exc)
            assert error is not None
            raise error from None

    return mapped
