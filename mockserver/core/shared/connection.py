"""Reaching the shared store: a ``redis://`` (``rediss://``, ``unix://``) URL, checked at start-up."""

from __future__ import annotations

import redis

from mockserver.core.store import StoreUnavailable

#: Real seconds to wait for the store when connecting or answering, before giving up.
TIMEOUT = 5.0


def connect(url: str) -> redis.Redis:
    """A client for ``url`` that answered a PING; :class:`StoreUnavailable` (naming the URL) if it does not."""
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT,
                                      health_check_interval=30)
        client.ping()
    except (redis.RedisError, ValueError, OSError) as exc:
        raise StoreUnavailable(f"cannot reach the store at {url}: {exc}") from None
    return client
