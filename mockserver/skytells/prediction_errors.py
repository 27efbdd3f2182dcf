"""The Predictions and Models APIs' answers to the domain's errors (the only place they become HTTP statuses)."""

from __future__ import annotations

from mockserver.core.accounts import InsufficientFunds
from mockserver.core.asgi import answering
from mockserver.core.errors import ApiError, InvalidInput, NotFound, PolicyViolation
from mockserver.core.jobs import JobNotCancellable, JobNotFound
from mockserver.skytells.errors import model_not_found, rate_limited
from mockserver.skytells.predictions import OutputNotProducible
from mockserver.skytells.ratelimit import RateLimited


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
    return _request_error(exc)


def _request_error(exc: Exception) -> ApiError | None:
    """The answers to a bad request: invalid input, a forbidden URL, an unknown model, a full rate-limit window."""
    if isinstance(exc, InvalidInput):
        return ApiError(400, "INVALID_INPUT", exc.message, param=exc.field, details=exc.details)
    if isinstance(exc, PolicyViolation):
        return ApiError(403, "SECURITY_VIOLATION", exc.message, param=exc.field, details=exc.details)
    if isinstance(exc, NotFound) and exc.kind == "model":
        return model_not_found(exc)
    if isinstance(exc, RateLimited):
        return rate_limited(exc)
    return None


#: ``handler`` with the domain's errors raised as their :class:`ApiError` (rendered by the app).
answers_domain_errors = answering(api_error)
