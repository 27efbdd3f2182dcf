"""The GateAI error format, rendered from one :class:`~mockserver.core.errors.ApiError`.

The doc shows one error body, ``GET /v1/models/seedance`` ->
``{"error": "Model not found", "suggestions": ["seedance-2.0"]}``, and names the codes
``PROMPT_TOO_LONG``, ``QUANTITY_TOO_HIGH`` and ``RATE_LIMITED``. Every error is therefore

    {"error": <message>, "code": <CODE>, "param"?: <field>, "suggestions"?: [...],
     "details"?: {...}, "request_id": "req_…"}

``error`` is always the human-readable message (as in the doc's example) and ``code`` the stable id.
"""

from __future__ import annotations

from typing import Any

from mockserver.core.errors import ApiError

#: Core (shared) ids renamed to GateAI's vocabulary.
RENAMED = {
    "INVALID_INPUT": "INVALID_REQUEST",
    "RATE_LIMIT_EXCEEDED": "RATE_LIMITED",
    "SECURITY_VIOLATION": "FORBIDDEN",
}


def code_of(error: ApiError) -> str:
    return RENAMED.get(error.error_id, error.error_id)


def render(error: ApiError, path: str, request_id: str) -> dict[str, Any]:
    """The body for ``error`` (``path`` is unused: GateAI has one format)."""
    body: dict[str, Any] = {"error": error.message, "code": code_of(error)}
    details = error.details
    if isinstance(details, dict):
        if "suggestions" in details:
            body["suggestions"] = details["suggestions"]
        # suggestions are lifted to the top (as the doc shows them); a repeat of ``param`` is dropped
        details = {key: value for key, value in details.items()
                   if key != "suggestions" and not (key == "param" and value == error.param)}
    if error.param:
        body["param"] = error.param
    if details:
        body["details"] = details
    body["request_id"] = request_id
    return body


def rate_limited(message: str, retry_after: str, details: dict[str, Any]) -> ApiError:
    """429 ``RATE_LIMITED`` with ``Retry-After`` (whole seconds)."""
    return ApiError(429, "RATE_LIMITED", message, details={**details, "retry_after": int(retry_after)},
                    headers={"Retry-After": retry_after})
