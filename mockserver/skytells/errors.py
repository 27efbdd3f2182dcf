"""The two Skytells error formats, rendered from one :class:`~mockserver.core.errors.ApiError`.

* Prediction API (and Models API): top-level ``error_id`` and ``message`` as the docs'
  ``parse_error()`` reads them, plus the nested ``error`` object (``error_id``, ``message``,
  ``details``, ``http_status``) and ``status: false`` / ``response`` that the official Python and
  TypeScript SDKs read. One body serves both readers.
* Inference API: OpenAI-compatible ``{"error": {message, type, code, error_id, status, param,
  request_id, details}}``.
"""

from __future__ import annotations

import json
from typing import Any

from mockserver.core.errors import ApiError

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
