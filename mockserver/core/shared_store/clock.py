"""The clock's one shared value: an :class:`~mockserver.core.clock.Anchor` under ``<prefix>clock``.

Every process reads it on every "what time is it" (one ``GET``), changes it in an optimistic transaction
(``WATCH``/``MULTI``) and announces each change on the channel of the same name, which every process listens to
so its waiters (``await: true``, status streams, webhook retries) look at the clock again. The first process to
start sets it; later ones join the clock as it is. While the store is away, reading the time goes on from the last
anchor read (changing it is a 503); a store that comes back empty starts the clock again from the configured
start. Wall time is epoch seconds (``time.time``): processes on several hosts need synchronised clocks (NTP).
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
from mockserver.core.shared_store.connection import GONE, translated

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
    """An :class:`~mockserver.core.clock.AnchorCell` in Redis."""

    def __init__(self, client: redis.Redis, prefix: str, initial: Anchor) -> None:
        self.client, self.name, self.initial = client, f"{prefix}clock", initial
        client.set(self.name, _dump(initial), nx=True)  # join a running clock; start one if there is none
        self._last = initial
        self._retry_at = 0.0  # while the store is away: when to ask it again (monotonic seconds)

    def load(self) -> Anchor:
        """The shared anchor; while the store is away, the last one read (time keeps running on it)."""
        if self._retry_at and time.monotonic() < self._retry_at:
            return self._last
        try:
            raw = self.client.get(self.name)
            if raw is None:  # the store lost its data (flushed, or restarted without persistence): start again
                self.client.set(self.name, _dump(self.initial), nx=True)
                raw = self.client.get(self.name)
        except GONE:
            self._retry_at = time.monotonic() + RETRY_AFTER
            return self._last
        self._retry_at = 0.0
        self._last = _load(raw)
        return self._last

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
