"""One error type for every API; each API renders it in its own documented format."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ApiError(Exception):
    """An error the mock answers with.

    ``error_id`` is the stable machine-readable id (``INVALID_INPUT``, ``RATE_LIMITED`` ...);
    renderers map it onto their API's shape. ``param`` names the offending field when there is
    one; ``details`` carries extra structured context; ``headers`` are added to the response
    (for example ``Retry-After``).
    """

    status: int
    error_id: str
    message: str
    param: str | None = None
    details: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    code: str | None = None
    type: str | None = None

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.status} {self.error_id}: {self.message}"


def http_error_id(status: int) -> str:
    """A generic error id for a bare HTTP status (unknown route, bad method ...)."""
    return {
        400: "INVALID_INPUT",
        401: "UNAUTHORIZED",
        402: "PAYMENT_REQUIRED",
        403: "SECURITY_VIOLATION",
        404: "NOT_FOUND",
        405: "METHOD_NOT_ALLOWED",
        413: "PAYLOAD_TOO_LARGE",
        415: "UNSUPPORTED_MEDIA_TYPE",
        429: "RATE_LIMIT_EXCEEDED",
    }.get(status, "INTERNAL_ERROR" if status >= 500 else "INVALID_INPUT")
