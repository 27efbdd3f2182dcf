"""The Predictions API's answers to the domain's errors (the only place they become HTTP statuses)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from mockserver.core.accounts import InsufficientFunds
from mockserver.core.errors import ApiError
from mockserver.core.jobs import JobNotCancellable, JobNotFound
from mockserver.skytells.predictions import OutputNotProducible

Handler = Callable[[Request], Awaitable[Response]]


def api_error(exc: Exception) -> ApiError | None:
    """The documented error for a domain error (None: not one of the domain's)."""
    if isinstance(exc, JobNotFound):
        return ApiError(404, "PREDICTION_NOT_FOUND", f"Prediction '{exc.job_id}' was not found", param="id")
    if isinstance(exc, JobNotCancellable):
        return ApiError(400, "INVALID_PARAMETER",
                        f"Prediction '{exc.job_id}' has already {exc.status} and can no longer be cancelled",
                        param="id", details={"status": exc.status})
    if isinstance(exc, InsufficientFunds):
        details = {"balance": exc.balance, "required": exc.amount}
        if exc.balance <= 0:
            return ApiError(402, "PAYMENT_REQUIRED", "Your credit balance is empty; add credits to run predictions",
                            details=details)
        return ApiError(402, "INSUFFICIENT_CREDITS", "You do not have enough credits to run this prediction",
                        details=details)
    if isinstance(exc, OutputNotProducible):
        return ApiError(400, "INVALID_INPUT", f"The model cannot produce this output: {exc.reason}",
                        param=f"input.{exc.field}" if exc.field else "input")
    return None


def answers_domain_errors(handler: Handler) -> Handler:
    """``handler`` with the domain's errors raised as their :class:`ApiError` (rendered by the app)."""

    @functools.wraps(handler)
    async def mapped(request: Request) -> Response:
        try:
            return await handler(request)
        except (JobNotFound, JobNotCancellable, InsufficientFunds, OutputNotProducible) as exc:
            error = api_error(exc)
            assert error is not None
            raise error from None

    return mapped
