"""The Inference API's answers to the domain's errors (the only place they become HTTP statuses).

Bad values are 400 ``INVALID_PARAMETER`` (``INVALID_INPUT`` when a required one is missing) with OpenAI's
``code`` for an unknown or unsupported parameter and a model served on another endpoint.
"""

from __future__ import annotations

from mockserver.core.accounts import InsufficientFunds
from mockserver.core.asgi import answering
from mockserver.core.errors import (
    ELSEWHERE,
    MISSING,
    UNKNOWN,
    UNSUPPORTED,
    ApiError,
    InvalidInput,
    NotFound,
    PolicyViolation,
)
from mockserver.skytells.errors import model_not_found, rate_limited
from mockserver.skytells.ratelimit import RateLimited

#: OpenAI's ``code`` by :attr:`InvalidInput.reason` (others: the error id in lower case).
CODES = {UNKNOWN: "unknown_parameter", UNSUPPORTED: "unsupported_parameter", ELSEWHERE: "unsupported_endpoint"}


def invalid_input(exc: InvalidInput) -> ApiError:
    error_id = "INVALID_INPUT" if exc.reason == MISSING else "INVALID_PARAMETER"
    return ApiError(400, error_id, exc.message, param=exc.field, details=exc.details, code=CODES.get(exc.reason))


def not_found(exc: NotFound) -> ApiError | None:
    """An unknown model or response (404); an unknown ``previous_response_id`` is a bad parameter (400)."""
    if exc.kind == "model":
        return model_not_found(exc)
    if exc.kind == "response":
        return ApiError(404, "RESPONSE_NOT_FOUND", f"Response with id '{exc.ident}' not found.",
                        param="response_id", code="response_not_found")
    if exc.kind == "previous response":
        return ApiError(400, "INVALID_PARAMETER", f"Previous response with id '{exc.ident}' not found.",
                        param=exc.field, code="previous_response_not_found")
    return None


def insufficient_credits(exc: InsufficientFunds) -> ApiError:
    message = ("You have run out of credits." if exc.balance <= 0 else
               f"You do not have enough credits for this request: it costs ${exc.amount:.9f}, "
               f"the balance is ${exc.balance:.9f}.")
    return ApiError(402, "INSUFFICIENT_CREDITS", message, code="insufficient_credits")


def api_error(exc: Exception) -> ApiError | None:
    """The documented error for a domain error (None: not one of the domain's)."""
    if isinstance(exc, InvalidInput):
        return invalid_input(exc)
    if isinstance(exc, NotFound):
        return not_found(exc)
    if isinstance(exc, PolicyViolation):
        return ApiError(403, "SECURITY_VIOLATION", exc.message, param=exc.field, details=exc.details,
                        code="security_violation")
    if isinstance(exc, InsufficientFunds):
        return insufficient_credits(exc)
    if isinstance(exc, RateLimited):
        return rate_limited(exc)
    return None


#: ``handler`` with the domain's errors raised as their :class:`ApiError` (rendered by the app).
answers_domain_errors = answering(api_error)
