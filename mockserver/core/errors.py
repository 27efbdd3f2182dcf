"""Errors: the domain's (:class:`DomainError` and its kinds, no HTTP in them) and the HTTP answer (:class:`ApiError`).

Domain modules raise a :class:`DomainError` in their own words; each API's mapping layer (its routes'
``*_errors`` module) turns them into an :class:`ApiError`, which the API renders in its documented format.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

#: Why a value is invalid (:attr:`InvalidInput.reason`); each API picks its error id and code from it.
INVALID = "invalid"  # breaks a rule of its own: type, range, format, a reference to nothing
MISSING = "missing"  # required and absent
UNKNOWN = "unknown"  # a field the operation does not know
UNSUPPORTED = "unsupported"  # a field, value or file kind the operation knows but does not serve
ELSEWHERE = "elsewhere"  # names something served by another operation (a model on another endpoint)
TOO_LONG = "too_long"  # text longer than its limit
TOO_MANY = "too_many"  # a count above its limit


class DomainError(Exception):
    """A request the domain refuses, in the domain's words; each API maps it onto its own HTTP answer."""


class InvalidInput(DomainError):
    """A value of the request breaks a rule.

    ``field`` is its path in the request (``messages[0].role``, ``input.prompt``; None: the request as a whole),
    ``message`` the sentence a client reads, ``reason`` one of the constants above and ``details`` extra facts.
    """

    def __init__(self, field: str | None, message: str, reason: str = INVALID, details: Any = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.reason = reason
        self.details = details


class NotFound(DomainError):
    """The request names a ``kind`` (``"model"``, ``"response"`` ...) ``ident`` that does not exist for the caller.

    ``field`` is where the request names it (None: the path); ``suggestions`` are close existing names.
    """

    def __init__(self, kind: str, ident: Any, field: str | None = None, suggestions: Sequence[str] = ()) -> None:
        super().__init__(f"{kind} {ident!r} was not found")
        self.kind = kind
        self.ident = ident
        self.field = field
        self.suggestions = tuple(suggestions)


class PolicyViolation(DomainError):
    """The request asks for something a safety policy forbids (a private address, a jailbreak attempt)."""

    def __init__(self, field: str | None, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.details = details


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
