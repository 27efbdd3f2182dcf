"""The two Skytells error formats, rendered from one :class:`~mockserver.core.errors.ApiError`, and the answers
both APIs give to the domain errors they share (an unknown model, a full rate-limit window).

* Prediction API (and Models API): top-level ``error_id`` and ``message`` as the docs'
  ``parse_error()`` reads them, plus the nested ``error`` object (``error_id``, ``message``,
  ``details``, ``http_status``) and ``status: false`` / ``response`` that the official Python and
  TypeScript SDKs read. One body serves both readers.
* Inference API: OpenAI-compatible ``{"error": {message, type, code, error_id, status, param,
  request_id, details}}``.
"""

from __future__ import annotations

import json
import math
from typing import Any

from mockserver.core.errors import ApiError, NotFound
from mockserver.skytells.ratelimit import WINDOW_SECONDS, RateLimited

INFERENCE_PATHS = ("/v1/chat/completions", "/v1/responses", "/v1/embeddings")

#: OpenAI-style ``type`` by HTTP status (402 follows the Skytells docs' example).
INFERENCE_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "authorization_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    409: "conflict_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}


def is_inference_path(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in INFERENCE_PATHS)


def _details_text(error: ApiError) -> str:
    if error.details is None:
        return error.message
    if isinstance(error.details, str):
        return error.details
    if isinstance(error.details, list) and all(isinstance(d, str) for d in error.details):
        return "; ".join(error.details)
    return json.dumps(error.details, separators=(",", ":"))


def prediction_error_body(error: ApiError, request_id: str) -> dict[str, Any]:
    return {
        "status": False,
        "error_id": error.error_id,
        "message": error.message,
        "response": error.message,
        "error": {
            "error_id": error.error_id,
            "message": error.message,
            "details": _details_text(error),
            "http_status": error.status,
            "param": error.param,
            "request_id": request_id,
        },
    }


def inference_error_body(error: ApiError, request_id: str) -> dict[str, Any]:
    status = error.status
    error_type = error.type or INFERENCE_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {
        "error": {
            "message": error.message,
            "type": error_type,
            "code": error.code or error.error_id.lower(),
            "error_id": error.error_id,
            "status": status,
            "param": error.param,
            "request_id": request_id,
            "details": error.details,
        }
    }


def render(error: ApiError, path: str, request_id: str) -> dict[str, Any]:
    """The body for ``error`` in the format of the API that owns ``path``."""
    if is_inference_path(path):
        return inference_error_body(error, request_id)
    return prediction_error_body(error, request_id)


# -- answers to the domain errors both APIs share ------------------------------------------------


def model_not_found(error: NotFound) -> ApiError:
    """404 ``MODEL_NOT_FOUND`` naming the close namespaces."""
    names = error.suggestions
    hint = ("Did you mean: " + ", ".join(names) + "? See GET /v1/models for every namespace." if names
            else "See GET /v1/models for every model namespace.")
    return ApiError(404, "MODEL_NOT_FOUND", f"Model '{error.ident}' was not found", param=error.field, details=hint)


def rate_limited(error: RateLimited) -> ApiError:
    """429 ``RATE_LIMIT_EXCEEDED`` with ``Retry-After``, ``retry-after-ms`` and the ``x-ratelimit-*`` headers."""
    decision = error.decision
    retry_ms = max(1, math.ceil(decision.retry_after * 1000))
    return ApiError(
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
