"""Reaching the shared store: a ``redis://`` (``rediss://``, ``unix://``) URL, checked at start-up."""

from __future__ import annotations

import contextlib
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


class Announcements:
    """A subscription to ``channel``, polled without blocking: did anything arrive since the last look?

    For a value every process caches until a change is announced (the clock's anchor): subscribe, then read the
    value; later, :meth:`arrived` (a poll of the socket, no round trip) says whether to read it again. Redis
    writes a message to every subscriber in the same turn of its event loop as its answer to the command that
    published it (sometimes just after that answer): a command of the publisher's answered after it comes later.
    """

    def __init__(self, client: redis.Redis, channel: str) -> None:
        self._pubsub = client.pubsub()
        try:
            self._pubsub.subscribe(channel)
            confirmed = self._pubsub.get_message(timeout=TIMEOUT)  # subscribed before the value is read
        except BaseException:
            self.close()
            raise
        if confirmed is None or confirmed["type"] != "subscribe":
            self.close()
            raise redis.ConnectionError(f"no confirmation of the subscription to {channel}")

    def arrived(self) -> bool:
        """True if a message was waiting (the messages are drained); :data:`GONE` if the subscription broke."""
        connection = self._pubsub.connection
        if connection is None:
            raise redis.ConnectionError("the subscription is closed")
        if not connection.can_read(timeout=0):
            return False
        while self._pubsub.get_message(timeout=0) is not None:
            pass
        return True

    def close(self) -> None:
        with contextlib.suppress(redis.RedisError, OSError):
            self._pubsub.close()


class ChangeWatch:
    """Whether a value this process keeps from Redis may have changed since it was read: an
    :class:`Announcements` subscription to ``channel``, made before the first read and made again after it broke
    (no subscription counts as a change)."""

    def __init__(self, client: redis.Redis, channel: str) -> None:
        self.client, self.channel = client, channel
        self._subscription: Announcements | None = None

    def changed(self) -> bool:
        """True if a change may have come since the last :meth:`before_read` (a poll; no round trip)."""
        if self._subscription is None:
            return True
        try:
            return self._subscription.arrived()
        except GONE:
            self.drop()
            return True

    def before_read(self) -> None:
        """Call just before reading the value: drains what arrived and subscribes if need be, so a change made
        after the read is announced."""
        self.changed()
        if self._subscription is None:
            self._subscription = Announcements(self.client, self.channel)

    def drop(self) -> None:
        """Let go of the subscription (the next :meth:`changed` says True)."""
        if self._subscription is not None:
            self._subscription.close()
            self._subscription = None
