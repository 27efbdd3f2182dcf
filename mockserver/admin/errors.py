"""The control plane's own error format: ``{"error": {"code", "message", "param"?}, "request_id"}``."""

from __future__ import annotations

from typing import Any

from mockserver.core.errors import ApiError


def render(error: ApiError, path: str, request_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {"code": error.error_id, "message": error.message}
    if error.param:
        body["param"] = error.param
    if error.details is not None:
        body["details"] = error.details
    return {"error": body, "request_id": request_id}


def bad_request(message: str, param: str | None = None) -> ApiError:
    return ApiError(400, "INVALID_REQUEST", message, param=param)


def not_found(message: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", message)


def journal_off() -> ApiError:
    """A read of the request journal on a server started without one (``journal_size`` 0)."""
    return ApiError(409, "JOURNAL_OFF", "The request journal is off on this server (journal_size 0: "
                    "--journal-size / MOCKSERVER_JOURNAL_SIZE); start it with a size above 0 to record requests")
