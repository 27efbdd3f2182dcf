"""Records a process may answer from memory until Redis says they changed (Redis's client-side caching).

The store's reads go over one connection (the *hot* one). With ``CLIENT TRACKING ON REDIRECT <id>`` on it, Redis
remembers which keys that connection read, and when any client changes one of them (or it is evicted, or the
database is flushed) it sends the key's name to our subscriber connection ``<id>``, subscribed to
``__redis__:invalidate``. This is the RESP2 form of tracking, which Redis has had since 6.0 (redis-py's own cache
needs RESP3 and Redis 7.4; Debian's Redis is 7.0).

Before a kept record is used, the subscriber's socket is polled (no round trip) and what arrived is applied.
Redis writes an invalidation in the same turn of its event loop as its answer to the change, and the process that
changed a record makes one more round trip before its client has the answer (an API request's journal entry, a
control-plane change's :meth:`SharedState.settle <mockserver.core.shared_store.SharedState.settle>`), so once that
client has its answer, a request to this process sees the change. Kept records are dropped, and nothing is kept,
until tracking is set up again whenever either connection is made anew or breaks (a hot connection made anew
tracks nothing); the hot connection is polled too, so one that Redis closed is noticed before anything kept is used.

Writes by this process drop the written key at once (Redis's own message for them may come a moment after the
reply). A write of this process's that drops *other* keys (retention evicting an owner's oldest record) is
announced like any other change.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any

import redis

from mockserver.core.shared_store.connection import GONE

LOG = logging.getLogger("mockserver.store")
CHANNEL = "__redis__:invalidate"
#: How many records a process keeps (all are dropped when it is full; the next reads keep them again).
KEPT_RECORDS = 4096
#: Real seconds before setting tracking up again after it could not be (a Redis that refuses ``CLIENT TRACKING``
#: is not asked on every read).
RETRY_SECONDS = 5.0
#: What :meth:`TrackedReads.lookup` gives for a record it does not keep.
MISSING: Any = object()


class TrackedReads:
    """The records read over ``hot`` (a single-connection client), kept while Redis tracks them for us."""

    def __init__(self, hot: redis.Redis, size: int = KEPT_RECORDS) -> None:
        self.hot, self.size = hot, size
        self._kept: dict[str, Any] = {}
        self._watch: Any = None  # the subscriber connection (a redis-py Connection)
        self.subscriber_id: int | None = None  # its client id in Redis
        self._tracking = False
        self._next_start = 0.0  # time.monotonic() from which setting tracking up may be tried again
        self._lock = threading.RLock()  # the store serves the event loop and worker threads (see lookup)
        hot.connection.register_connect_callback(self._hot_connected)  # type: ignore[union-attr]

    def _hot_connected(self, connection: Any) -> None:
        """A hot connection made anew tracks nothing: drop what is kept; tracking is set up on the next read."""
        with self._lock:
            self._tracking = False
            self._kept.clear()

    # -- use ----------------------------------------------------------------------------------

    def lookup(self, name: str) -> Any:
        """The kept record of key ``name``, or :data:`MISSING`: read it from Redis (and :meth:`keep` it)."""
        # the client's lock first (as its commands take it before a reconnection calls back into ours): the
        # poll of the hot connection must not cut into another thread's command on it
        with self.hot.single_connection_lock, self._lock:  # type: ignore[attr-defined]
            if not self._current():
                return MISSING
            return self._kept.get(name, MISSING)

    def keep(self, name: str, record: Any) -> None:
        """Keep what was just read of ``name`` over the hot connection (only while tracking is on)."""
        with self._lock:
            if not self._tracking:
                return
            if len(self._kept) >= self.size:
                self._kept.clear()
            self._kept[name] = record

    def forget(self, name: str) -> None:
        """This process is changing ``name``."""
        with self._lock:
            self._kept.pop(name, None)

    def forget_all(self) -> None:
        with self._lock:
            self._kept.clear()

    def close(self) -> None:
        with self.hot.single_connection_lock, self._lock:  # type: ignore[attr-defined]
            self._stop()

    # -- tracking -----------------------------------------------------------------------------

    def _current(self) -> bool:
        """Apply every invalidation that arrived; whether kept records may be used (sets tracking up if need be)."""
        if not self._tracking:
            if time.monotonic() >= self._next_start:
                self._start()
            return False  # nothing kept yet: the read that follows is tracked and kept
        try:
            if self._hot_has_news():
                self._stop()  # the hot connection was closed (or told the subscriber is gone): tracking is over
                return False
            while self._watch.can_read(timeout=0):
                self._apply(self._watch.read_response())
        except GONE as exc:
            LOG.warning("store: tracking of cached records broke (%s); reading from Redis until it is back", exc)
            self._stop()
            return False
        return True

    def _hot_has_news(self) -> bool:
        """Whether the hot connection, idle between commands, has something to read: its end (closed by Redis,
        which forgets what it tracked for it) or a ``tracking-redir-broken`` message."""
        connection = self.hot.connection
        return connection is None or connection.can_read(timeout=0)  # type: ignore[no-any-return]

    def _apply(self, message: Any) -> None:
        if not isinstance(message, list) or len(message) != 3 or message[0] != b"message":
            return
        names = message[2]
        if names is None:  # the database was flushed
            self._kept.clear()
            return
        for name in names:
            self._kept.pop(name.decode() if isinstance(name, bytes) else name, None)

    def _start(self) -> None:
        """Subscribe a connection of our own to invalidations and point the hot connection's tracking at it."""
        self._stop()
        pool = self.hot.connection_pool  # RESP2: the messages come as plain pub/sub arrays (redis-py speaks RESP3)
        watch = pool.connection_class(**{**pool.connection_kwargs, "protocol": 2})
        try:
            watch.connect()
            watch.send_command("CLIENT", "ID")
            client_id = int(watch.read_response())
            watch.send_command("SUBSCRIBE", CHANNEL)
            watch.read_response()
            self.hot.execute_command("CLIENT", "TRACKING", "OFF")
            self.hot.execute_command("CLIENT", "TRACKING", "ON", "REDIRECT", client_id)
        except (redis.RedisError, OSError) as exc:
            with contextlib.suppress(redis.RedisError, OSError):
                watch.disconnect()
            LOG.warning("store: cannot track cached records (%s); reading from Redis, trying again in %.0f s", exc,
                        RETRY_SECONDS)
            self._next_start = time.monotonic() + RETRY_SECONDS
            return
        self._watch, self.subscriber_id, self._tracking = watch, client_id, True

    def _stop(self) -> None:
        self._tracking = False
        self._kept.clear()
        if self._watch is not None:
            with contextlib.suppress(redis.RedisError, OSError):
                self._watch.disconnect()
            self._watch, self.subscriber_id = None, None
