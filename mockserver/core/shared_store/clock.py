"""The clock's one shared value: an :class:`~mockserver.core.clock.Anchor` under ``<prefix>clock``.

Every change is an optimistic transaction (``WATCH``/``MULTI``) that also announces itself on the channel of the
same name. Each process keeps the anchor it last read and reads it again only when something arrived on a
subscription of its own to that channel: "what time is it" costs a ``poll`` of that socket, not a round trip.
Redis writes the announcement to every subscriber in the same turn of its event loop as its answer to the ``EXEC``
that made the change, and the changing process answers its own client only after one more round trip
(:meth:`SharedState.settle <mockserver.core.shared_store.SharedState.settle>`), so once a client has seen a change
acknowledged by one process, every other process on the same host sees it on its next read (across hosts, as far
as the network keeps that order). A broken subscription (Redis restarted) reads again
on every call until it is back. A second subscription, on a daemon thread (:class:`ClockListener`), wakes the
process's waiters (``await: true``, status streams, webhook retries) so they look at the clock again. The first
process to start sets the anchor; later ones join the clock as it is. While the store is away, reading the time
goes on from the last anchor read (changing it is a 503); a store that comes back empty starts the clock again
from the configured start. Wall time is epoch seconds (``time.time``): processes on several hosts need
synchronised clocks (NTP).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable

import orjson
import redis

from mockserver.core.clock import Anchor
from mockserver.core.shared_store.connection import GONE, ChangeWatch, translated

LOG = logging.getLogger("mockserver.store")
#: Real seconds between attempts to read the clock while the store is away (reads use the last anchor meanwhile).
RETRY_AFTER = 1.0


def _dump(anchor: Anchor) -> bytes:
    return orjson.dumps({"virtual": anchor.virtual, "wall": anchor.wall, "mode": anchor.mode,
                         "speed": anchor.speed, "autojump": anchor.autojump, "generation": anchor.generation})


def _load(raw: bytes) -> Anchor:
    return Anchor(**orjson.loads(raw))


@translated
class RedisAnchor:
    """An :class:`~mockserver.core.clock.AnchorCell` in Redis, read again only when a change was announced."""

    def __init__(self, client: redis.Redis, prefix: str, initial: Anchor) -> None:
        self.client, self.name, self.initial = client, f"{prefix}clock", initial
        self._lock = threading.Lock()
        self._changes = ChangeWatch(client, self.name)
        self._fresh = False  # _last is the anchor in Redis as of now (no change announced since it was read)
        self._heard = 0  # changes heard of by the listener thread (see stale)
        if client.set(self.name, _dump(initial), nx=True):  # start a clock if none runs; else join it
            client.publish(self.name, b"changed")  # (a flushed store: processes still on the old clock look again)
        self._last = initial
        self._retry_at = 0.0  # while the store is away: when to ask it again (monotonic seconds)

    def load(self) -> Anchor:
        """The shared anchor; while the store is away, the last one read (time keeps running on it)."""
        with self._lock:
            if self._retry_at and time.monotonic() < self._retry_at:
                return self._last
            if self._fresh and not self._changes.changed():
                return self._last
            heard = self._heard
            try:
                self._last = self._read()
            except GONE:
                self._retry_at = time.monotonic() + RETRY_AFTER
                self._forget_changes()
                return self._last
            self._retry_at, self._fresh = 0.0, heard == self._heard  # (not if a change was heard meanwhile)
            return self._last

    def stale(self) -> None:
        """Read the anchor again on the next :meth:`load` (:class:`ClockListener` heard of a change before the
        waiters it wakes look at the clock: this process's own subscription may not have it yet)."""
        self._heard += 1
        self._fresh = False

    def _read(self) -> Anchor:
        """The anchor in Redis, read after every announcement so far was drained: a change made after this read
        is announced to this process."""
        self._changes.before_read()
        raw = self.client.get(self.name)
        if raw is None:  # the store lost its data (flushed, or restarted without persistence): start again
            if self.client.set(self.name, _dump(self.initial), nx=True):
                self.client.publish(self.name, b"changed")
            raw = self.client.get(self.name)
        return _load(raw)

    def _forget_changes(self) -> None:
        self._fresh = False
        self._changes.drop()

    def close(self) -> None:
        """Drop the subscription (the client's connections are the caller's)."""
        with self._lock:
            self._forget_changes()

    def change(self, update: Callable[[Anchor], Anchor | None]) -> Anchor:
        with self.client.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(self.name)
                    raw = pipe.get(self.name)
                    current = self.initial if raw is None else _load(raw)
                    new = update(current)
                    if new is None:
                        pipe.unwatch()
                        return current
                    pipe.multi()
                    pipe.set(self.name, _dump(new))
                    pipe.publish(self.name, b"changed")
                    pipe.execute()
                    return new
                except redis.WatchError:
                    continue


class ClockListener:
    """A daemon thread calling ``notify`` whenever any process changes the shared clock."""

    def __init__(self, client: redis.Redis, prefix: str, notify: Callable[[], None]) -> None:
        self._client, self._channel = client, f"{prefix}clock"
        self._pubsub = client.pubsub(ignore_subscribe_messages=True)
        self._pubsub.subscribe(self._channel)
        self._notify = notify
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mockserver-clock-listener", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                message = self._pubsub.get_message(timeout=1.0)
            except (redis.RedisError, OSError, ValueError) as exc:
                if self._stopped.is_set():
                    return
                LOG.warning("shared clock: listening failed (%s); retrying", exc)
                self._stopped.wait(1.0)
                continue
            if message is not None:
                self._notify()

    def close(self) -> None:
        self._stopped.set()
        with contextlib.suppress(redis.RedisError, OSError):
            self._client.publish(self._channel, b"closing")  # ends the wait at once (others just look again)
        self._thread.join(5)
        with contextlib.suppress(redis.RedisError, OSError):
            self._pubsub.close()
