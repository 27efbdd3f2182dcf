"""GateAI's answers to the domain's errors (the only place they become HTTP statuses): generation, params,
uploads and the catalog."""

from __future__ import annotations

from mockserver.core.asgi import answering
from mockserver.core.clock import isoformat
from mockserver.core.errors import TOO_LONG, TOO_MANY, UNSUPPORTED, ApiError, InvalidInput, NotFound
from mockserver.core.jobs import JobNotFound
from mockserver.gateai.budget import BudgetExceeded
from mockserver.gateai.errors import rate_limited
from mockserver.gateai.tasks import SLOT_AUTO_RELEASE, SlotsFull, WindowFull
from mockserver.gateai.uploads import InvalidUpload

#: The doc's codes by :attr:`InvalidInput.reason` (any other reason: ``INVALID_PARAMS``).
INVALID_IDS = {TOO_LONG: "PROMPT_TOO_LONG", TOO_MANY: "QUANTITY_TOO_HIGH"}


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
    return _request_error(exc)


def invalid_input(exc: InvalidInput) -> ApiError:
    """400 ``INVALID_PARAMS`` (``details.param`` naming the field), the doc's two codes, or a bad upload."""
    if isinstance(exc, InvalidUpload):
        if exc.reason == UNSUPPORTED:
            return ApiError(415, "UNSUPPORTED_MEDIA_TYPE", exc.message, param=exc.field, details=exc.details)
        return ApiError(400, "INVALID_FILE", exc.message, param=exc.field, details=exc.details)
    if exc.reason in INVALID_IDS:
        return ApiError(400, INVALID_IDS[exc.reason], exc.message, param=exc.field, details=exc.details)
    return ApiError(400, "INVALID_PARAMS", exc.message, param=exc.field,
                    details={"param": exc.field, **(exc.details or {})})


def _request_error(exc: Exception) -> ApiError | None:
    if isinstance(exc, InvalidInput):
        return invalid_input(exc)
    if isinstance(exc, NotFound) and exc.kind == "model":
        return ApiError(404, "MODEL_NOT_FOUND", "Model not found", param=exc.field,
                        details={"suggestions": list(exc.suggestions)})
    return None


#: ``handler`` with the domain's errors raised as their :class:`ApiError` (rendered by the app).
answers_domain_errors = answering(api_error)
