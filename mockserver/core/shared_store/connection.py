"""Reaching the shared store: a ``redis://`` (``rediss://``, ``unix://``) URL, checked at start-up."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from mockserver.core.store import StoreUnavailable

T = TypeVar("T")

#: Real seconds to wait for the store when connecting or answering, before giving up (the calls are synchronous:
#: a store that hangs holds the event loop this long, then the request is a 503).
TIMEOUT = 2.0


def connect(url: str, single: bool = False) -> redis.Redis:
    """A client for ``url`` that answered a PING; :class:`StoreUnavailable` (naming the URL) if it does not.

    ``single``: its commands go over one connection (under a lock), sparing each command a trip through the
    connection pool (about a quarter of a short command's CPU time in redis-py 8); pipelines, transactions and
    subscriptions still take connections of the pool. Not for blocking commands.
    """
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT,
                                      health_check_interval=30, retry=Retry(NoBackoff(), 1),
                                      single_connection_client=single)
        client.ping()
    except (redis.RedisError, ValueError, OSError) as exc:
        raise StoreUnavailable(f"cannot reach the store at {url}: {exc}") from None
    return client


#: What a store that went away raises in the client.
GONE = (redis.ConnectionError, redis.TimeoutError)


def translated(cls: type[T]) -> type[T]:
    """Class decorator: the public methods raise :class:`StoreUnavailable` when Redis is unreachable, which the
    request boundary answers with a 503 in the API's own format (redis-py reconnects on the next call)."""
    for name, method in list(vars(cls).items()):
        if callable(method) and not name.startswith("_"):
            setattr(cls, name, _translating(method))
    return cls


def _translating(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except GONE as exc:
            raise StoreUnavailable(f"the shared store is unreachable: {exc}") from exc

    return call
