"""Receivers that are never sent to: names reserved for documentation, or hosts outside an allow-list."""

from __future__ import annotations

from collections.abc import Sequence

import httpx

#: Names reserved for documentation (RFC 2606 / RFC 6761): the docs' ``https://example.com/webhook``
#: has no receiver, so nothing is sent there (the attempt is journaled as ``blocked``).
RESERVED_DOMAINS = ("example.com", "example.net", "example.org")
RESERVED_TLDS = ("example", "invalid", "test")


def blocked_reason(url: str, allowed_hosts: Sequence[str] = ()) -> str | None:
    """Why a delivery to ``url`` is not attempted (None: it may be sent)."""
    host = (httpx.URL(url).host or "").lower().rstrip(".")
    if allowed_hosts:
        if host not in {h.lower() for h in allowed_hosts}:
            return f"host {host!r} is not in webhook_hosts ({', '.join(allowed_hosts)})"
        return None
    if host in RESERVED_DOMAINS or host.endswith(tuple("." + d for d in RESERVED_DOMAINS)):
        return f"{host!r} is a domain reserved for documentation (RFC 2606); nothing was sent"
    if host.rsplit(".", 1)[-1] in RESERVED_TLDS:
        return f"{host!r} is under a reserved top-level domain (RFC 2606); nothing was sent"
    return None
