"""Who may use the control plane.

* An admin token is configured (``--admin-token`` / ``MOCKSERVER_ADMIN_TOKEN``): every caller must
  send it, as ``Authorization: Bearer <token>`` or ``X-Mock-Admin-Token: <token>``.
* No token, server bound to a loopback address (the default): loopback callers only.
* No token, server bound elsewhere (``0.0.0.0`` in Docker): a random token is made at start-up and
  printed, since callers then arrive from other hosts.

``GET /_mock/health`` stays open: it only reports liveness and the clock.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets

from starlette.requests import Request

from mockserver.core.errors import ApiError
from mockserver.settings import Settings

TOKEN_HEADER = "x-mock-admin-token"


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def effective_token(settings: Settings) -> str | None:
    """The token callers must present (None: loopback-only access without a token)."""
    if settings.admin_token:
        return settings.admin_token
    if is_loopback(settings.host):
        return None
    return "mock-admin-" + secrets.token_urlsafe(18)


def presented_token(request: Request) -> str | None:
    token = request.headers.get(TOKEN_HEADER)
    if token:
        return token.strip()
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def check(request: Request, token: str | None) -> None:
    """Raise 401/403 unless the caller may use the control plane."""
    if token is not None:
        given = presented_token(request)
        if given is None:
            raise ApiError(401, "ADMIN_TOKEN_REQUIRED",
                           "The control plane needs the admin token: send X-Mock-Admin-Token: <token>")
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise ApiError(403, "ADMIN_TOKEN_INVALID", "The admin token does not match")
        return
    client = request.client.host if request.client else None
    if not is_loopback(client):
        raise ApiError(403, "LOOPBACK_ONLY",
                       f"The control plane only answers loopback callers (you are {client}); "
                       "start the server with --admin-token to allow others")
